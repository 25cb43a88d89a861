import type { Db } from '../db.js';
import { Prisma } from '../generated/prisma/client.js';
import { BADGES, type BadgeDefinition, type BadgeMetric } from './badges.js';
import { badgeEarnedNotifications } from './notifications.js';

export interface BadgeAwarded {
  awardId: string;
  userId: string;
  handle: string;
  badgeKey: string;
  awardedAt: string;
}

/** Which users a statement looks at, as a condition on a user id column. */
type UserFilter = (column: Prisma.Sql) => Prisma.Sql;

const idRange = (after: string | null, upTo: string): UserFilter => (column) =>
  after === null ? Prisma.sql`${column} <= ${upTo}::uuid` : Prisma.sql`${column} > ${after}::uuid AND ${column} <= ${upTo}::uuid`;
const idList = (ids: string[]): UserFilter => (column) => Prisma.sql`${column} = ANY(${ids}::uuid[])`;

/**
 * Every badge metric of the filtered users, one row each: the votes and arguments of those users
 * only are read (through their user index), merged, and counted once for all nine badges.
 */
function metricsOf(users: UserFilter): Prisma.Sql {
  return Prisma.sql`
    SELECT u.id AS user_id,
      coalesce(a.wins, 0) AS wins, coalesce(a.top_arguments, 0) AS "topArguments",
      coalesce(a.participations, 0) AS participations, coalesce(a.votes, 0) AS votes,
      u.is_beta_user::int AS beta, (u.wallet_address IS NOT NULL)::int AS wallet
    FROM users u LEFT JOIN (
      SELECT user_id,
        count(*) FILTER (WHERE is_vote AND won) AS wins,
        count(*) FILTER (WHERE placed) AS top_arguments,
        count(DISTINCT case_id) AS participations,
        count(*) FILTER (WHERE is_vote) AS votes
      FROM (
        SELECT v.user_id, v.case_id, true AS is_vote, s.winning_side = v.side AS won, false AS placed
          FROM votes_all v LEFT JOIN case_settlements s ON s.case_id = v.case_id WHERE ${users(Prisma.sql`v.user_id`)}
        UNION ALL
        SELECT user_id, case_id, false, false, top_rank IS NOT NULL
          FROM arguments WHERE ${users(Prisma.sql`user_id`)}
      ) activity GROUP BY user_id
    ) a ON a.user_id = u.id
    WHERE ${users(Prisma.sql`u.id`)}`;
}

const badgeTable = Prisma.sql`(VALUES ${Prisma.join(
  BADGES.map((b) => Prisma.sql`(${b.key}::text, ${b.metric}::text, ${b.target}::int, ${b.bonus}::int)`),
)}) AS b(key, metric, target, bonus)`;

const metricValue = Prisma.sql`CASE b.metric ${Prisma.raw(
  [...new Set(BADGES.map((b) => b.metric))].map((m) => `WHEN '${m}' THEN m."${m}"`).join(' '),
)} END`;

/**
 * One statement for one set of users: every badge they qualify for and lack is awarded (the
 * unique key makes a second award impossible), its bonus becomes a BADGE_BONUS reward through the
 * usual pipeline (credited at once without a wallet, paid on chain to the one the user has now),
 * and the new awards come back. A statement is its own transaction, so a crash loses nothing and
 * repeats nothing.
 */
function awardTo(db: Pick<Db, '$queryRaw'>, users: UserFilter, now: Date): Promise<BadgeAwarded[]> {
  return db.$queryRaw<BadgeAwarded[]>`
    WITH m AS (${metricsOf(users)}),
    awarded AS (
      INSERT INTO badge_awards (user_id, badge_key, awarded_at)
      SELECT m.user_id, b.key, ${now} FROM m JOIN ${badgeTable} ON ${metricValue} >= b.target
      ON CONFLICT (user_id, badge_key) DO NOTHING
      RETURNING id, user_id, badge_key, awarded_at
    ), notified AS (${badgeEarnedNotifications(Prisma.sql`awarded`)}
    ), bonus AS (
      INSERT INTO rewards (user_id, badge_award_id, kind, amount, status, completed_at, payout_address)
      SELECT a.user_id, a.id, 'BADGE_BONUS', b.bonus,
        CASE WHEN u.wallet_address IS NULL THEN 'COMPLETED' ELSE 'PENDING' END::"RewardStatus",
        CASE WHEN u.wallet_address IS NULL THEN ${now}::timestamptz END,
        u.wallet_address
      FROM awarded a JOIN ${badgeTable} ON b.key = a.badge_key JOIN users u ON u.id = a.user_id
      RETURNING user_id, amount, status
    ), credited AS (
      UPDATE users u SET total_points = u.total_points + c.points
      FROM (SELECT user_id, sum(amount)::int AS points FROM bonus WHERE status = 'COMPLETED' GROUP BY user_id) c
      WHERE u.id = c.user_id
      RETURNING u.id
    )
    SELECT a.id AS "awardId", a.user_id AS "userId", u.handle, a.badge_key AS "badgeKey",
      to_char(a.awarded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "awardedAt"
    FROM awarded a JOIN users u ON u.id = a.user_id
    ORDER BY a.user_id, a.badge_key`;
}

