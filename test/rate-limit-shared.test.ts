// With REDIS_URL, rate limits are counted once for all servers, not per server.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, errorCode, type TestApp } from './support/app.js';
import { redisUrl } from './support/env.js';

describe.skipIf(!redisUrl)('rate limits on several servers (skipped: set TEST_REDIS_URL)', () => {
  const apps: TestApp[] = [];
  beforeAll(async () => {
    // Two servers sharing one Redis (under a namespace of this test's own).
    const env = { REDIS_URL: redisUrl!, REDIS_PREFIX: `verdict-test-${randomBytes(4).toString('hex')}:`, RATE_LIMIT_SIGN_IN_PER_MINUTE: '3' };
    apps.push(await createTestApp(env), await createTestApp(env));
  });
  afterAll(() => Promise.all(apps.map((a) => a.close())));

  const signIn = async (app: TestApp) => {
    const response = await app.app.yoga.fetch('http://verdict.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { signIn(input: { handle: "nobody", password: "not the password" }) { token } }' }),
    });
    return response.json();
  };

  it('counts sign-in attempts from one address across servers', async () => {
    // The windows are whole minutes: start well inside one, so four attempts fall in the same.
    while (Date.now() % 60_000 > 55_000) await new Promise((r) => setTimeout(r, 250));
    const [a, b] = apps as [TestApp, TestApp];
    const codes = [errorCode(await signIn(a)), errorCode(await signIn(b)), errorCode(await signIn(a)), errorCode(await signIn(b))];
    expect(codes).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMITED']);
  });
});
