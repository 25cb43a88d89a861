import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSessionToken } from '../src/domain/sessions.js';
import { createTestApp, errorCode, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await createTestApp({ RATE_LIMIT_MUTATIONS_PER_MINUTE: '5', RATE_LIMIT_SIGN_IN_PER_MINUTE: '3', MAX_BODY_BYTES: '20000' });
  base = `http://127.0.0.1:${await t.app.start(0, '127.0.0.1')}`;
});
afterAll(() => t.close());

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
const run = async (query: string, headers?: Record<string, string>) => (await post(JSON.stringify({ query }), headers)).json();

describe('query limits', () => {
  it('refuses queries nested too deep', async () => {
    const deep = `{ cases { edges { node { arguments { edges { node { case { arguments { edges { node { case { arguments { edges { node { id } } } } } } } } } } } } } } }`;
    const result = await run(deep);
    expect(result.errors[0].message).toMatch(/depth/i);
    expect(errorCode(result)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.data).toBeUndefined();
  });

  it('refuses too many aliases', async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `b${i}: badges { key }`).join(' ');
    const result = await run(`{ ${aliases} }`);
    expect(result.errors[0].message).toMatch(/alias/i);
    expect(errorCode(result)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses too many tokens', async () => {
    const fields = Array.from({ length: 2100 }, () => 'key').join(' ');
    expect((await run(`{ badges { ${fields} } }`)).errors[0].message).toMatch(/token/i);
  });

  it('refuses queries that cost too much', async () => {
    const heavy = Array.from({ length: 14 }, (_, i) => `c${i}: cases(first: 100) { edges { node { arguments(first: 100) { edges { node { author { handle } } } } } } }`).join(' ');
    const result = await run(`{ ${heavy} }`);
    expect(result.errors.map((e: { message: string }) => e.message).join(' ')).toMatch(/cost/i);
  });

  it('answers a normal query', async () => {
    expect((await run('{ badges { key } cases(first: 5) { edges { node { title } } } }')).errors).toBeUndefined();
  });
});

describe('request bodies', () => {
  it('refuses a body over the limit before reading it', async () => {
    const response = await post(JSON.stringify({ query: `{ badges { key } } # ${'x'.repeat(30_000)}` }));
    expect(response.status).toBe(413);
    expect((await response.json()).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses a chunked body of unknown length', async () => {
    const chunks = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ query: '{ badges { key } }' })));
        controller.close();
      },
    });
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(411);
  });
});

describe('CSRF-safe defaults', () => {
  it('authenticates by bearer header only: a cookie carries no session', async () => {
    const user = await createUser(t.db);
    const { token } = await issueSessionToken(t.db, t.sessions, user.id);
    expect((await run('{ me { handle } }', { cookie: `token=${token}; authorization=Bearer%20${token}` })).data.me).toBeNull();
  });

  it('refuses mutations over GET and bodies a cross-site form can send', async () => {
    const get = await fetch(`${base}/graphql?query=${encodeURIComponent('mutation { walletChallenge(address: "0x0") { message } }')}`);
    expect(get.status).toBe(405);
    const form = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=mutation%7BsignUp(input%3A%7Bhandle%3A%22csrf%22%2Cpassword%3A%22aaaaaaaaaaaa%22%7D)%7Btoken%7D%7D',
    });
    expect(form.status).toBe(415);
    const plain = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"{ badges { key } }"}' });
    expect(plain.status).toBe(415);
    expect(await t.db.user.count({ where: { handle: 'csrf' } })).toBe(0);
  });
});

describe('rate limits', () => {
  it('limits mutations per user and says when to retry', async () => {
    const user = await createUser(t.db);
    const { token } = await issueSessionToken(t.db, t.sessions, user.id);
    const c = await createCase(t.db);
    const headers = { authorization: `Bearer ${token}` };
    const codes = [];
    for (let i = 0; i < 7; i++) {
      const result = await run(`mutation { castVote(caseId: "${c.id}", side: A) { side } }`, headers);
      codes.push(errorCode(result) ?? 'OK');
    }
    expect(codes).toEqual(['OK', 'ALREADY_VOTED', 'ALREADY_VOTED', 'ALREADY_VOTED', 'ALREADY_VOTED', 'RATE_LIMITED', 'RATE_LIMITED']);

    // Another user is not affected.
    const other = await issueSessionToken(t.db, t.sessions, (await createUser(t.db)).id);
    const ok = await run(`mutation { castVote(caseId: "${c.id}", side: B) { side } }`, { authorization: `Bearer ${other.token}` });
    expect(ok.data.castVote.side).toBe('B');
  });

  it('refuses a document of several mutations before any of them runs (aliases and fragments included)', async () => {
    const user = await createUser(t.db);
    const { token } = await issueSessionToken(t.db, t.sessions, user.id);
    const cases = await Promise.all(Array.from({ length: 2 }, () => createCase(t.db)));
    const votes = cases.map((c, i) => `v${i}: castVote(caseId: "${c.id}", side: A) { side }`).join(' ');
    const result = await run(`mutation { ${votes} }`, { authorization: `Bearer ${token}` });
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    const viaFragment = await run(`mutation { ...Both } fragment Both on Mutation { ${votes} }`, { authorization: `Bearer ${token}` });
    expect(errorCode(viaFragment)).toBe('BAD_USER_INPUT');
    // A cursor in a mutation's answer: whose list it is would be known only after the write.
    const cursor = Buffer.from(`GPC:S:${cases[1]!.id}`).toString('base64');
    const paged = await run(`mutation { castVote(caseId: "${cases[0]!.id}", side: A) { case { arguments(first: 5, after: "${cursor}") { edges { cursor } } } } }`, {
      authorization: `Bearer ${token}`,
    });
    expect(errorCode(paged)).toBe('BAD_USER_INPUT');
    expect(await t.db.vote.count({ where: { userId: user.id } })).toBe(0);
  });

  it('limits sign-in attempts per address', async () => {
    const attempt = () => run('mutation { signIn(input: { handle: "nobody", password: "whatever123" }) { token } }');
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push(errorCode(await attempt()));
    expect(codes).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMITED', 'RATE_LIMITED']);
  });
});
