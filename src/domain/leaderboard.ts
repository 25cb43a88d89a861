import { Prisma } from '../generated/prisma/client.js';
import type { LeaderboardPeriod } from '../generated/prisma/enums.js';
import type { Db } from '../db.js';

export const PERIODS: readonly LeaderboardPeriod[] = ['ALL_TIME', 'WEEKLY', 'DAILY'];
export const CACHE_SIZE = 100;
export const CACHE_KEEP_MS = 3600_000;
export const RANK_CACHE_FRESH_MS = 15 * 60_000;
const DAY_MS = 24 * 3600_000;

export interface LeaderboardEntry {
  rank: number;
  points: number;
  userId: string;
  handle: string;
}

const periodStart = (period: LeaderboardPeriod, at: Date) =>
  new Date(at.getTime() - (period === 'WEEKLY' ? 7 : 1) * DAY_MS);

/**
 * Points per user in a period as of `at`, as SQL: ALL_TIME is every completed point
 * (users.total_points); WEEKLY and DAILY add up rewards completed in the 7 days / 24 hours before.
 */
function pointsOf(period: LeaderboardPeriod, at: Date): Prisma.Sql {
  if (period === 'ALL_TIME') {
    return Prisma.sql`SELECT id AS user_id, total_points AS points FROM users WHERE total_points > 0`;
  }
  return Prisma.sql`SELECT user_id, sum(amount)::int AS points FROM rewards
    WHERE status = 'COMPLETED' AND completed_at > ${periodStart(period, at)} AND completed_at <= ${at} GROUP BY user_id`;
}

/**
 * The top `limit` of a period, ranked: ties share a rank and the next rank skips (1, 2, 2, 4);
 * ties listed by handle. The top is cut with its ties before any handle is read, so only those
 * few users are joined; ranking inside it is exact, since everyone with more points is in it.
 */
function ranked(points: Prisma.Sql, limit: number): Prisma.Sql {
  return Prisma.sql`
    SELECT t.user_id, t.points, u.handle,
      rank() OVER (ORDER BY t.points DESC)::int AS rank,
      row_number() OVER (ORDER BY t.points DESC, u.handle ASC) AS place
    FROM (SELECT user_id, points FROM (${points}) p ORDER BY points DESC FETCH FIRST ${limit} ROWS WITH TIES) t
    JOIN users u ON u.id = t.user_id`;
}

/**
 * Job 5's work for one period, in one statement: the period's points are added up once, and from
 * them the top 100 is cached (and returned) and the score distribution stored, so any user's rank
 * is one lookup. Snapshots older than an hour go.
 */
export async function refreshLeaderboard(db: Db, period: LeaderboardPeriod, now: Date): Promise<LeaderboardEntry[]> {
  // ALL_TIME points are a column with an index: read it where used. A period's sums are made once.
  const materialized = Prisma.raw(period === 'ALL_TIME' ? 'NOT MATERIALIZED' : 'MATERIALIZED');
  const [inserted] = await db.$transaction([
    db.$queryRaw<LeaderboardEntry[]>`
      WITH p AS ${materialized} (${pointsOf(period, now)}),
      distribution AS MATERIALIZED (
        SELECT points, (sum(count(*)) OVER (ORDER BY points DESC))::int AS at_or_above FROM p GROUP BY points
      ),
      snapshot AS (
        INSERT INTO leaderboard_snapshots (period, computed_at, ranked_users)
        SELECT ${period}::"LeaderboardPeriod", ${now}, coalesce(max(at_or_above), 0) FROM distribution
        RETURNING period, computed_at
      ),
      scores AS (
        INSERT INTO leaderboard_scores (period, computed_at, points, at_or_above)
        SELECT s.period, s.computed_at, d.points, d.at_or_above FROM snapshot s, distribution d
      ),
      top AS (SELECT * FROM (${ranked(Prisma.sql`SELECT * FROM p`, CACHE_SIZE)}) r WHERE place <= ${CACHE_SIZE}),
      cached AS (
        INSERT INTO leaderboard_cache (period, computed_at, user_id, rank, points)
        SELECT ${period}::"LeaderboardPeriod", ${now}, user_id, rank, points FROM top
      )
      SELECT rank, points, user_id AS "userId", handle FROM top ORDER BY place`,
    db.$executeRaw`DELETE FROM leaderboard_cache WHERE period = ${period}::"LeaderboardPeriod"
      AND computed_at < ${new Date(now.getTime() - CACHE_KEEP_MS)}`,
    db.$executeRaw`DELETE FROM leaderboard_snapshots WHERE period = ${period}::"LeaderboardPeriod"
      AND computed_at < ${new Date(now.getTime() - CACHE_KEEP_MS)}`,
  ]);
  return inserted;
}

