import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSessionToken } from '../src/domain/sessions.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

// The response cache (src/http/response-cache.ts) keeps public, viewer-independent query results
// (the leaderboard); everything else executes every time.
let t: TestApp;
let statements: string[] = [];
const ids: Record<string, string> = {};
const tokens: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp({}, { onQuery: (sql) => statements.push(sql) });
  for (const [handle, points] of [['ada', 30], ['bob', 20], ['cyd', 10]] as const) {
    const user = await createUser(t.db, { handle });
    await t.db.user.update({ where: { id: user.id }, data: { totalPoints: points } });
    ids[handle] = user.id;
    tokens[handle] = (await issueSessionToken(t.db, t.sessions, user.id)).token;
  }
  await t.scheduler.runNow('leaderboard');
});
afterAll(() => t?.close());

async function post(query: string, token?: string) {
  const response = await t.app.yoga.fetch('http://verdict.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, etag: response.headers.get('etag'), body: await response.json() };
}

/** The SQL statements `fn` made the app send. */
async function sqlOf(fn: () => Promise<unknown>): Promise<string[]> {
  statements = [];
  await fn();
  return statements;
}

const LEADERBOARD = '{ leaderboard(period: ALL_TIME, first: 10) { rank handle points } }';
const readsLeaderboard = (sql: string[]) => sql.filter((s) => /leaderboard/i.test(s)).length;

describe('response cache', () => {
  it('serves the leaderboard from memory until the leaderboard job ran; then the new points at once', async () => {
    const first = await post(LEADERBOARD);
    expect(first.body.data.leaderboard).toEqual([
      { rank: 1, handle: 'ada', points: 30 },
      { rank: 2, handle: 'bob', points: 20 },
      { rank: 3, handle: 'cyd', points: 10 },
    ]);
    // The same query again, signed in or not: no statement reaches the database.
    expect(readsLeaderboard(await sqlOf(() => post(LEADERBOARD)))).toBe(0);
    expect(readsLeaderboard(await sqlOf(() => post(LEADERBOARD, tokens.cyd)))).toBe(0);

    await t.db.user.update({ where: { id: ids.cyd! }, data: { totalPoints: 50 } });
    // The job has not run: the served leaderboard is the cached one (as the job's table would be).
    expect((await post(LEADERBOARD)).body.data.leaderboard[0]).toEqual({ rank: 1, handle: 'ada', points: 30 });

    await t.scheduler.runNow('leaderboard');
    const after = await post(LEADERBOARD);
    expect(after.body.data.leaderboard).toEqual([
      { rank: 1, handle: 'cyd', points: 50 },
      { rank: 2, handle: 'ada', points: 30 },
      { rank: 3, handle: 'bob', points: 20 },
    ]);
    expect(after.etag).toBeTruthy();
  });

  it('invalidates on the leaderboardUpdated event, whoever published it (another server through Redis)', async () => {
    await post(LEADERBOARD); // cached
    await t.db.user.update({ where: { id: ids.bob! }, data: { totalPoints: 99 } });
    // Another server's job: the rows change in the shared database, the event arrives here.
    const { refreshLeaderboards, leaderboard, PERIODS } = await import('../src/domain/leaderboard.js');
    const now = new Date();
    await refreshLeaderboards(t.db, now);
    const seen = t.pubsub.subscribe('leaderboardUpdated', 'ALL_TIME');
    const delivered = seen.next();
    t.pubsub.publish('leaderboardUpdated', 'ALL_TIME', {
      period: 'ALL_TIME',
      computedAt: now.toISOString(),
      entries: await leaderboard(t.db, 'ALL_TIME', 100, now),
    });
    await delivered;
    await seen.return?.();
    expect((await post(LEADERBOARD)).body.data.leaderboard[0]).toEqual({ rank: 1, handle: 'bob', points: 99 });
  });

  it('drops an empty leaderboard on the job’s event too, also under an alias (a fresh server’s first answer)', async () => {
    // An empty list names no entry to invalidate it by, and under an alias not even its field.
    const daily = '{ today: leaderboard(period: DAILY, first: 10) { handle points } }';
    expect((await post(daily)).body.data.today).toEqual([]);
    const c = await createCase(t.db);
    await t.db.reward.create({ data: { userId: ids.ada!, caseId: c.id, kind: 'PARTICIPATION', amount: 5, status: 'COMPLETED', completedAt: new Date() } });
    await t.scheduler.runNow('leaderboard');
    expect((await post(daily)).body.data.today).toEqual([{ handle: 'ada', points: 5 }]);
  });

  it('never serves one viewer’s fields from another viewer’s answer', async () => {
    const mixed = '{ me { handle rank(period: ALL_TIME) } leaderboard(period: ALL_TIME, first: 1) { handle } }';
    const answers = [];
    for (const who of ['ada', 'bob', 'cyd', 'ada'] as const) answers.push((await post(mixed, tokens[who])).body.data.me);
    expect(answers.map((me) => me.handle)).toEqual(['ada', 'bob', 'cyd', 'ada']);
    expect(answers[0].rank).not.toBe(answers[1].rank);
    expect((await post(mixed)).body.data.me).toBeNull();
    // Viewer-dependent operations execute every time (their SQL is sent again), and carry no ETag.
    const me = '{ me { handle } }';
    await post(me, tokens.ada);
    const again = await sqlOf(() => post(me, tokens.ada));
    expect(again.some((s) => /FROM "public"\."users"/i.test(s))).toBe(true);
    expect((await post(me, tokens.bob)).body.data.me.handle).toBe('bob');
    expect((await post(me, tokens.bob)).etag).toBeNull();
  });

  it('never caches errors or mutations', async () => {
    const tooMany = '{ leaderboard(period: ALL_TIME, first: 1000) { handle } }';
    const refused = await post(tooMany);
    expect(refused.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(refused.etag).toBeNull();
    expect((await post(tooMany)).body.errors[0].extensions.code).toBe('BAD_USER_INPUT');

    const signUp = (handle: string) => post(`mutation { signUp(input: { handle: "${handle}", password: "a long enough password" }) { user { handle } } }`);
    expect((await signUp('newcomer')).body.data.signUp.user.handle).toBe('newcomer');
    expect((await signUp('newcomer')).body.errors[0].extensions.code).toBe('HANDLE_TAKEN');
  });
});
