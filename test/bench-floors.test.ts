// The benchmark's floors and naive versions (bench/floors.ts) must write exactly what Verdict
// writes, or their ratios would compare different work. Small data, same seed as the benchmark.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPubSub } from 'graphql-yoga';
import {
  analyticsFloor,
  badgesFloor,
  closureFloor,
  createDueCase,
  dropCase,
  earnPoints,
  leaderboardFloor,
  leaderboardNaive,
  reopenCase,
  resetBadges,
} from '../bench/floors.js';
import { seed } from '../bench/seed.js';
import type { Db } from '../src/db.js';
import { addDays, computeDays, dayOf } from '../src/domain/analytics.js';
import { awardBadges } from '../src/domain/badges-award.js';
import { PERIODS, refreshLeaderboards } from '../src/domain/leaderboard.js';
import { closeCase } from '../src/domain/settlement.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.prisma;
  await seed(db, { users: 2000 });
}, 300_000);
afterAll(() => database.close());

/** A leaderboard run's rows: its snapshot and top, and the score distribution it left. */
const snapshotAt = async (now: Date) => ({
  snapshots: await db.$queryRaw`SELECT period, ranked_users FROM leaderboard_snapshots WHERE computed_at = ${now} ORDER BY period`,
  histogram: await db.$queryRaw`SELECT period, points, users FROM leaderboard_histogram ORDER BY period, points`,
  cache: await db.$queryRaw`SELECT period, user_id, rank, points FROM leaderboard_cache WHERE computed_at = ${now} ORDER BY period, rank, user_id`,
});

/** Every count wrong and a points value nobody holds: what a floor rewrites must all be rewritten. */
async function scrambleHistogram() {
  await db.leaderboardHistogram.updateMany({ data: { users: 0 } });
  await db.leaderboardHistogram.create({ data: { period: 'DAILY', points: 987_654, users: 3 } });
}

/** Everything the badge pass writes, and every user's points. */
const badgeState = async () => ({
  awards: await db.$queryRaw`SELECT user_id, badge_key FROM badge_awards ORDER BY user_id, badge_key`,
  bonuses: await db.$queryRaw`SELECT r.user_id, a.badge_key, r.amount, r.status, r.payout_address FROM rewards r JOIN badge_awards a ON a.id = r.badge_award_id ORDER BY r.user_id, a.badge_key`,
  points: await db.$queryRaw`SELECT id, total_points FROM users ORDER BY id`,
  notifications: await db.$queryRaw`SELECT n.user_id, a.badge_key, n.title, n.body FROM notifications n JOIN badge_awards a ON a.id = n.subject_id
    WHERE n.kind = 'BADGE_EARNED' ORDER BY n.user_id, a.badge_key`,
});

const closureState = async (caseId: string) => ({
  rewards: await db.$queryRaw`SELECT user_id, kind, amount, status, payout_address FROM rewards WHERE case_id = ${caseId}::uuid ORDER BY user_id, kind`,
  settlement: await db.$queryRaw`SELECT pool, winning_side, winner_count, participant_count, votes_a, votes_b, paid, treasury FROM case_settlements WHERE case_id = ${caseId}::uuid`,
  ranks: await db.$queryRaw`SELECT id, top_rank FROM arguments WHERE case_id = ${caseId}::uuid AND top_rank IS NOT NULL ORDER BY top_rank`,
  status: await db.$queryRaw`SELECT status FROM cases WHERE id = ${caseId}::uuid`,
  points: await db.$queryRaw`SELECT id, total_points FROM users ORDER BY id`,
});

describe('benchmark floors write what Verdict writes', () => {
  it('leaderboard: the job, its floor and the naive way store the same snapshot, distribution and top', async () => {
    const base = Date.now();
    const [project, floor, naive] = [new Date(base), new Date(base + 1000), new Date(base + 2000)];
    await refreshLeaderboards(db, project);
    const expected = await snapshotAt(project);
    expect((expected.cache as unknown[]).length).toBeGreaterThan(100);
    expect((expected.histogram as unknown[]).length).toBeGreaterThan(10);
    // Each rewrites the histogram: a wrong one would differ from the job's.
    await scrambleHistogram();
    for (const period of PERIODS) await leaderboardFloor(db, period, floor);
    expect(await snapshotAt(floor)).toEqual(expected);
    await scrambleHistogram();
    for (const period of PERIODS) await leaderboardNaive(db, period, naive);
    expect(await snapshotAt(naive)).toEqual(expected);
  });

  it('leaderboard: a later run that recounts only changed users stores what a full count does', async () => {
    const t1 = new Date(Date.now() + 3600_000);
    await refreshLeaderboards(db, t1);
    // Some users earn points; 13 hours later some of the week's and the day's points have aged out.
    const earned = await earnPoints(db, 150, new Date(t1.getTime() + 60_000));
    const t2 = new Date(t1.getTime() + 13 * 3600_000);
    const t2floor = new Date(t2.getTime() + 1);
    const before = await snapshotAt(t1);
    await refreshLeaderboards(db, t2);
    const incremental = await snapshotAt(t2);
    expect(incremental.histogram).not.toEqual(before.histogram);
    await scrambleHistogram();
    for (const period of PERIODS) await leaderboardFloor(db, period, t2floor);
    expect(await snapshotAt(t2floor)).toEqual(incremental);
    await dropCase(db, earned);
  });

  it('badges: a chunked full pass and the one-statement floor award, pay and credit the same', async () => {
    const before = await badgeState();
    const now = new Date();
    const pass = await awardBadges(db, { since: null, now, chunkSize: 300 });
    expect(pass.chunks).toBeGreaterThan(5);
    expect(pass.awarded).toBeGreaterThan(100);
    const project = await badgeState();
    expect(project.notifications).toHaveLength(pass.awarded);
    await resetBadges(db);
    expect(await badgeState()).toEqual(before);
    await badgesFloor(db, now);
    expect(await badgeState()).toEqual(project);
  });

  it('analytics: the job and the floor write the same daily rows', async () => {
    const now = new Date();
    const first = addDays(dayOf(now), -8);
    const last = addDays(dayOf(now), -1);
    const rows = () => db.$queryRaw<unknown[]>`SELECT day, new_users, active_users, votes, arguments, upvotes, cases_opened, cases_closed,
      points_off_chain, points_on_chain, crowd_agreement, median_participants, retention_day1, retention_day7 FROM daily_stats ORDER BY day`;
    await computeDays(db, first, last, now, null);
    const project = await rows();
    expect(project).toHaveLength(8);
    expect(project.some((r) => (r as { votes: number }).votes > 0)).toBe(true);
    await db.dailyStat.deleteMany();
    await analyticsFloor(db, first, last, now);
    expect(await rows()).toEqual(project);
  });

  it('closure: Verdict and the floor pay the same lines and settle the same way', async () => {
    const caseId = await createDueCase(db, { voters: 600, arguments: 60, upvotes: 300 }, new Date());
    const before = await closureState(caseId);
    expect(await closeCase(db, caseId, new Date())).not.toBeNull();
    const project = await closureState(caseId);
    expect((project.rewards as unknown[]).length).toBeGreaterThan(600);
    expect(project.ranks).toHaveLength(3);
    await reopenCase(db, caseId);
    expect(await closureState(caseId)).toEqual(before);
    await closureFloor(db, caseId, new Date());
    expect(await closureState(caseId)).toEqual(project);
    await dropCase(db, caseId);
  });
});
