import { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db.js';
import type { PubSub } from '../events.js';
import { BADGES } from './badges.js';

/** Changes committed late (a long transaction) are still seen: each source is read again from this far back. */
const OVERLAP_MS = 5 * 60_000;
/** On a source's first read, what happened before this is history, not news. */
const FIRST_LOOK_BACK_MS = 3600_000;
/** Notifications published per statement. */
export const PUBLISH_CHUNK = 1000;

/** Notifications made per statement: a badge pass over a million users is many short statements. */
export const DERIVE_CHUNK = 10_000;

type Source = 'settlements' | 'badge_awards' | 'payouts';

/** No notification of this user, kind and subject yet (one unique-index lookup). */
const isNew = (user: Prisma.Sql, kind: Prisma.Sql, subject: Prisma.Sql) =>
  Prisma.sql`NOT EXISTS (SELECT 1 FROM notifications x WHERE x.user_id = ${user} AND x.kind = (${kind})::"NotificationKind" AND x.subject_id = ${subject})`;

/**
 * The notifications of the changes in (since, until] of one source, each row once: the change
 * itself (a settlement, a badge award, a settled payout, each committed with what it reports) is
 * the outbox, and the unique key (user, kind, subject) drops what an overlapping read finds again.
 */
function derive(source: Source, since: Date, until: Date, chunk: number): Prisma.Sql {
  switch (source) {
    case 'settlements':
      // Everyone who took part (voted or argued): the ruling, their side, their reward.
      return Prisma.sql`
        INSERT INTO notifications (user_id, kind, subject_id, case_id, title, body)
        SELECT p.user_id, 'CASE_CLOSED', c.id, c.id, left('Closed: ' || c.title, 200),
          CASE WHEN s.outcome = 'VOID' THEN 'This case was void (' || coalesce(s.reason, 'its ruling could not be verified') || '): nothing was paid.'
          ELSE 'The judge ruled for "' || CASE s.winning_side WHEN 'A' THEN c.side_a_label ELSE c.side_b_label END || '". '
            || CASE WHEN v.side IS NULL THEN 'You argued but did not vote.' WHEN v.side = s.winning_side THEN 'You sided with the judge.' ELSE 'You sided against the judge.' END
            || ' Your reward: ' || coalesce(r.points, 0) || ' points.' END
        FROM case_settlements s
        JOIN cases c ON c.id = s.case_id
        CROSS JOIN LATERAL (SELECT user_id FROM votes_all WHERE case_id = s.case_id UNION SELECT user_id FROM arguments WHERE case_id = s.case_id) p
        LEFT JOIN votes_all v ON v.case_id = s.case_id AND v.user_id = p.user_id
        LEFT JOIN LATERAL (SELECT sum(amount) AS points FROM rewards WHERE case_id = s.case_id AND user_id = p.user_id) r ON true
        LEFT JOIN notification_settings ns ON ns.user_id = p.user_id
        WHERE s.created_at > ${since} AND s.created_at <= ${until} AND coalesce(ns.case_closed, 'EMAIL') <> 'OFF'
          AND ${isNew(Prisma.sql`p.user_id`, Prisma.sql`'CASE_CLOSED'`, Prisma.sql`c.id`)}
        LIMIT ${chunk}
        ON CONFLICT (user_id, kind, subject_id) DO NOTHING`;
    case 'badge_awards': {
      const names = Prisma.join(BADGES.map((b) => Prisma.sql`(${b.key}, ${`${b.icon} ${b.name}`}, ${b.description}, ${b.bonus})`));
      return Prisma.sql`
        INSERT INTO notifications (user_id, kind, subject_id, title, body)
        SELECT a.user_id, 'BADGE_EARNED', a.id, 'Badge earned: ' || b.name, b.description || ' — ' || b.bonus || ' bonus points.'
        FROM badge_awards a JOIN (VALUES ${names}) b(key, name, description, bonus) ON b.key = a.badge_key
        LEFT JOIN notification_settings ns ON ns.user_id = a.user_id
        WHERE a.awarded_at > ${since} AND a.awarded_at <= ${until} AND coalesce(ns.badge_earned, 'EMAIL') <> 'OFF'
          AND ${isNew(Prisma.sql`a.user_id`, Prisma.sql`'BADGE_EARNED'`, Prisma.sql`a.id`)}
        LIMIT ${chunk}
        ON CONFLICT (user_id, kind, subject_id) DO NOTHING`;
    }
    case 'payouts':
      // A payout confirmed or failed for good; one whose rewards went back to the queue tells nothing yet.
      return Prisma.sql`
        INSERT INTO notifications (user_id, kind, subject_id, case_id, title, body)
        SELECT r.user_id, (CASE r.status WHEN 'COMPLETED' THEN 'REWARD_CONFIRMED' ELSE 'REWARD_FAILED' END)::"NotificationKind", r.id, r.case_id,
          CASE r.status WHEN 'COMPLETED' THEN r.amount || ' points confirmed on chain' ELSE 'A payout of ' || r.amount || ' points failed' END,
          CASE r.status WHEN 'COMPLETED' THEN 'Transaction ' || t.hash || ' paid them to your wallet.'
            ELSE 'Transaction ' || t.hash || ' did not go through; an admin can send it again.' END
        FROM chain_transactions t JOIN rewards r ON r.payout_tx_id = t.id
        LEFT JOIN notification_settings ns ON ns.user_id = r.user_id
        WHERE t.kind = 'PAYOUT' AND t.settled_at > ${since} AND t.settled_at <= ${until} AND r.status IN ('COMPLETED', 'FAILED')
          AND coalesce(CASE r.status WHEN 'COMPLETED' THEN ns.reward_confirmed ELSE ns.reward_failed END, 'EMAIL') <> 'OFF'
          AND ${isNew(Prisma.sql`r.user_id`, Prisma.sql`CASE r.status WHEN 'COMPLETED' THEN 'REWARD_CONFIRMED' ELSE 'REWARD_FAILED' END`, Prisma.sql`r.id`)}
        LIMIT ${chunk}
        ON CONFLICT (user_id, kind, subject_id) DO NOTHING`;
  }
}

/**
 * Reads each source from its cursor (less the overlap) to `now`, DERIVE_CHUNK new notifications
 * per statement until none is left, then moves the cursor; how many notifications are new. A run
 * cut off midway leaves the cursor where it was: the next one finds the rest.
 */
export async function deriveNotifications(db: Db, now: Date, signal?: AbortSignal, chunk = DERIVE_CHUNK): Promise<number> {
  let added = 0;
  for (const source of ['settlements', 'badge_awards', 'payouts'] as const) {
    const cursor = await db.notificationCursor.findUnique({ where: { source } });
    const since = cursor ? new Date(Math.min(cursor.until.getTime(), now.getTime()) - OVERLAP_MS) : new Date(now.getTime() - FIRST_LOOK_BACK_MS);
    for (let n = chunk; n === chunk; added += n) {
      if (signal?.aborted) return added;
      n = await db.$executeRaw`${derive(source, since, now, chunk)}`;
    }
    await db.notificationCursor.upsert({ where: { source }, create: { source, until: now }, update: { until: now } });
  }
  return added;
}

/**
 * Tells subscribers (notificationAdded) about notifications not yet published, a chunk at a
 * time: marked first, then published, so a crash between can skip a live message (the
 * notification itself stays in the list) but never repeat one.
 */
export async function publishNotifications(db: Db, pubsub: PubSub): Promise<number> {
  let published = 0;
  for (;;) {
    const rows = await db.$queryRaw<{ id: string; user_id: string }[]>`
      UPDATE notifications SET published_at = now()
      WHERE id IN (SELECT id FROM notifications WHERE published_at IS NULL ORDER BY id LIMIT ${PUBLISH_CHUNK} FOR UPDATE SKIP LOCKED)
      RETURNING id, user_id`;
    for (const row of rows.sort((a, b) => (a.id < b.id ? -1 : 1))) pubsub.publish('notificationAdded', row.user_id, { notificationId: row.id });
    published += rows.length;
    if (rows.length < PUBLISH_CHUNK) return published;
  }
}

/** Marks the viewer's notifications read: the given ones, or all. How many changed. */
export async function markRead(db: Db, userId: string, ids: readonly string[] | null, now = new Date()): Promise<number> {
  const { count } = await db.notification.updateMany({
    where: { userId, readAt: null, ...(ids ? { id: { in: [...ids] } } : {}) },
    data: { readAt: now },
  });
  return count;
}