/** The latest cached top entries; computed live when no snapshot is left. */
export async function leaderboard(db: Db, period: LeaderboardPeriod, first: number, now = new Date()): Promise<LeaderboardEntry[]> {
  const cached = await db.$queryRaw<LeaderboardEntry[]>`
    SELECT c.rank, c.points, c.user_id AS "userId", u.handle
    FROM leaderboard_cache c JOIN users u ON u.id = c.user_id
    WHERE c.period = ${period}::"LeaderboardPeriod"
      AND c.computed_at = (SELECT max(computed_at) FROM leaderboard_cache WHERE period = ${period}::"LeaderboardPeriod")
    ORDER BY c.rank, u.handle LIMIT ${first}`;
  return cached.length > 0 ? cached : liveLeaderboard(db, period, first, now);
}

/** The top of a period computed now, in one statement. */
export function liveLeaderboard(db: Db, period: LeaderboardPeriod, first: number, now = new Date()): Promise<LeaderboardEntry[]> {
  return db.$queryRaw<LeaderboardEntry[]>`
    SELECT rank, points, user_id AS "userId", handle FROM (${ranked(pointsOf(period, now), first)}) r
    WHERE place <= ${first} ORDER BY place`;
}

/** One user's points in a period as of `at`, from that user's own rows. */
function pointsOfUser(period: LeaderboardPeriod, userId: string, at: Date): Prisma.Sql {
  const mine = Prisma.sql`user_id = ${userId}::uuid AND status = 'COMPLETED'`;
  if (period === 'ALL_TIME') {
    // Today's total less what was completed after `at`.
    return Prisma.sql`SELECT total_points - coalesce((SELECT sum(amount) FROM rewards WHERE ${mine} AND completed_at > ${at}), 0)
      FROM users WHERE id = ${userId}::uuid`;
  }
  return Prisma.sql`SELECT coalesce(sum(amount), 0) FROM rewards
    WHERE ${mine} AND completed_at > ${periodStart(period, at)} AND completed_at <= ${at}`;
}

/**
 * A user's rank; null without points in the period. From the newest snapshot at most 15 minutes
 * old: the user's points at that moment and one lookup in its score distribution (1 + how many
 * held more). Without a fresh snapshot, one live count over the period's points.
 */
export async function rankOf(db: Db, userId: string, period: LeaderboardPeriod, now = new Date()): Promise<number | null> {
  const [snapshot] = await db.$queryRaw<{ at: Date }[]>`
    SELECT computed_at AS at FROM leaderboard_snapshots
    WHERE period = ${period}::"LeaderboardPeriod" AND computed_at > ${new Date(now.getTime() - RANK_CACHE_FRESH_MS)}
      AND computed_at <= ${now}
    ORDER BY computed_at DESC LIMIT 1`;
  if (snapshot) {
    const [row] = await db.$queryRaw<{ rank: number | null }[]>`
      SELECT CASE WHEN mine.points > 0 THEN 1 + coalesce((
        SELECT at_or_above FROM leaderboard_scores
        WHERE period = ${period}::"LeaderboardPeriod" AND computed_at = ${snapshot.at} AND points > mine.points
        ORDER BY points ASC LIMIT 1), 0) END::int AS rank
      FROM (SELECT (${pointsOfUser(period, userId, snapshot.at)}) AS points) mine`;
    return row?.rank ?? null;
  }
  const [live] = await db.$queryRaw<{ rank: number | null }[]>`
    SELECT CASE WHEN mine.points > 0 THEN
      (SELECT count(*) FROM (${pointsOf(period, now)}) p WHERE p.points > mine.points)::int + 1 END AS rank
    FROM (SELECT (${pointsOfUser(period, userId, now)}) AS points) mine`;
  return live?.rank ?? null;
}
