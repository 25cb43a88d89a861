import type { Db } from '../db.js';
import { Prisma } from '../generated/prisma/client.js';
import { BADGES, type BadgeDefinition, type BadgeMetric } from './badges.js';

export interface BadgeAwarded {
  awardId: string;
  userId: string;
  handle: string;
  badgeKey: string;
  awardedAt: string;
}

/** Each metric as `(user_id, value)` rows for the users in `candidates` (a SQL set of ids). */
function metricRows(metric: BadgeMetric, candidates: Prisma.Sql): Prisma.Sql {
  switch (metric) {
    case 'wins':
      return Prisma.sql`SELECT v.user_id, count(*)::int AS value FROM votes v
        JOIN case_settlements s ON s.case_id = v.case_id AND s.winning_side = v.side
        WHERE v.user_id IN (${candidates}) GROUP BY v.user_id`;
    case 'topArguments':
      return Prisma.sql`SELECT user_id, count(*)::int AS value FROM arguments
        WHERE top_rank IS NOT NULL AND user_id IN (${candidates}) GROUP BY user_id`;
    case 'participations':
      return Prisma.sql`SELECT user_id, count(DISTINCT case_id)::int AS value FROM (
          SELECT user_id, case_id FROM votes UNION ALL SELECT user_id, case_id FROM arguments
        ) p WHERE user_id IN (${candidates}) GROUP BY user_id`;
    case 'votes':
      return Prisma.sql`SELECT user_id, count(*)::int AS value FROM votes
        WHERE user_id IN (${candidates}) GROUP BY user_id`;
    case 'beta':
      return Prisma.sql`SELECT id AS user_id, 1 AS value FROM users WHERE is_beta_user AND id IN (${candidates})`;
    case 'wallet':
      return Prisma.sql`SELECT id AS user_id, 1 AS value FROM users WHERE wallet_address IS NOT NULL AND id IN (${candidates})`;
  }
}

/** Users who did anything since `since` (all users when null: the full pass). */
function candidatesSince(since: Date | null): Prisma.Sql {
  if (!since) return Prisma.sql`SELECT id FROM users`;
  return Prisma.sql`
    SELECT user_id FROM votes WHERE created_at > ${since}
    UNION SELECT user_id FROM arguments WHERE created_at > ${since}
    UNION SELECT user_id FROM rewards WHERE updated_at > ${since}
    UNION SELECT id FROM users WHERE updated_at > ${since}`;
}

/**
 * One statement per badge: award it to every qualifying user who lacks it (the unique key makes
 * a second award impossible), add its bonus as a BADGE_BONUS reward through the usual pipeline
 * (credited at once without a wallet, paid on chain with one), and return the new awards.
 */
async function award(db: Pick<Db, '$queryRaw'>, badge: BadgeDefinition, since: Date | null, now: Date): Promise<BadgeAwarded[]> {
  return db.$queryRaw<BadgeAwarded[]>`
    WITH qualified AS (
      SELECT user_id FROM (${metricRows(badge.metric, candidatesSince(since))}) m WHERE m.value >= ${badge.target}
    ), awarded AS (
      INSERT INTO badge_awards (user_id, badge_key, awarded_at)
      SELECT user_id, ${badge.key}, ${now} FROM qualified
      ON CONFLICT (user_id, badge_key) DO NOTHING
      RETURNING id, user_id, awarded_at
    ), bonus AS (
      INSERT INTO rewards (user_id, badge_award_id, kind, amount, status, completed_at)
      SELECT a.user_id, a.id, 'BADGE_BONUS', ${badge.bonus}::int,
        CASE WHEN u.wallet_address IS NULL THEN 'COMPLETED' ELSE 'PENDING' END::"RewardStatus",
        CASE WHEN u.wallet_address IS NULL THEN ${now}::timestamptz END
      FROM awarded a JOIN users u ON u.id = a.user_id
      RETURNING user_id, amount, status
    ), credited AS (
      UPDATE users u SET total_points = u.total_points + b.amount, updated_at = ${now}
      FROM bonus b WHERE u.id = b.user_id AND b.status = 'COMPLETED'
      RETURNING u.id
    )
    SELECT a.id AS "awardId", a.user_id AS "userId", u.handle, ${badge.key} AS "badgeKey",
      to_char(a.awarded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "awardedAt"
    FROM awarded a JOIN users u ON u.id = a.user_id`;
}

/** Job 6's work: all nine badges in one transaction, for users active since `since` (null: everyone). */
export async function awardBadges(db: Db, since: Date | null, now = new Date()): Promise<BadgeAwarded[]> {
  return db.$transaction(async (tx) => {
    const awarded: BadgeAwarded[] = [];
    for (const badge of BADGES) awarded.push(...(await award(tx, badge, since, now)));
    return awarded;
  });
}

export interface BadgeProgress {
  badge: BadgeDefinition;
  earned: boolean;
  earnedAt: Date | null;
  current: number;
  target: number;
  text: string;
}

/** Progress towards every badge for one user, from one query per metric set. */
export async function badgeProgress(db: Db, userId: string): Promise<BadgeProgress[]> {
  const me = Prisma.sql`SELECT ${userId}::uuid`;
  const metrics = [...new Set(BADGES.map((b) => b.metric))];
  const values = new Map<BadgeMetric, number>();
  const rows = await db.$queryRaw<{ metric: BadgeMetric; value: number }[]>`
    ${Prisma.join(
      metrics.map((metric) => Prisma.sql`SELECT ${metric} AS metric, coalesce((SELECT value FROM (${metricRows(metric, me)}) m), 0)::int AS value`),
      ' UNION ALL ',
    )}`;
  for (const row of rows) values.set(row.metric, row.value);
  const awards = await db.badgeAward.findMany({ where: { userId } });
  return BADGES.map((badge) => {
    const awardRow = awards.find((a) => a.badgeKey === badge.key);
    const current = Math.min(values.get(badge.metric) ?? 0, badge.target);
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
