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

/** Each period's column in leaderboard_points. */
const COLUMN: Record<LeaderboardPeriod, Prisma.Sql> = {
  ALL_TIME: Prisma.raw('all_time'),
  WEEKLY: Prisma.raw('weekly'),
  DAILY: Prisma.raw('daily'),
};

/**
 * Recounts periods from scratch, together: their columns of leaderboard_points move to what
 * pointsOf says now (anyone missing drops to zero; the other periods' columns stay), and their
 * histograms are counted again. Only rows that differ are written, so the daily recount leaves
 * few dead tuples behind; the first one writes every row once.
 */
async function rebuildPeriods(tx: Tx, periods: LeaderboardPeriod[], now: Date): Promise<void> {
  // A recounted period's new value; the others keep theirs.
  const value = (period: LeaderboardPeriod) => Prisma.sql`coalesce(${periods.includes(period) ? Prisma.raw('f') : Prisma.raw('c')}.${COLUMN[period]}, 0)`;
  const sources = periods.map(
    (period) => Prisma.sql`SELECT user_id, ${period}::text AS period, points FROM (${pointsOf(period, now)}) p`,
  );
  await tx.$executeRaw`
    WITH fresh AS MATERIALIZED (
      SELECT user_id,
        max(points) FILTER (WHERE period = 'ALL_TIME') AS all_time,
        max(points) FILTER (WHERE period = 'WEEKLY') AS weekly,
        max(points) FILTER (WHERE period = 'DAILY') AS daily
      FROM (${Prisma.join(sources, ' UNION ALL ')}) x GROUP BY user_id),
    moved AS MATERIALIZED (
      SELECT coalesce(f.user_id, c.user_id) AS user_id, c.user_id IS NOT NULL AS counted,
        ${value('ALL_TIME')} AS all_time, ${value('WEEKLY')} AS weekly, ${value('DAILY')} AS daily
      FROM fresh f FULL JOIN leaderboard_points c ON c.user_id = f.user_id
      WHERE (${value('ALL_TIME')}, ${value('WEEKLY')}, ${value('DAILY')})
        IS DISTINCT FROM (coalesce(c.all_time, 0), coalesce(c.weekly, 0), coalesce(c.daily, 0))),
    changed AS (
      UPDATE leaderboard_points c SET all_time = m.all_time, weekly = m.weekly, daily = m.daily
      FROM moved m WHERE c.user_id = m.user_id
    )
    INSERT INTO leaderboard_points (user_id, handle, all_time, weekly, daily)
    SELECT m.user_id, u.handle, m.all_time, m.weekly, m.daily FROM moved m JOIN users u ON u.id = m.user_id WHERE NOT m.counted`;
  await tx.$executeRaw`DELETE FROM leaderboard_points WHERE all_time = 0 AND weekly = 0 AND daily = 0`;
  for (const period of periods) {
    const col = COLUMN[period];
    await tx.$executeRaw`DELETE FROM leaderboard_histogram WHERE period = ${period}::"LeaderboardPeriod"`;
    await tx.$executeRaw`INSERT INTO leaderboard_histogram (period, points, users)
      SELECT ${period}::"LeaderboardPeriod", ${col}, count(*) FROM leaderboard_points WHERE ${col} > 0 GROUP BY ${col}`;
  }
}

/**
 * Brings the counted points and histograms up to `now` for the users whose points in a period
 * may have changed since its last sync (`since`, per period): every credit is a reward completed
 * then (closure, payout, badge bonus), and users.updated_at moves with the account itself (its
 * handle); WEEKLY and DAILY also lose what ages out of their window. Each such user is
 * recounted in all three periods at once: one row of users, one index range of their rewards of
 * the week (for both windows) and one counted row, read and written once. A recount that finds
 * nothing changed writes nothing; any other is exact, whichever period it was looked for.
 */
