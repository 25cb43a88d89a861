import type { Db } from '../db.js';

const DAY_MS = 24 * 3600_000;
/** Day-7 retention of a day is known once seven more days are over: those days are recomputed. */
export const RECOMPUTE_DAYS = 8;
/** A backfill is written this many days per statement (bounded work per statement). */
export const DAYS_PER_STATEMENT = 31;

/** Midnight UTC of the day `at` falls in. */
export const dayOf = (at: Date) => new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
export const addDays = (day: Date, n: number) => new Date(day.getTime() + n * DAY_MS);
export const isoDay = (day: Date) => day.toISOString().slice(0, 10);

/**
 * Writes (or rewrites) the rows of the UTC days from `first` to `last` (inclusive, midnights) in
 * one set-based statement: every figure is an aggregate over an indexed time range of its table,
 * grouped by day. Retention looks at the seven days after `last` too. Idempotent.
 */
export async function computeDays(db: Db, first: Date, last: Date, now: Date, runId: string | null): Promise<number> {
  const start = first;
  const end = addDays(last, 1);
  const activityEnd = addDays(last, 8);
  return db.$executeRaw`
    WITH days AS (
      SELECT d::date AS day FROM generate_series(${start}::timestamptz AT TIME ZONE 'UTC', ${last}::timestamptz AT TIME ZONE 'UTC', interval '1 day') d
    ),
    activity AS (
      SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date AS day, user_id FROM (
        SELECT created_at, user_id FROM votes_all WHERE created_at >= ${start} AND created_at < ${activityEnd}
        UNION ALL SELECT created_at, user_id FROM arguments WHERE created_at >= ${start} AND created_at < ${activityEnd}
        UNION ALL SELECT created_at, user_id FROM argument_upvotes_all WHERE created_at >= ${start} AND created_at < ${activityEnd}
      ) a
    ),
    active AS (SELECT day, count(*) AS n FROM activity GROUP BY day),
    joined AS (
      -- activity holds each (day, user) once, so each join finds at most one row per new user.
      SELECT u.day, count(*) AS n, count(a1.user_id) AS d1, count(a7.user_id) AS d7
      FROM (SELECT id, (created_at AT TIME ZONE 'UTC')::date AS day FROM users WHERE created_at >= ${start} AND created_at < ${end}) u
      LEFT JOIN activity a1 ON a1.user_id = u.id AND a1.day = u.day + 1
      LEFT JOIN activity a7 ON a7.user_id = u.id AND a7.day = u.day + 7
      GROUP BY u.day
    ),
    voted AS (SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM votes_all WHERE created_at >= ${start} AND created_at < ${end} GROUP BY 1),
    argued AS (SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM arguments WHERE created_at >= ${start} AND created_at < ${end} GROUP BY 1),
    upvoted AS (SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM argument_upvotes_all WHERE created_at >= ${start} AND created_at < ${end} GROUP BY 1),
    opened AS (
      SELECT (opens_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM cases
      WHERE opens_at >= ${start} AND opens_at < ${end} AND status IN ('OPEN', 'CLOSED') GROUP BY 1
    ),
    closed AS (
      SELECT (c.closed_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n,
        avg(CASE WHEN s.votes_a > s.votes_b THEN (s.winning_side = 'A')::int WHEN s.votes_b > s.votes_a THEN (s.winning_side = 'B')::int END)
          FILTER (WHERE s.outcome = 'SETTLED') AS agreement,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY s.participant_count) FILTER (WHERE s.case_id IS NOT NULL) AS median_participants
      FROM cases c LEFT JOIN case_settlements s ON s.case_id = c.id
      WHERE c.closed_at >= ${start} AND c.closed_at < ${end} GROUP BY 1
    ),
    paid AS (
      SELECT (completed_at AT TIME ZONE 'UTC')::date AS day,
        coalesce(sum(amount) FILTER (WHERE payout_tx_id IS NULL), 0) AS off_chain,
        coalesce(sum(amount) FILTER (WHERE payout_tx_id IS NOT NULL), 0) AS on_chain
      FROM rewards WHERE status = 'COMPLETED' AND completed_at >= ${start} AND completed_at < ${end} GROUP BY 1
    )
    INSERT INTO daily_stats (day, new_users, active_users, votes, arguments, upvotes, cases_opened, cases_closed,
      points_off_chain, points_on_chain, crowd_agreement, median_participants, retention_day1, retention_day7, computed_at, run_id)
    SELECT d.day, coalesce(j.n, 0), coalesce(ac.n, 0), coalesce(v.n, 0), coalesce(ar.n, 0), coalesce(up.n, 0),
      coalesce(o.n, 0), coalesce(cl.n, 0), coalesce(p.off_chain, 0), coalesce(p.on_chain, 0),
      cl.agreement, cl.median_participants,
      CASE WHEN j.n > 0 AND (d.day + 2) <= (${now}::timestamptz AT TIME ZONE 'UTC')::date THEN j.d1::float8 / j.n END,
      CASE WHEN j.n > 0 AND (d.day + 8) <= (${now}::timestamptz AT TIME ZONE 'UTC')::date THEN j.d7::float8 / j.n END,
      ${now}, ${runId}::uuid
    FROM days d
    LEFT JOIN joined j ON j.day = d.day LEFT JOIN active ac ON ac.day = d.day
    LEFT JOIN voted v ON v.day = d.day LEFT JOIN argued ar ON ar.day = d.day LEFT JOIN upvoted up ON up.day = d.day
    LEFT JOIN opened o ON o.day = d.day LEFT JOIN closed cl ON cl.day = d.day LEFT JOIN paid p ON p.day = d.day
    ON CONFLICT (day) DO UPDATE SET new_users = EXCLUDED.new_users, active_users = EXCLUDED.active_users, votes = EXCLUDED.votes,
      arguments = EXCLUDED.arguments, upvotes = EXCLUDED.upvotes, cases_opened = EXCLUDED.cases_opened, cases_closed = EXCLUDED.cases_closed,
      points_off_chain = EXCLUDED.points_off_chain, points_on_chain = EXCLUDED.points_on_chain, crowd_agreement = EXCLUDED.crowd_agreement,
      median_participants = EXCLUDED.median_participants, retention_day1 = EXCLUDED.retention_day1, retention_day7 = EXCLUDED.retention_day7,
      computed_at = EXCLUDED.computed_at, run_id = EXCLUDED.run_id`;
}