/** Users whose badge metrics may have changed since `since`, in id order after `after`. */
function activeUsers(db: Db, since: Date, after: string | null, limit: number) {
  return db.$queryRaw<{ user_id: string }[]>`
    SELECT user_id FROM (
      SELECT user_id FROM votes WHERE created_at > ${since}
      UNION SELECT user_id FROM arguments WHERE created_at > ${since}
      UNION SELECT id FROM users WHERE updated_at > ${since}
      UNION SELECT v.user_id FROM cases c JOIN votes v ON v.case_id = c.id WHERE c.closed_at > ${since}
      UNION SELECT a.user_id FROM cases c JOIN arguments a ON a.case_id = c.id WHERE c.closed_at > ${since}
    ) active
    WHERE ${after === null ? Prisma.sql`true` : Prisma.sql`user_id > ${after}::uuid`}
    ORDER BY user_id LIMIT ${limit}`;
}

/** The last id of the next `limit` users after `after`, or null at the end. */
async function nextUserBoundary(db: Db, after: string | null, limit: number): Promise<string | null> {
  const [row] = await db.$queryRaw<{ last: string | null }[]>`
    SELECT id::text AS last FROM (
      SELECT id FROM users WHERE ${after === null ? Prisma.sql`true` : Prisma.sql`id > ${after}::uuid`} ORDER BY id LIMIT ${limit}
    ) chunk ORDER BY id DESC LIMIT 1`;
  return row?.last ?? null;
}

/** The latest awards, newest first, as `badgeAwarded` announced them (one indexed read). */
export async function recentAwards(db: Db, first: number): Promise<BadgeAwarded[]> {
  const rows = await db.badgeAward.findMany({
    orderBy: [{ awardedAt: 'desc' }, { id: 'desc' }],
    take: first,
    select: { id: true, userId: true, badgeKey: true, awardedAt: true, user: { select: { handle: true } } },
  });
  return rows.map((r) => ({ awardId: r.id, userId: r.userId, handle: r.user.handle, badgeKey: r.badgeKey, awardedAt: r.awardedAt.toISOString() }));
}

export interface BadgePass {
  /** Only users active since then (their votes, arguments, closed cases, profile); null: everyone. */
  since: Date | null;
  now?: Date;
  /** Users per statement. */
  chunkSize?: number;
  /** Called after each committed chunk with its new awards (at most chunkSize × 9). */
  onAwarded?: (awards: BadgeAwarded[]) => void;
}

export interface BadgePassResult {
  awarded: number;
  byBadge: Record<string, number>;
  chunks: number;
}

/**
 * Job 6's work, in chunks of users that each commit on their own: a full pass walks every user
 * in id order; an incremental pass walks only the users active since `since`. Rerunning either
 * after a crash awards only what is still missing.
 */
export async function awardBadges(db: Db, pass: BadgePass): Promise<BadgePassResult> {
  const { since, now = new Date(), chunkSize = 10_000, onAwarded } = pass;
  const result: BadgePassResult = { awarded: 0, byBadge: {}, chunks: 0 };
  let after: string | null = null;
  for (;;) {
    let users: UserFilter;
    if (since === null) {
      const upTo = await nextUserBoundary(db, after, chunkSize);
      if (upTo === null) break;
      users = idRange(after, upTo);
      after = upTo;
    } else {
      const ids: string[] = (await activeUsers(db, since, after, chunkSize)).map((r) => r.user_id);
      if (ids.length === 0) break;
      users = idList(ids);
      after = ids[ids.length - 1]!;
    }
    const awards = await awardTo(db, users, now);
    result.chunks++;
    result.awarded += awards.length;
    for (const a of awards) result.byBadge[a.badgeKey] = (result.byBadge[a.badgeKey] ?? 0) + 1;
    if (awards.length > 0) onAwarded?.(awards);
  }
  return result;
}

export interface BadgeProgress {
  badge: BadgeDefinition;
  earned: boolean;
  earnedAt: Date | null;
  current: number;
  target: number;
  text: string;
}

/** Progress towards every badge for one user, from one query for all metrics. */
export async function badgeProgress(db: Db, userId: string): Promise<BadgeProgress[]> {
  const [metrics] = await db.$queryRaw<Record<BadgeMetric, bigint | number>[]>`${metricsOf(idList([userId]))}`;
  const awards = await db.badgeAward.findMany({ where: { userId } });
  return BADGES.map((badge) => {
    const awardRow = awards.find((a) => a.badgeKey === badge.key);
    const current = Math.min(Number(metrics?.[badge.metric] ?? 0), badge.target);
    return {
      badge,
      earned: awardRow !== undefined,
      earnedAt: awardRow?.awardedAt ?? null,
      current,
      target: badge.target,
      text: `${current}/${badge.target} ${badge.unit}`,
    };
  });
}
