import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSessionToken } from '../src/domain/sessions.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** Posts a raw JSON body, so escapes such as \\ud800 reach the server exactly as written. */
async function post(body: string, token?: string) {
  const response = await t.app.yoga.fetch('http://verdict.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  return { status: response.status, body: await response.json() };
}

describe('text no column can hold', () => {
  it('refuses a lone surrogate in an argument body as BAD_USER_INPUT and stores nothing', async () => {
    const user = await createUser(t.db);
    const c = await createCase(t.db);
    const { token } = await issueSessionToken(t.db, t.sessions, user.id);
    const query = 'mutation ($c: ID!, $b: String!) { submitArgument(caseId: $c, side: A, body: $b) { id } }';
    const lone = `{"query":${JSON.stringify(query)},"variables":{"c":"${c.id}","b":"A perfectly long argument body \\ud800 with a lone surrogate"}}`;
    const refused = await post(lone, token);
    expect(refused.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(await t.db.argument.count({ where: { caseId: c.id } })).toBe(0);
    const paired = `{"query":${JSON.stringify(query)},"variables":{"c":"${c.id}","b":"A perfectly long argument body \\ud83d\\ude42 with a real emoji"}}`;
    const accepted = await post(paired, token);
    expect(accepted.body.errors).toBeUndefined();
    expect((await t.db.argument.findFirstOrThrow({ where: { caseId: c.id } })).body).toContain('🙂');
  });

  it.each([
    ['a variable', `{"query":"mutation ($i: CredentialsInput!) { signUp(input: $i) { token } }","variables":{"i":{"handle":"nul\\u0000handle","password":"a long enough password"}}}`],
    ['a literal', `{"query":"mutation { signUp(input: { handle: \\"nul\\\\u0000handle\\", password: \\"a long enough password\\" }) { token } }"}`],
    ['a nested input', `{"query":"mutation ($i: CreateCaseInput!) { createCase(input: $i) { id } }","variables":{"i":{"title":"Nul\\u0000","dilemma":"x","sideA":"a","sideB":"b"}}}`],
  ])('refuses NUL in %s as BAD_USER_INPUT, not an internal error', async (_where, body) => {
    const users = await t.db.user.count();
    const { body: answer } = await post(body);
    expect(answer.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(await t.db.user.count()).toBe(users);
  });
});