/**
 * The days the analytics job (re)computes as of `now`: every completed day since the platform's
 * first user that has no row yet (a backfill), and the last eight, whose retention may still move.
 * Returned as ranges of consecutive days, each at most DAYS_PER_STATEMENT long.
 */
export async function daysToCompute(db: Db, now: Date): Promise<Array<[Date, Date]>> {
  const lastComplete = addDays(dayOf(now), -1);
  const [row] = await db.$queryRaw<{ first: Date | null }[]>`SELECT min(created_at) AS first FROM users`;
  const first = row?.first;
  if (!first || dayOf(first) > lastComplete) return [];
  const recent = addDays(lastComplete, -(RECOMPUTE_DAYS - 1));
  const missing = await db.$queryRaw<{ day: Date }[]>`
    SELECT d::date::timestamp AT TIME ZONE 'UTC' AS day
    FROM generate_series(${dayOf(first)}::timestamptz AT TIME ZONE 'UTC', ${lastComplete}::timestamptz AT TIME ZONE 'UTC', interval '1 day') d
    WHERE d < ${recent}::timestamptz AT TIME ZONE 'UTC' AND NOT EXISTS (SELECT 1 FROM daily_stats s WHERE s.day = d::date)
    ORDER BY d`;
  const days = [...missing.map((m) => m.day)];
  for (let d = recent < dayOf(first) ? dayOf(first) : recent; d <= lastComplete; d = addDays(d, 1)) days.push(d);
  const ranges: Array<[Date, Date]> = [];
  for (const day of days) {
    const range = ranges.at(-1);
    if (range && addDays(range[1], 1).getTime() === day.getTime() && (day.getTime() - range[0].getTime()) / DAY_MS < DAYS_PER_STATEMENT) range[1] = day;
    else ranges.push([day, day]);
  }
  return ranges;
}
