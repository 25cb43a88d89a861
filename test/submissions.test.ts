import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSessionToken } from '../src/domain/sessions.js';
import { CasesDocument, CreateCaseDocument } from './generated/graphql.js';
import { createTestApp, errorCode, type TestApp } from './support/app.js';
import { createUser } from './support/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ CASE_SUBMISSIONS_PER_DAY: '1', CASE_REWARD_POOL: '750' });
});
afterAll(() => t.close());

const good = {
  title: 'The found wallet',
  dilemma: 'You find a wallet with 500 euros and an ID card in a park. '.repeat(5),
  sideA: 'Return everything',
  sideB: 'Keep the cash',
};

async function signedIn() {
  const user = await createUser(t.db);
  return { user, token: (await issueSessionToken(t.db, t.sessions, user.id)).token };
}

describe('createCase', () => {
  it('stores a PENDING user case that waits for the judge, unlisted until it opens', async () => {
    const { user, token } = await signedIn();
    const result = await t.gql(CreateCaseDocument, { input: { ...good, title: `  ${good.title}  ` } }, { token });
    expect(result.data!.createCase).toMatchObject({
      title: good.title,
      status: 'PENDING',
      source: 'USER',
      commitment: null,
      rewardPool: 750,
      creator: { handle: user.handle },
    });
    const listed = await t.gql(CasesDocument, { first: 50 });
    expect(listed.data!.cases.edges.map((e) => e.node.title)).not.toContain(good.title);
  });

  it('validates every field and stores nothing on bad input', async () => {
    const { user, token } = await signedIn();
    const bad = [
      { ...good, title: 'Hey' },
      { ...good, title: 'x'.repeat(141) },
      { ...good, dilemma: 'Too short to be a dilemma.' },
      { ...good, dilemma: 'x'.repeat(5001) },
      { ...good, sideA: '   ' },
      { ...good, sideB: 'y'.repeat(61) },
      { ...good, sideB: 'RETURN EVERYTHING' },
    ];
    for (const input of bad) expect(errorCode(await t.gql(CreateCaseDocument, { input }, { token }))).toBe('BAD_USER_INPUT');
    expect(await t.db.case.count({ where: { creatorId: user.id } })).toBe(0);
  });

  it('allows one submission per user per 24 hours, even when sent at once', async () => {
    const { user, token } = await signedIn();
    const results = await Promise.all(Array.from({ length: 5 }, () => t.gql(CreateCaseDocument, { input: good }, { token })));
    expect(results.filter((r) => r.data?.createCase)).toHaveLength(1);
    expect(results.filter((r) => errorCode(r) === 'RATE_LIMITED')).toHaveLength(4);
    expect(await t.db.case.count({ where: { creatorId: user.id } })).toBe(1);

    // A day later the user may submit again.
    await t.db.case.updateMany({ where: { creatorId: user.id }, data: { createdAt: new Date(Date.now() - 25 * 3600_000) } });
    expect((await t.gql(CreateCaseDocument, { input: good }, { token })).data?.createCase.status).toBe('PENDING');
  });

  it('needs a signed-in user', async () => {
    expect(errorCode(await t.gql(CreateCaseDocument, { input: good }))).toBe('UNAUTHENTICATED');
  });
});
