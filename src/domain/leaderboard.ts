import { Prisma } from '../generated/prisma/client.js';
import type { LeaderboardPeriod } from '../generated/prisma/enums.js';
import type { Db } from '../db.js';

export const PERIODS: readonly LeaderboardPeriod[] = ['ALL_TIME', 'WEEKLY', 'DAILY'];
export const CACHE_SIZE = 100;
export const CACHE_KEEP_MS = 3600_000;
export const RANK_CACHE_FRESH_MS = 15 * 60_000;

export interface LeaderboardEntry {
  rank: number;
  points: number;
  userId: string;
  handle: string;
}

/**
 * Points per user in a period, as SQL: ALL_TIME is every completed point (users.total_points);
 * WEEKLY and DAILY add up rewards completed in the last 7 days / 24 hours.
 */
function pointsOf(period: LeaderboardPeriod, now: Date): Prisma.Sql {
  if (period === 'ALL_TIME') {
    return Prisma.sql`SELECT id AS user_id, total_points AS points FROM users WHERE total_points > 0`;
  }
  const since = new Date(now.getTime() - (period === 'WEEKLY' ? 7 : 1) * 24 * 3600_000);
  return Prisma.sql`SELECT user_id, sum(amount)::int AS points FROM rewards
    WHERE status = 'COMPLETED' AND completed_at > ${since} GROUP BY user_id`;
}

/**
 * The top `limit` of a period, ranked: ties share a rank and the next rank skips (1, 2, 2, 4);
 * ties listed by handle. Ranking inside the top alone is exact, since everyone with more points
 * is in it; and it lets PostgreSQL keep only the top rows while sorting (or, for ALL_TIME, walk
 * the users index) instead of ranking every user.
 */
function ranked(period: LeaderboardPeriod, now: Date, limit: number): Prisma.Sql {
  return Prisma.sql`
    SELECT user_id, points, handle,
      rank() OVER (ORDER BY points DESC)::int AS rank,
      row_number() OVER (ORDER BY points DESC, handle ASC) AS place
    FROM (
      SELECT p.user_id, p.points, u.handle
      FROM (${pointsOf(period, now)}) p JOIN users u ON u.id = p.user_id
      ORDER BY p.points DESC, u.handle ASC LIMIT ${limit}
    ) top`;
}

/** Job 5's work for one period: one set-based statement caches the top 100, old snapshots go. */
export async function refreshLeaderboard(db: Db, period: LeaderboardPeriod, now: Date): Promise<number> {
  const [inserted] = await db.$transaction([
    db.$executeRaw`
      INSERT INTO leaderboard_cache (period, computed_at, user_id, rank, points)
      SELECT ${period}::"LeaderboardPeriod", ${now}, user_id, rank, points
      FROM (${ranked(period, now, CACHE_SIZE)}) r`,
    db.$executeRaw`DELETE FROM leaderboard_cache WHERE period = ${period}::"LeaderboardPeriod"
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
    SELECT rank, points, user_id AS "userId", handle FROM (${ranked(period, now, first)}) r ORDER BY place`;
}

/**
 * A user's rank: from a snapshot at most 15 minutes old when it lists them, else live with one
 * count over the period's points. Null when the user has no points in the period.
 */
export async function rankOf(db: Db, userId: string, period: LeaderboardPeriod, now = new Date()): Promise<number | null> {
  const [cached] = await db.$queryRaw<{ rank: number }[]>`
    SELECT rank FROM leaderboard_cache
    WHERE period = ${period}::"LeaderboardPeriod" AND user_id = ${userId}::uuid
      AND computed_at > ${new Date(now.getTime() - RANK_CACHE_FRESH_MS)}
    ORDER BY computed_at DESC LIMIT 1`;
  if (cached) return cached.rank;
  const [live] = await db.$queryRaw<{ rank: number | null }[]>`
    WITH p AS (${pointsOf(period, now)})
    SELECT CASE WHEN mine.points IS NULL THEN NULL
      ELSE (SELECT count(*) FROM p WHERE p.points > mine.points)::int + 1 END AS rank
    FROM (SELECT (SELECT points FROM p WHERE user_id = ${userId}::uuid) AS points) mine`;
  return live?.rank ?? null;
}
