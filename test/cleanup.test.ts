// Job cleanup: what has served its purpose goes, in bounded chunks, and nothing else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEANUP_CHUNK } from '../src/domain/cleanup.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createUser } from './support/fixtures.js';

const DAY = 24 * 3600_000;
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ JOB_RUNS_KEEP_DAYS: '30' });
});
afterAll(() => t.close());

describe('cleanup', () => {
  it('deletes spent wallet challenges, ended sessions and reset tokens, old job runs, stale snapshots and score samples; keeps the rest', async () => {
    const now = Date.now();
    const ago = (ms: number) => new Date(now - ms);
    const user = await createUser(t.db);
    await t.db.walletNonce.createMany({
      data: [
        { nonce: 'expired', userId: user.id, expiresAt: ago(60_000) },
        { nonce: 'used', userId: user.id, expiresAt: ago(-600_000), usedAt: ago(1000) },
        { nonce: 'live', userId: user.id, expiresAt: ago(-600_000) },
      ],
    });
    // Sessions: one expired, one revoked, one live; reset tokens: one used, one expired, one live.
    const sessionRow = (data: { expiresAt: Date; revokedAt?: Date }) => t.db.session.create({ data: { userId: user.id, ...data } });
    await sessionRow({ expiresAt: ago(1000) });
    await sessionRow({ expiresAt: ago(-DAY), revokedAt: ago(1000) });
    const liveSession = await sessionRow({ expiresAt: ago(-DAY) });
    await t.db.passwordReset.createMany({
      data: [
        { userId: user.id, tokenHash: 'a'.repeat(64), expiresAt: ago(-600_000), usedAt: ago(1000) },
        { userId: user.id, tokenHash: 'b'.repeat(64), expiresAt: ago(1000) },
        { userId: user.id, tokenHash: 'c'.repeat(64), expiresAt: ago(-600_000) },
      ],
    });
    // More old runs than one chunk holds, a recent one, and an old one still RUNNING.
    const old = Array.from({ length: CLEANUP_CHUNK + 5 }, () => ({ job: 'leaderboard', trigger: 'schedule', status: 'SUCCEEDED' as const, startedAt: ago(31 * DAY) }));
    await t.db.jobRun.createMany({ data: old });
    const recent = await t.db.jobRun.create({ data: { job: 'leaderboard', trigger: 'schedule', status: 'SUCCEEDED', startedAt: ago(29 * DAY) } });
    const running = await t.db.jobRun.create({ data: { job: 'badges', trigger: 'schedule', status: 'RUNNING', startedAt: ago(40 * DAY) } });
    // Three snapshots of a period: two over an hour old, one of them the newest kept.
    for (const [hoursAgo, points] of [[3, 10], [2, 20]] as const) {
      const computedAt = ago(hoursAgo * 3600_000);
      await t.db.leaderboardSnapshot.create({ data: { period: 'DAILY', computedAt, rankedUsers: 1 } });
      await t.db.leaderboardEntry.create({ data: { period: 'DAILY', computedAt, userId: user.id, rank: 1, points } });
    }
    const topic = await t.db.topic.create({ data: { source: 'example.org', link: 'https://example.org/a', title: 'A topic', firstSeenAt: ago(9 * DAY), lastSeenAt: ago(DAY) } });
    await t.db.topicScore.createMany({ data: [{ topicId: topic.id, scannedAt: ago(8 * DAY), score: 1, comments: 0 }, { topicId: topic.id, scannedAt: ago(DAY), score: 5, comments: 0 }] });

    const run = await t.scheduler.runNow('cleanup');
    expect(run).toMatchObject({ status: 'SUCCEEDED' });
    expect('result' in run && run.result).toMatchObject({ walletChallenges: 2, sessions: 2, passwordResets: 2, jobRuns: CLEANUP_CHUNK + 5, leaderboardSnapshots: 1, topicScores: 1 });
    expect((await t.db.session.findMany({ where: { userId: user.id } })).map((s) => s.id)).toEqual([liveSession.id]);
    expect((await t.db.passwordReset.findMany()).map((r) => r.tokenHash)).toEqual(['c'.repeat(64)]);
    expect((await t.db.walletNonce.findMany()).map((n) => n.nonce)).toEqual(['live']);
    const runs = await t.db.jobRun.findMany({ where: { job: { in: ['leaderboard', 'badges'] } }, select: { id: true } });
    expect(runs.map((r) => r.id).sort()).toEqual([recent.id, running.id].sort());
    expect((await t.db.leaderboardSnapshot.findMany()).map((s) => s.computedAt.getTime())).toEqual([now - 2 * 3600_000]);
    expect(await t.db.leaderboardEntry.count()).toBe(1);
    expect(await t.db.topicScore.count()).toBe(1);

    // A second run finds nothing.
    const again = await t.scheduler.runNow('cleanup');
    expect('result' in again && again.result).toMatchObject({ walletChallenges: 0, sessions: 0, passwordResets: 0, jobRuns: 0, leaderboardSnapshots: 0, topicScores: 0, vacuumed: [] });
  });
});
