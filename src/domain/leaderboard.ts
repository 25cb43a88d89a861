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

/** A full rebuild of a period's counted points at least this often, whatever happened between. */
const REBUILD_EVERY_MS = 24 * 3600_000;
/** Changes committed late (a long transaction) are still seen by the next sync. */
const SYNC_OVERLAP_MS = 5 * 60_000;

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/**
 * The current points (zero included) of every user whose points in the period may have changed
 * since `since`: each change of total_points moves users.updated_at; WEEKLY and DAILY also lose
 * what ages out of their window.
 */
function changedPoints(period: LeaderboardPeriod, since: Date, now: Date): Prisma.Sql {
  if (period === 'ALL_TIME') {
    return Prisma.sql`SELECT id AS user_id, total_points AS points FROM users WHERE updated_at > ${since}`;
  }
  const start = periodStart(period, now);
  const windowMs = now.getTime() - start.getTime();
  return Prisma.sql`SELECT c.user_id, coalesce((SELECT sum(amount) FROM rewards r
      WHERE r.user_id = c.user_id AND r.status = 'COMPLETED' AND r.completed_at > ${start} AND r.completed_at <= ${now}
    ), 0)::int AS points
    FROM (
      SELECT user_id FROM rewards WHERE status = 'COMPLETED' AND completed_at > ${since}
      UNION SELECT user_id FROM rewards WHERE status = 'COMPLETED'
        AND completed_at > ${new Date(since.getTime() - windowMs)} AND completed_at <= ${start}
    ) c`;
}

/**
 * Moves the counted points (leaderboard_points) of the users in `fresh` (user_id, points: their
 * current points, zero included) to those values, and the histogram with them: each user whose
 * points differ leaves the old value's bucket and joins the new one. With `everyone`, `fresh` holds
 * every user with points, so anyone counted and missing from it drops to zero. Only rows that
 * differ are written, so a run leaves few dead tuples behind, a full one included.
 */
async function applyPoints(tx: Tx, period: LeaderboardPeriod, fresh: Prisma.Sql, everyone: boolean): Promise<void> {
  const counted = Prisma.sql`SELECT user_id, points FROM leaderboard_points WHERE period = ${period}::"LeaderboardPeriod"`;
  const moved = everyone
    ? Prisma.sql`SELECT coalesce(f.user_id, c.user_id) AS user_id, coalesce(c.points, 0) AS old, coalesce(f.points, 0) AS new
        FROM fresh f FULL JOIN (${counted}) c ON c.user_id = f.user_id
        WHERE coalesce(c.points, 0) <> coalesce(f.points, 0)`
    : Prisma.sql`SELECT f.user_id, coalesce(c.points, 0) AS old, f.points AS new
        FROM fresh f LEFT JOIN leaderboard_points c ON c.period = ${period}::"LeaderboardPeriod" AND c.user_id = f.user_id
        WHERE coalesce(c.points, 0) <> f.points`;
  await tx.$executeRaw`
    WITH fresh AS MATERIALIZED (${fresh}),
    moved AS MATERIALIZED (${moved}),
    changed AS (
      UPDATE leaderboard_points c SET points = m.new FROM moved m
      WHERE c.period = ${period}::"LeaderboardPeriod" AND c.user_id = m.user_id AND m.old > 0 AND m.new > 0
    ),
    entered AS (
      INSERT INTO leaderboard_points (period, user_id, points, handle)
      SELECT ${period}::"LeaderboardPeriod", m.user_id, m.new, u.handle FROM moved m JOIN users u ON u.id = m.user_id WHERE m.old = 0 AND m.new > 0
    ),
    gone AS (
      DELETE FROM leaderboard_points c USING moved m
      WHERE c.period = ${period}::"LeaderboardPeriod" AND c.user_id = m.user_id AND m.new = 0
    )
    INSERT INTO leaderboard_histogram (period, points, users)
    SELECT ${period}::"LeaderboardPeriod", points, sum(delta)::int FROM (
      SELECT old AS points, -1 AS delta FROM moved WHERE old > 0
      UNION ALL SELECT new, 1 FROM moved WHERE new > 0
    ) d GROUP BY points
    ON CONFLICT (period, points) DO UPDATE SET users = leaderboard_histogram.users + EXCLUDED.users`;
  await tx.$executeRaw`DELETE FROM leaderboard_histogram WHERE period = ${period}::"LeaderboardPeriod" AND users = 0`;
}

