import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSessionToken } from '../src/domain/sessions.js';
import { CasePageDocument } from './generated/graphql.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

let t: TestApp;
let statements: string[] = [];
let token: string;

beforeAll(async () => {
  t = await createTestApp({}, { onQuery: (sql) => statements.push(sql) });
  const creator = await createUser(t.db, { handle: 'creator' });
  const viewer = await createUser(t.db, { handle: 'viewer' });
  token = (await issueSessionToken(t.db, t.sessions, viewer.id)).token;
  const authors = await Promise.all(Array.from({ length: 3 }, (_, i) => createUser(t.db, { handle: `author_${i}` })));
  const base = Date.now() - 3600_000;
  for (let i = 0; i < 50; i++) {
    const closed = i % 2 === 1;
    const c = await createCase(t.db, { status: closed ? 'CLOSED' : 'OPEN', creatorId: creator.id, opensAt: new Date(base + i * 1000) });
    await t.db.argument.createMany({
      data: authors.map((a, j) => ({ caseId: c.id, userId: a.id, side: j % 2 ? 'A' : 'B', body: `Argument ${j} on case ${i}, long enough.`, upvoteCount: j })),
    });
    await t.db.vote.createMany({ data: [viewer, ...authors].map((u) => ({ caseId: c.id, userId: u.id, side: 'A' as const })) });
    if (closed) {
      await t.db.caseSettlement.create({
        data: { caseId: c.id, pool: 1000, winningSide: 'A', winnerCount: 4, participantCount: 4, votesA: 4, votesB: 0, paid: 0, treasury: 1000 },
      });
    }
  }
});
afterAll(() => t.close());

async function countStatements(first: number) {
  statements = [];
  const result = await t.gql(CasePageDocument, { first }, { token });
  expect(result.errors).toBeUndefined();
  return { result, count: statements.length };
}

describe('a page of cases with their arguments', () => {
  it('costs a fixed number of SQL statements, however many cases it holds', async () => {
    const small = await countStatements(5);
    const large = await countStatements(50);
    expect(large.result.data!.cases.edges).toHaveLength(50);
    expect(large.count).toBe(small.count);
    expect(small.count).toBeGreaterThan(0); // the counter sees the app's statements
    expect(large.count).toBeLessThanOrEqual(8);
  });

  it('resolves every nested field correctly', async () => {
    const { result } = await countStatements(50);
    const nodes = result.data!.cases.edges.map((e) => e.node);
    for (const node of nodes) {
      expect(node.creator?.handle).toBe('creator');
      expect(node.myVote).toEqual({ side: 'A' });
      expect(node.voteCount).toBe(4);
      expect(node.arguments.edges.map((e) => e.node.upvoteCount)).toEqual([2, 1, 0]);
      if (node.status === 'CLOSED') {
        expect(node).toMatchObject({ votesA: 4, votesB: 0, crowdSide: 'A', ruling: { side: 'A' } });
      } else {
        expect(node).toMatchObject({ votesA: null, votesB: null, crowdSide: null, ruling: null });
      }
    }
  });
});
