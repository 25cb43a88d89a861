import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSessionToken } from '../src/domain/sessions.js';
import { CaseArgumentsDocument, CastVoteDocument, SubmitArgumentDocument, UpvoteArgumentDocument } from './generated/graphql.js';
import { createTestApp, errorCode, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function signedInUser(handle?: string) {
  const user = await createUser(t.db, handle ? { handle } : {});
  return { user, token: (await issueSessionToken(t.db, t.sessions, user.id)).token };
}

const body = (n: number) => `Argument number ${n}: honesty outweighs comfort here.`;

describe('castVote', () => {
  it('records one vote and refuses a second or a change, leaving the first', async () => {
    const { user, token } = await signedInUser();
    const c = await createCase(t.db);
    const first = await t.gql(CastVoteDocument, { caseId: encodeGlobalID('Case', c.id), side: 'A' }, { token });
    expect(first.data!.castVote.side).toBe('A');
    for (const side of ['A', 'B'] as const) {
      expect(errorCode(await t.gql(CastVoteDocument, { caseId: c.id, side }, { token }))).toBe('ALREADY_VOTED');
    }
    expect(await t.db.vote.findMany({ where: { caseId: c.id }, select: { userId: true, side: true } })).toEqual([
      { userId: user.id, side: 'A' },
    ]);
  });

  it('refuses closed, expired, not yet open and unknown cases, and anonymous users', async () => {
    const { token } = await signedInUser();
    const closed = await createCase(t.db, { status: 'CLOSED' });
    const expired = await createCase(t.db, { status: 'OPEN', opensAt: new Date(Date.now() - 3 * 86400_000) });
    const pending = await createCase(t.db, { status: 'PENDING' });
    expect(errorCode(await t.gql(CastVoteDocument, { caseId: closed.id, side: 'A' }, { token }))).toBe('CASE_CLOSED');
    expect(errorCode(await t.gql(CastVoteDocument, { caseId: expired.id, side: 'A' }, { token }))).toBe('CASE_CLOSED');
    expect(errorCode(await t.gql(CastVoteDocument, { caseId: pending.id, side: 'A' }, { token }))).toBe('CASE_NOT_OPEN');
    expect(errorCode(await t.gql(CastVoteDocument, { caseId: '8a1f5c2e-1111-4c1e-9a53-0f6f1b2f9d11', side: 'A' }, { token }))).toBe('NOT_FOUND');
    expect(errorCode(await t.gql(CastVoteDocument, { caseId: 'garbage', side: 'A' }, { token }))).toBe('NOT_FOUND');
    const open = await createCase(t.db);
    expect(errorCode(await t.gql(CastVoteDocument, { caseId: open.id, side: 'A' }))).toBe('UNAUTHENTICATED');
    expect(await t.db.vote.count({ where: { caseId: { in: [closed.id, expired.id, pending.id, open.id] } } })).toBe(0);
  });

  it('settles 20 concurrent votes of one user into exactly one', async () => {
    const { user, token } = await signedInUser();
    const c = await createCase(t.db);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.gql(CastVoteDocument, { caseId: c.id, side: i % 2 ? 'A' : 'B' }, { token })),
    );
    expect(results.filter((r) => r.data?.castVote)).toHaveLength(1);
    expect(results.filter((r) => errorCode(r) === 'ALREADY_VOTED')).toHaveLength(19);
    expect(await t.db.vote.count({ where: { caseId: c.id, userId: user.id } })).toBe(1);
  });
});

describe('arguments', () => {
  it('accepts one argument per user and case, 20–2,000 characters', async () => {
    const { user, token } = await signedInUser('arguer');
    const c = await createCase(t.db);
    expect(errorCode(await t.gql(SubmitArgumentDocument, { caseId: c.id, side: 'A', body: 'too short' }, { token }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await t.gql(SubmitArgumentDocument, { caseId: c.id, side: 'A', body: 'x'.repeat(2001) }, { token }))).toBe('BAD_USER_INPUT');
    const ok = await t.gql(SubmitArgumentDocument, { caseId: c.id, side: 'B', body: body(1) }, { token });
    expect(ok.data!.submitArgument).toMatchObject({ side: 'B', upvoteCount: 0, author: { handle: 'arguer' } });
    expect(errorCode(await t.gql(SubmitArgumentDocument, { caseId: c.id, side: 'A', body: body(2) }, { token }))).toBe('ALREADY_ARGUED');
    expect(await t.db.argument.count({ where: { userId: user.id } })).toBe(1);
  });

  it('counts upvotes once per user, never your own, only while open', async () => {
    const author = await signedInUser();
    const c = await createCase(t.db);
    const argument = (await t.gql(SubmitArgumentDocument, { caseId: c.id, side: 'A', body: body(3) }, { token: author.token })).data!.submitArgument;
    expect(errorCode(await t.gql(UpvoteArgumentDocument, { argumentId: argument.id }, { token: author.token }))).toBe('OWN_ARGUMENT');

    const fans = await Promise.all(Array.from({ length: 5 }, () => signedInUser()));
    const results = await Promise.all(fans.map((f) => t.gql(UpvoteArgumentDocument, { argumentId: argument.id }, { token: f.token })));
    expect(results.every((r) => r.errors === undefined)).toBe(true);
    expect(errorCode(await t.gql(UpvoteArgumentDocument, { argumentId: argument.id }, { token: fans[0]!.token }))).toBe('ALREADY_UPVOTED');

    await t.db.case.update({ where: { id: c.id }, data: { status: 'CLOSED', closedAt: new Date() } });
    const late = await signedInUser();
    expect(errorCode(await t.gql(UpvoteArgumentDocument, { argumentId: argument.id }, { token: late.token }))).toBe('CASE_CLOSED');

    const stored = await t.db.argument.findFirstOrThrow({ where: { caseId: c.id } });
    expect(stored.upvoteCount).toBe(5);
    expect(await t.db.argumentUpvote.count({ where: { argumentId: stored.id } })).toBe(5);
  });

  it('lists arguments by upvotes, ties by earlier submission, and hides the crowd while open', async () => {
    const c = await createCase(t.db);
    const authors = await Promise.all(Array.from({ length: 3 }, (_, i) => signedInUser(`author_${i}`)));
    const ids: string[] = [];
    for (const [i, a] of authors.entries()) {
      await t.gql(CastVoteDocument, { caseId: c.id, side: 'A' }, { token: a.token });
      ids.push((await t.gql(SubmitArgumentDocument, { caseId: c.id, side: 'A', body: body(10 + i) }, { token: a.token })).data!.submitArgument.id);
    }
    const voter = await signedInUser();
    await t.gql(UpvoteArgumentDocument, { argumentId: ids[2]! }, { token: voter.token });
    const result = await t.gql(CaseArgumentsDocument, { id: c.id, first: 10 }, { token: authors[1]!.token });
    const view = result.data!.case!;
    expect(view.arguments.edges.map((e) => e.node.author.handle)).toEqual(['author_2', 'author_0', 'author_1']);
    expect(view).toMatchObject({ voteCount: 3, argumentCount: 3, votesA: null, votesB: null, crowdSide: null, myVote: { side: 'A' } });
  });
});