/**
 * Brings a period's counted points and its histogram up to `now`. Only the users whose points may
 * have changed since the last sync are recounted; once a day everyone is, and the histogram is
 * recounted from the points, whatever happened between.
 */
async function syncPeriod(tx: Tx, period: LeaderboardPeriod, now: Date): Promise<void> {
  const state = await tx.leaderboardSync.findUnique({ where: { period } });
  if (!state || state.rebuiltAt.getTime() <= now.getTime() - REBUILD_EVERY_MS || state.syncedAt > now) {
    await applyPoints(tx, period, pointsOf(period, now), true);
    await tx.$executeRaw`DELETE FROM leaderboard_histogram WHERE period = ${period}::"LeaderboardPeriod"`;
    await tx.$executeRaw`INSERT INTO leaderboard_histogram (period, points, users)
      SELECT period, points, count(*) FROM leaderboard_points WHERE period = ${period}::"LeaderboardPeriod" GROUP BY period, points`;
    // The next syncs look users up in it: let the planner know its size now.
    await tx.$executeRaw`ANALYZE leaderboard_points`;
    await tx.leaderboardSync.upsert({ where: { period }, create: { period, syncedAt: now, rebuiltAt: now }, update: { syncedAt: now, rebuiltAt: now } });
    return;
  }
  await applyPoints(tx, period, changedPoints(period, new Date(state.syncedAt.getTime() - SYNC_OVERLAP_MS), now), false);
  await tx.leaderboardSync.update({ where: { period }, data: { syncedAt: now } });
}

/**
 * Job 5's work for one period, in one transaction: the counted points are brought up to date,
 * then a snapshot stores the score distribution (so any user's rank is one lookup) and caches
 * the top 100, which it returns. Snapshots older than an hour go.
 */
export async function refreshLeaderboard(db: Db, period: LeaderboardPeriod, now: Date): Promise<LeaderboardEntry[]> {
  const keepAfter = new Date(now.getTime() - CACHE_KEEP_MS);
  return db.$transaction(
    async (tx) => {
      await syncPeriod(tx, period, now);
      await tx.$executeRaw`INSERT INTO leaderboard_snapshots (period, computed_at, ranked_users)
        SELECT ${period}::"LeaderboardPeriod", ${now}, coalesce(sum(users), 0) FROM leaderboard_histogram WHERE period = ${period}::"LeaderboardPeriod"`;
      await tx.$executeRaw`INSERT INTO leaderboard_scores (period, computed_at, points, at_or_above)
        SELECT period, ${now}, points, (sum(users) OVER (ORDER BY points DESC))::int
        FROM leaderboard_histogram WHERE period = ${period}::"LeaderboardPeriod"`;
      // The first 100 in (points, handle) order are one index range; each one's rank is exact
      // inside it, since everyone with more points comes before.
      const top = await tx.$queryRaw<LeaderboardEntry[]>`
        WITH top AS (
          SELECT user_id, points, handle, rank() OVER (ORDER BY points DESC)::int AS rank,
            row_number() OVER (ORDER BY points DESC, handle ASC) AS place
          FROM (SELECT user_id, points, handle FROM leaderboard_points WHERE period = ${period}::"LeaderboardPeriod"
            ORDER BY points DESC, handle ASC LIMIT ${CACHE_SIZE}) t
        ),
        cached AS (
          INSERT INTO leaderboard_cache (period, computed_at, user_id, rank, points)
          SELECT ${period}::"LeaderboardPeriod", ${now}, user_id, rank, points FROM top
        )
        SELECT rank, points, user_id AS "userId", handle FROM top ORDER BY place`;
      await tx.$executeRaw`DELETE FROM leaderboard_cache WHERE period = ${period}::"LeaderboardPeriod" AND computed_at < ${keepAfter}`;
      await tx.$executeRaw`DELETE FROM leaderboard_snapshots WHERE period = ${period}::"LeaderboardPeriod" AND computed_at < ${keepAfter}`;
      return top;
    },
    { timeout: 300_000 },
  );
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
