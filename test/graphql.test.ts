import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { BadgesDocument, CaseByIdDocument, CasesDocument, NodeByIdDocument } from './generated/graphql.js';
import { createTestApp, errorCode, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('cases', () => {
  it('lists open and closed cases newest first, pages with cursors, filters by status', async () => {
    // Every case in the list is this test's: a database of its own.
    const t = await createTestApp();
    onTestFinished(() => t.close());
    const base = Date.now() - 10 * 3600_000;
    const made = [];
    for (let i = 0; i < 5; i++) {
      made.push(await createCase(t.db, { status: i % 2 ? 'CLOSED' : 'OPEN', opensAt: new Date(base + i * 60_000) }));
    }
    await createCase(t.db, { status: 'PENDING', opensAt: new Date(base + 3600_000) });
    const newestFirst = made.map((c) => c.title).reverse();

    const page1 = await t.gql(CasesDocument, { first: 3 });
    expect(page1.errors).toBeUndefined();
    expect(page1.data!.cases.edges.map((e) => e.node.title)).toEqual(newestFirst.slice(0, 3));
    expect(page1.data!.cases.pageInfo.hasNextPage).toBe(true);

    const page2 = await t.gql(CasesDocument, { first: 3, after: page1.data!.cases.pageInfo.endCursor });
    expect(page2.data!.cases.edges.map((e) => e.node.title)).toEqual(newestFirst.slice(3));
    expect(page2.data!.cases.pageInfo.hasNextPage).toBe(false);

    const closed = await t.gql(CasesDocument, { status: 'CLOSED', first: 10 });
    expect(closed.data!.cases.edges.map((e) => e.node.status)).toEqual(['CLOSED', 'CLOSED']);
  });

  it('refuses a page larger than 100', async () => {
    const result = await t.gql(CasesDocument, { first: 101 });
    expect(result.errors?.[0]?.message).toMatch(/100/);
  });

  it('finds a case by global id or uuid, and answers null for unknown or malformed ids', async () => {
    const c = await createCase(t.db, { title: 'Lookup me' });
    const globalId = encodeGlobalID('Case', c.id);
    expect((await t.gql(CaseByIdDocument, { id: globalId })).data!.case?.title).toBe('Lookup me');
    expect((await t.gql(CaseByIdDocument, { id: c.id })).data!.case?.id).toBe(globalId);
    for (const id of [encodeGlobalID('Case', '5d5e8f2a-2b7c-4c1e-9a53-0f6f1b2f9d11'), 'nonsense', encodeGlobalID('User', c.id)]) {
      const result = await t.gql(CaseByIdDocument, { id });
      expect(result.errors).toBeUndefined();
      expect(result.data!.case).toBeNull();
    }
  });

  it('shows the ruling only once the case is closed', async () => {
    const open = await createCase(t.db, { status: 'OPEN', reasoning: 'hidden words' });
    const closed = await createCase(t.db, { status: 'CLOSED', rulingSide: 'B', reasoning: 'public words' });
    const openResult = await t.gql(CaseByIdDocument, { id: open.id });
    expect(openResult.data!.case?.ruling).toBeNull();
    expect(JSON.stringify(openResult)).not.toContain('hidden words');

    const closedResult = await t.gql(CaseByIdDocument, { id: closed.id });
    expect(closedResult.data!.case?.ruling).toEqual({
      side: 'B',
      reasoning: 'public words',
      salt: `0x${Buffer.from(closed.ruling!.salt).toString('hex')}`,
      judge: 'test',
    });
  });

  it('counts votes and arguments per case', async () => {
    const c = await createCase(t.db);
    const [u1, u2] = [await createUser(t.db), await createUser(t.db)];
    await t.db.vote.createMany({ data: [u1, u2].map((u) => ({ caseId: c.id, userId: u.id, side: 'A' as const })) });
    await t.db.argument.create({ data: { caseId: c.id, userId: u1.id, side: 'A', body: 'Because loyalty matters most here.' } });
    const result = await t.gql(CaseByIdDocument, { id: c.id });
    expect(result.data!.case).toMatchObject({ voteCount: 2, argumentCount: 1 });
  });
});

describe('node', () => {
  it('refetches cases and users by global id', async () => {
    const user = await createUser(t.db, { handle: 'node_user' });
    const c = await createCase(t.db, { title: 'Node case' });
    const caseNode = await t.gql(NodeByIdDocument, { id: encodeGlobalID('Case', c.id) });
    expect(caseNode.data!.node).toMatchObject({ __typename: 'Case', title: 'Node case', ruling: null });
    const userNode = await t.gql(NodeByIdDocument, { id: encodeGlobalID('User', user.id) });
    expect(userNode.data!.node).toMatchObject({ __typename: 'User', handle: 'node_user' });
  });

  it('answers null for an id of no row, and for a malformed one', async () => {
    for (const id of [encodeGlobalID('User', '5d5e8f2a-2b7c-4c1e-9a53-0f6f1b2f9d11'), encodeGlobalID('User', 'x')]) {
      const result = await t.gql(NodeByIdDocument, { id });
      expect(result.errors).toBeUndefined();
      expect(result.data!.node).toBeNull();
    }
  });
});

describe('badges', () => {
  it('lists the nine definitions of the SPEC', async () => {
    const result = await t.gql(BadgesDocument);
    expect(result.data!.badges.map((b) => `${b.key}:${b.target}:${b.bonus}`)).toEqual([
      'first_win:1:50',
      'five_wins:5:200',
      'ten_wins:10:500',
      'master_debater:1:100',
      'persuasion_expert:3:300',
      'active_member:20:150',
      'dedicated_voter:50:250',
      'early_adopter:1:100',
      'blockchain_ready:1:50',
    ]);
  });
});

describe('errors', () => {
  it('reports an invalid query with a stable code and no field suggestions', async () => {
    const response = await t.app.yoga.fetch('http://verdict.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ casez { edges { cursor } } }' }),
    });
    const body = await response.json();
    expect(errorCode(body)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(body.errors[0].message).not.toMatch(/Did you mean/);
  });

  it('masks unexpected failures', async () => {
    const broken = await createTestApp();
    await createCase(broken.db);
    await broken.db.$executeRawUnsafe('ALTER TABLE cases RENAME COLUMN title TO heading');
    const result = await broken.gql(CasesDocument, { first: 1 });
    await broken.close();
    expect(errorCode(result)).toBe('INTERNAL_SERVER_ERROR');
    expect(result.errors![0]!.message).toBe('Unexpected error.');
    expect(JSON.stringify(result)).not.toMatch(/heading|title|prisma|column/i);
  });
});