async function syncChanged(tx: Tx, since: Map<LeaderboardPeriod, Date>, now: Date): Promise<void> {
  const reasons: Prisma.Sql[] = [];
  const all = since.get('ALL_TIME');
  if (all) reasons.push(Prisma.sql`SELECT id AS user_id FROM users WHERE updated_at > ${all}`);
  // Rewards completed since the earliest of the periods' syncs (usually the same moment).
  const from = new Date(Math.min(...[...since.values()].map((d) => d.getTime())));
  reasons.push(Prisma.sql`SELECT user_id FROM rewards WHERE status = 'COMPLETED' AND completed_at > ${from}`);
  const windowed = (['WEEKLY', 'DAILY'] as const).filter((p) => since.has(p));
  for (const period of windowed) {
    const from = since.get(period)!;
    const start = periodStart(period, now);
    const windowMs = now.getTime() - start.getTime();
    reasons.push(Prisma.sql`SELECT user_id FROM rewards WHERE status = 'COMPLETED'
      AND completed_at > ${new Date(from.getTime() - windowMs)} AND completed_at <= ${start}`);
  }
  await tx.$executeRaw`
    WITH candidates AS MATERIALIZED (${Prisma.join(reasons, ' UNION ')}),
    fresh AS MATERIALIZED (
      SELECT c.user_id, u.handle, u.total_points AS all_time, w.weekly, w.daily
      FROM candidates c JOIN users u ON u.id = c.user_id
      CROSS JOIN LATERAL (
        SELECT coalesce(sum(amount), 0)::int AS weekly,
          coalesce(sum(amount) FILTER (WHERE completed_at > ${periodStart('DAILY', now)}), 0)::int AS daily
        FROM rewards r WHERE r.user_id = c.user_id AND r.status = 'COMPLETED'
          AND r.completed_at > ${periodStart('WEEKLY', now)} AND r.completed_at <= ${now}
      ) w),
    moved AS MATERIALIZED (
      SELECT f.*, c.user_id IS NOT NULL AS counted, f.all_time + f.weekly + f.daily = 0 AS zero,
        coalesce(c.all_time, 0) AS old_all_time, coalesce(c.weekly, 0) AS old_weekly, coalesce(c.daily, 0) AS old_daily
      FROM fresh f LEFT JOIN leaderboard_points c ON c.user_id = f.user_id
      WHERE (f.all_time, f.weekly, f.daily) IS DISTINCT FROM (coalesce(c.all_time, 0), coalesce(c.weekly, 0), coalesce(c.daily, 0))),
    changed AS (
      UPDATE leaderboard_points c SET all_time = m.all_time, weekly = m.weekly, daily = m.daily
      FROM moved m WHERE c.user_id = m.user_id AND m.counted AND NOT m.zero
    ),
    entered AS (
      INSERT INTO leaderboard_points (user_id, handle, all_time, weekly, daily)
      SELECT user_id, handle, all_time, weekly, daily FROM moved WHERE NOT counted AND NOT zero
    ),
    gone AS (
      DELETE FROM leaderboard_points c USING moved m WHERE c.user_id = m.user_id AND m.counted AND m.zero
    )
    INSERT INTO leaderboard_histogram (period, points, users)
    SELECT d.period, d.points, sum(d.delta)::int
    FROM moved m CROSS JOIN LATERAL (VALUES
      ('ALL_TIME'::"LeaderboardPeriod", m.old_all_time, -1), ('ALL_TIME', m.all_time, 1),
      ('WEEKLY', m.old_weekly, -1), ('WEEKLY', m.weekly, 1),
      ('DAILY', m.old_daily, -1), ('DAILY', m.daily, 1)
    ) d(period, points, delta)
    WHERE d.points > 0
    GROUP BY d.period, d.points HAVING sum(d.delta) <> 0
    ON CONFLICT (period, points) DO UPDATE SET users = leaderboard_histogram.users + EXCLUDED.users`;
  await tx.$executeRaw`DELETE FROM leaderboard_histogram WHERE users = 0`;
}

/**
 * A snapshot of a period's synced points: its top 100, cached and returned, at the moment the
 * histogram and counted points (written in the same transaction) now describe. Snapshots older
 * than an hour go.
 */
