// Every error a client can cause has a code from the README table, and none of them reaches the
// error log: that level is for what an operator must look at.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSessionToken } from '../src/domain/sessions.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

let t: TestApp;
const lines: { level: number; msg: string }[] = [];
beforeAll(async () => {
  t = await createTestApp({ LOG_LEVEL: 'debug' }, { logStream: { write: (line) => lines.push(JSON.parse(line)) } });
});
afterAll(() => t.close());

const b64 = (text: string) => Buffer.from(text).toString('base64');

async function ask(query: string, token?: string) {
  const response = await t.app.yoga.fetch('http://verdict.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await response.json()).errors as { message: string; extensions?: { code?: string } }[] | undefined;
}

describe('errors a client causes', () => {
  it('all carry a code, none is INTERNAL_SERVER_ERROR, and none is logged as an error', async () => {
    const c = await createCase(t.db);
    const user = await createUser(t.db);
    const { token } = await issueSessionToken(t.db, t.sessions, user.id);
    await ask(`mutation { castVote(caseId: "${c.id}", side: A) { side } }`, token);
    lines.length = 0;
    const cases: [string, string, string?][] = [
      ['{ cases(first: 2, after: "garbage") { edges { cursor } } }', 'BAD_USER_INPUT'],
      [`{ cases(first: 2, after: "${b64('GPC:S:x')}") { edges { cursor } } }`, 'BAD_USER_INPUT'],
      ['{ cases(first: -1) { edges { cursor } } }', 'BAD_USER_INPUT'],
      ['{ node(id: "garbage") { id } }', 'BAD_USER_INPUT'],
      [`{ node(id: "${b64('Nope:1')}") { id } }`, 'BAD_USER_INPUT'],
      [`{ node(id: "${b64('Vote:1')}") { id } }`, 'BAD_USER_INPUT'],
      ['{ nosuchfield }', 'GRAPHQL_VALIDATION_FAILED'],
      [`{ ${Array.from({ length: 20 }, (_, i) => `a${i}: badges { key }`).join(' ')} }`, 'GRAPHQL_VALIDATION_FAILED'],
      ['mutation { castVote(caseId: "x", side: A) { side } }', 'UNAUTHENTICATED'],
      [`mutation { castVote(caseId: "${c.id}", side: B) { side } }`, 'ALREADY_VOTED', token],
      ['{ jobs { name } }', 'FORBIDDEN', token],
    ];
    for (const [query, code, as] of cases) {
      const errors = await ask(query, as);
      expect({ query, code: errors?.[0]?.extensions?.code }).toEqual({ query, code });
    }
    for (const parameters of ['variables=%7Bbad', 'extensions=%7Bbad']) {
      const response = await t.app.yoga.fetch(`http://verdict.test/graphql?query=%7B__typename%7D&${parameters}`, { headers: { accept: 'application/json' } });
      expect({ parameters, status: response.status, code: (await response.json()).errors?.[0]?.extensions?.code }).toEqual({ parameters, status: 400, code: 'BAD_USER_INPUT' });
    }
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.some((l) => l.msg === 'operation refused')).toBe(true);
  });
});

describe('cursors', () => {
  it('refuses a cursor that does not belong to the list it is given to', async () => {
    const c = await createCase(t.db);
    const author = await createUser(t.db);
    const argument = await t.db.argument.create({ data: { caseId: c.id, userId: author.id, side: 'A', body: 'An argument long enough to count.' } });
    const foreign = b64(`GPC:S:${argument.id}`);
    const listed = await t.app.yoga.fetch('http://verdict.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ cases(first: 1) { edges { cursor } } }' }),
    });
    const own = (await listed.json()).data.cases.edges[0].cursor as string;
    expect((await ask(`{ cases(first: 2, after: "${foreign}") { edges { cursor } } }`))?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await ask(`{ cases(first: 2, after: "${own}") { edges { cursor } } }`)).toBeUndefined();
  });

  it('refuses another case’s argument as a cursor of a case’s arguments, and another user’s reward in my rewards', async () => {
    const [c, other] = [await createCase(t.db), await createCase(t.db)];
    const [author, me] = [await createUser(t.db), await createUser(t.db)];
    const argue = (caseId: string, userId: string) =>
      t.db.argument.create({ data: { caseId, userId, side: 'A', body: 'An argument long enough to count.' } });
    const [mine, theirs] = [await argue(c.id, author.id), await argue(other.id, author.id)];
    await argue(c.id, me.id);
    const page = (after: string) => `{ case(id: "${c.id}") { arguments(first: 1, after: "${after}") { edges { node { id } } } } }`;
    expect((await ask(page(b64(`GPC:S:${theirs.id}`))))?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await ask(page(b64('GPC:S:not-a-uuid'))))?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await ask(page(b64(`GPC:S:${mine.id}`)))).toBeUndefined();

    const reward = (userId: string) => t.db.reward.create({ data: { userId, caseId: c.id, kind: 'PARTICIPATION', amount: 1, payoutAddress: `0x${'11'.repeat(20)}` } });
    const [own, foreign] = [await reward(me.id), await reward(author.id)];
    const { token } = await issueSessionToken(t.db, t.sessions, me.id);
    const rewards = (after: string) => `{ me { rewards(first: 1, after: "${after}") { edges { node { amount } } } } }`;
    expect((await ask(rewards(b64(`GPC:S:${foreign.id}`)), token))?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await ask(rewards(b64(`GPC:S:${own.id}`)), token)).toBeUndefined();
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});
