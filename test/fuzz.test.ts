import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSessionToken } from '../src/domain/sessions.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

let t: TestApp;
const lines: string[] = [];
beforeAll(async () => {
  const s = Date.now();
  t = await createTestApp({ LOG_LEVEL: 'debug' }, { logStream: { write: (l) => lines.push(l) } });
  console.log('app', Date.now() - s);
}, 120_000);
afterAll(() => t.close());

describe('probe', () => {
  it('times', async () => {
    const c = await createCase(t.db);
    const u = await createUser(t.db);
    const { token } = await issueSessionToken(t.sessions, u.id);
    const ask = async (query: string, tok?: string) => (await t.app.yoga.fetch('http://verdict.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...(tok ? { authorization: `Bearer ${tok}` } : {}) }, body: JSON.stringify({ query }) })).json();
    for (const [name, q, tok] of [
      ['typename', '{ __typename }'],
      ['cases', '{ cases(first: 5) { edges { cursor node { id title voteCount myVote { side } } } } }', token],
      ['bad', '{ cases(first: -1) { edges { cursor } } }'],
      ['vote-refused', `mutation { castVote(caseId: "zzz", side: A) { side } }`, token],
      ['signin', `mutation { signIn(input: {handle: "nobody", password: "xxxxxxxxxxxx"}) { token } }`],
      ['gen', `mutation { runJob(name: LEADERBOARD) { id } }`, token],
    ] as [string, string, string?][]) {
      const s = performance.now();
      const N = name === 'signin' ? 5 : 100;
      for (let i = 0; i < N; i++) await ask(q, tok);
      console.log(name, ((performance.now() - s) / N).toFixed(2), 'ms', JSON.stringify(await ask(q, tok)).slice(0, 200));
    }
    const s = performance.now();
    for (let i = 0; i < 100; i++) await t.db.$queryRawUnsafe(`SELECT (SELECT count(*) FROM users) u, (SELECT coalesce(sum(total_points),0) FROM users) p, (SELECT count(*) FROM votes) v, (SELECT count(*) FROM arguments) a, (SELECT coalesce(sum(upvote_count),0) FROM arguments) uc, (SELECT count(*) FROM rewards) r, (SELECT coalesce(sum(amount),0) FROM rewards) rs, (SELECT count(*) FROM cases) c`);
    console.log('snapshot', ((performance.now() - s) / 100).toFixed(2));
    console.log(lines.length, lines.slice(-3));
  }, 120_000);
});