async function snapshot(tx: Tx, period: LeaderboardPeriod, now: Date): Promise<LeaderboardEntry[]> {
  const keepAfter = new Date(now.getTime() - CACHE_KEEP_MS);
  await tx.$executeRaw`INSERT INTO leaderboard_snapshots (period, computed_at, ranked_users)
    SELECT ${period}::"LeaderboardPeriod", ${now}, coalesce(sum(users), 0) FROM leaderboard_histogram WHERE period = ${period}::"LeaderboardPeriod"`;
  // The first 100 in (points, handle) order are one index range; each one's rank is exact
  // inside it, since everyone with more points comes before.
  const top = await tx.$queryRaw<LeaderboardEntry[]>`
    WITH top AS (
      SELECT user_id, points, handle, rank() OVER (ORDER BY points DESC)::int AS rank,
        row_number() OVER (ORDER BY points DESC, handle ASC) AS place
      FROM (SELECT user_id, ${COLUMN[period]} AS points, handle FROM leaderboard_points WHERE ${COLUMN[period]} > 0
        ORDER BY ${COLUMN[period]} DESC, handle ASC LIMIT ${CACHE_SIZE}) t
    ),
    cached AS (
      INSERT INTO leaderboard_cache (period, computed_at, user_id, rank, points)
      SELECT ${period}::"LeaderboardPeriod", ${now}, user_id, rank, points FROM top
    )
    SELECT rank, points, user_id AS "userId", handle FROM top ORDER BY place`;
  await tx.$executeRaw`DELETE FROM leaderboard_cache WHERE period = ${period}::"LeaderboardPeriod" AND computed_at < ${keepAfter}`;
  await tx.$executeRaw`DELETE FROM leaderboard_snapshots WHERE period = ${period}::"LeaderboardPeriod" AND computed_at < ${keepAfter}`;
  return top;
}

/**
 * Job 5's work, in one transaction: every period's counted points brought up to `now`, then
 * snapshotted; returns each period's top 100. A period never synced, or not recounted for a day,
 * is recounted in full; the others are synced together, for the users that changed.
 */
export async function refreshLeaderboards(db: Db, now: Date): Promise<Map<LeaderboardPeriod, LeaderboardEntry[]>> {
  return db.$transaction(
    async (tx) => {
      const states = new Map((await tx.leaderboardSync.findMany()).map((s) => [s.period, s]));
      const since = new Map<LeaderboardPeriod, Date>();
      const rebuild: LeaderboardPeriod[] = [];
      for (const period of PERIODS) {
        const state = states.get(period);
        if (!state || state.rebuiltAt.getTime() <= now.getTime() - REBUILD_EVERY_MS || state.syncedAt > now) rebuild.push(period);
        else since.set(period, new Date(state.syncedAt.getTime() - SYNC_OVERLAP_MS));
      }
      if (rebuild.length > 0) {
        await rebuildPeriods(tx, rebuild, now);
        for (const period of rebuild) {
          await tx.leaderboardSync.upsert({ where: { period }, create: { period, syncedAt: now, rebuiltAt: now }, update: { syncedAt: now, rebuiltAt: now } });
        }
        // The next syncs look users up in it: let the planner know its size now.
        await tx.$executeRaw`ANALYZE leaderboard_points`;
      }
      if (since.size > 0) {
        await syncChanged(tx, since, now);
        await tx.leaderboardSync.updateMany({ where: { period: { in: [...since.keys()] } }, data: { syncedAt: now } });
      }
      const tops = new Map<LeaderboardPeriod, LeaderboardEntry[]>();
      for (const period of PERIODS) tops.set(period, await snapshot(tx, period, now));
      return tops;
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

/**
 * A user's rank; null without points in the period. When the period's newest snapshot is at most
 * 15 minutes old (and not ahead of `now`): the user's counted points and one index range of the
 * histogram (1 + how many hold more), as that job run left them, read in one statement. Else one
 * live count over the period's points.
 */
export async function rankOf(db: Db, userId: string, period: LeaderboardPeriod, now = new Date()): Promise<number | null> {
  const [synced] = await db.$queryRaw<{ rank: number | null }[]>`
    SELECT CASE WHEN mine.points > 0 THEN 1 + coalesce((
      SELECT sum(users) FROM leaderboard_histogram WHERE period = ${period}::"LeaderboardPeriod" AND points > mine.points), 0) END::int AS rank
    FROM (SELECT coalesce((SELECT ${COLUMN[period]} FROM leaderboard_points WHERE user_id = ${userId}::uuid), 0) AS points) mine
    WHERE (SELECT max(computed_at) FROM leaderboard_snapshots WHERE period = ${period}::"LeaderboardPeriod")
      BETWEEN ${new Date(now.getTime() - RANK_CACHE_FRESH_MS)} AND ${now}`;
  if (synced) return synced.rank;
  const [live] = await db.$queryRaw<{ rank: number | null }[]>`
    SELECT CASE WHEN mine.points > 0 THEN
      (SELECT count(*) FROM (${pointsOf(period, now)}) p WHERE p.points > mine.points)::int + 1 END AS rank
    FROM (SELECT (${pointsOfUser(period, userId, now)}) AS points) mine`;
  return live?.rank ?? null;
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
