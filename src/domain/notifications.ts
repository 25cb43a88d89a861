import { Prisma } from '../generated/prisma/client.js';
import type { Logger } from 'pino';
import type { Db } from '../db.js';
import type { PubSub } from '../events.js';
import type { NotifyChannel } from '../generated/prisma/enums.js';
import { BADGES } from './badges.js';

export interface NotificationSettingsShape {
  caseClosed: NotifyChannel;
  badgeEarned: NotifyChannel;
  rewardConfirmed: NotifyChannel;
  rewardFailed: NotifyChannel;
}
/** A user without a notification_settings row has these. */
export const DEFAULT_SETTINGS: NotificationSettingsShape = { caseClosed: 'EMAIL', badgeEarned: 'EMAIL', rewardConfirmed: 'EMAIL', rewardFailed: 'EMAIL' };

/** Notifications published per statement. */
export const PUBLISH_CHUNK = 1000;

// Each notification row is written by the statement or transaction that makes the change it
// reports (the outbox): committed with it or not at all, and once, by the unique key
// (user, kind, subject). A kind set to OFF in a user's settings is not written. A closure's
// thousands are the exception: its settlement row is the event, expanded right after the closing
// transaction by notifyClosedCase (see there).

/** Everyone who took part in a case (voted or argued), told its ruling, their side and their reward: run by notifyClosedCase. */
export function caseClosedNotifications(caseId: string): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO notifications (user_id, kind, subject_id, case_id, title, body)
    SELECT p.user_id, 'CASE_CLOSED', c.id, c.id, left('Closed: ' || c.title, 200),
      CASE WHEN s.outcome = 'VOID' THEN 'This case was void (' || coalesce(s.reason, 'its ruling could not be verified') || '): nothing was paid.'
      ELSE 'The judge ruled for "' || CASE s.winning_side WHEN 'A' THEN c.side_a_label ELSE c.side_b_label END || '". '
        || CASE WHEN v.side IS NULL THEN 'You argued but did not vote.' WHEN v.side = s.winning_side THEN 'You sided with the judge.' ELSE 'You sided against the judge.' END
        || ' Your reward: ' || coalesce(r.points, 0) || ' points.' END
    FROM case_settlements s
    JOIN cases c ON c.id = s.case_id
    CROSS JOIN (SELECT user_id FROM votes_all WHERE case_id = ${caseId}::uuid UNION SELECT user_id FROM arguments WHERE case_id = ${caseId}::uuid) p
    LEFT JOIN LATERAL (SELECT side FROM votes_all WHERE case_id = ${caseId}::uuid AND user_id = p.user_id) v ON true
    LEFT JOIN LATERAL (SELECT sum(amount) AS points FROM rewards WHERE case_id = ${caseId}::uuid AND user_id = p.user_id) r ON true
    LEFT JOIN notification_settings ns ON ns.user_id = p.user_id
    WHERE s.case_id = ${caseId}::uuid AND coalesce(ns.case_closed, 'EMAIL') <> 'OFF'
    ON CONFLICT (user_id, kind, subject_id) DO NOTHING`;
}

/**
 * Tells a closed case's participants (one CASE_CLOSED notification each) and marks its
 * settlement notified, in one transaction; false when it was told already. The closing
 * transaction commits the settlement with notified_at unset, and the closure job calls this right
 * after; the notifications job calls it (notifyClosedCases) for any a stopped server left. The
 * settlement row, locked first, keeps two callers from writing at once; the unique key
 * (user, kind, subject) keeps anyone from being told twice.
 */
export async function notifyClosedCase(db: Db, caseId: string): Promise<boolean> {
  return db.$transaction(async (tx) => {
    // No JIT: the planner overestimates a case's rows (votes_all is a view), and compiling the
    // statement took longer (≈ 0.5 s at 1M users) than running it.
    await tx.$queryRaw`SELECT set_config('jit', 'off', true)`;
    const claimed = await tx.$executeRaw`UPDATE case_settlements SET notified_at = now() WHERE case_id = ${caseId}::uuid AND notified_at IS NULL`;
    if (claimed === 0) return false;
    await tx.$executeRaw`${caseClosedNotifications(caseId)}`;
    return true;
  });
}

/** notifyClosedCase for every settlement not told yet, oldest first; how many were told. */
export async function notifyClosedCases(db: Db, limit = 20): Promise<number> {
  const pending = await db.$queryRaw<{ case_id: string }[]>`
    SELECT case_id FROM case_settlements WHERE notified_at IS NULL ORDER BY created_at LIMIT ${limit}`;
  let told = 0;
  for (const { case_id } of pending) if (await notifyClosedCase(db, case_id)) told++;
  return told;
}

/** The awards in `awarded` (a relation of id, user_id, badge_key), each told to its user: a CTE of the statement that awards them. */
export function badgeEarnedNotifications(awarded: Prisma.Sql): Prisma.Sql {
  const names = Prisma.join(BADGES.map((b) => Prisma.sql`(${b.key}, ${`${b.icon} ${b.name}`}, ${b.description}, ${b.bonus})`));
  return Prisma.sql`
    INSERT INTO notifications (user_id, kind, subject_id, title, body)
    SELECT a.user_id, 'BADGE_EARNED', a.id, 'Badge earned: ' || b.name, b.description || ' — ' || b.bonus || ' bonus points.'
    FROM ${awarded} a JOIN (VALUES ${names}) b(key, name, description, bonus) ON b.key = a.badge_key
    LEFT JOIN notification_settings ns ON ns.user_id = a.user_id
    WHERE coalesce(ns.badge_earned, 'EMAIL') <> 'OFF'
    ON CONFLICT (user_id, kind, subject_id) DO NOTHING`;
}

/**
 * The rewards of a payout transaction that settled for good (COMPLETED or FAILED), each told to
 * its user: run in the transaction that settles them. Rewards put back in the queue tell nothing yet.
 */
export function payoutNotifications(txId: string): Prisma.Sql {
  const confirmed = Prisma.sql`r.status = 'COMPLETED'`;
  return Prisma.sql`
    INSERT INTO notifications (user_id, kind, subject_id, case_id, title, body)
    SELECT r.user_id, (CASE WHEN ${confirmed} THEN 'REWARD_CONFIRMED' ELSE 'REWARD_FAILED' END)::"NotificationKind", r.id, r.case_id,
      CASE WHEN ${confirmed} THEN r.amount || ' points confirmed on chain' ELSE 'A payout of ' || r.amount || ' points failed' END,
      CASE WHEN ${confirmed} THEN 'Transaction ' || t.hash || ' paid them to your wallet.'
        ELSE 'Transaction ' || t.hash || ' did not go through; an admin can send it again.' END
    FROM chain_transactions t JOIN rewards r ON r.payout_tx_id = t.id
    LEFT JOIN notification_settings ns ON ns.user_id = r.user_id
    WHERE t.id = ${txId}::uuid AND r.status IN ('COMPLETED', 'FAILED')
      AND coalesce(CASE WHEN ${confirmed} THEN ns.reward_confirmed ELSE ns.reward_failed END, 'EMAIL') <> 'OFF'
    ON CONFLICT (user_id, kind, subject_id) DO NOTHING`;
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

/**
 * publishNotifications right after a job committed changes that carry notifications; a failure
 * here changes nothing committed (logged as a warning), and the notifications job publishes what
 * is left.
 */
export function publishAfterCommit(db: Db, pubsub: PubSub, log: Logger): Promise<number> {
  return publishNotifications(db, pubsub).catch((error: unknown) => {
    log.warn({ err: error }, 'publishing new notifications failed; the notifications job publishes them');
    return 0;
  });
}

/** Marks the viewer's notifications read: the given ones, or all. How many changed. */
export async function markRead(db: Db, userId: string, ids: readonly string[] | null, now = new Date()): Promise<number> {
  const { count } = await db.notification.updateMany({
    where: { userId, readAt: null, ...(ids ? { id: { in: [...ids] } } : {}) },
    data: { readAt: now },
  });
  return count;
}
