import { Prisma } from '../generated/prisma/client.js';
import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { unsubscribeUrl, type Mailer } from './mail.js';

/** Digests claimed per run, and a delivery's attempts before it is given up (FAILED). */
export const DIGESTS_PER_RUN = 100;
export const MAX_ATTEMPTS = 5;
/** A refused send waits 2, 4, 8, 16 minutes before its next try. */
const backoffMs = (attempts: number) => 2 ** attempts * 60_000;

/** The channel a user chose for a notification's kind (no settings row: e-mail). */
const channel = Prisma.sql`CASE n.kind
  WHEN 'CASE_CLOSED' THEN coalesce(s.case_closed, 'EMAIL') WHEN 'BADGE_EARNED' THEN coalesce(s.badge_earned, 'EMAIL')
  WHEN 'REWARD_CONFIRMED' THEN coalesce(s.reward_confirmed, 'EMAIL') ELSE coalesce(s.reward_failed, 'EMAIL') END`;

/** A user's notifications waiting for e-mail: made since the address was verified, kind set to e-mail. */
const pending = (userId: Prisma.Sql) => Prisma.sql`
  SELECT n.id FROM notifications n
  JOIN user_emails e ON e.user_id = n.user_id AND e.verified_at IS NOT NULL AND n.created_at >= e.verified_at
  LEFT JOIN notification_settings s ON s.user_id = n.user_id
  WHERE n.user_id = ${userId} AND n.delivery_id IS NULL AND ${channel} = 'EMAIL'`;

class NothingToSend extends Error {}

/**
 * Claims one user's digest: moves digest_sent_at (at most one per NOTIFY_DIGEST_HOURS), records
 * the delivery and ties its notifications to it, in one transaction. Null when another server
 * has it or nothing is waiting.
 */
async function claimDigest(db: Db, userId: string, now: Date, due: Date): Promise<string | null> {
  try {
    return await db.$transaction(async (tx) => {
      const [email] = await tx.$queryRaw<{ address: string }[]>`
        UPDATE user_emails SET digest_sent_at = ${now}
        WHERE user_id = ${userId}::uuid AND verified_at IS NOT NULL AND (digest_sent_at IS NULL OR digest_sent_at <= ${due})
        RETURNING address`;
      if (!email) return null;
      const delivery = await tx.emailDelivery.create({ data: { userId, address: email.address, attempts: 1 } });
      const tied = await tx.$executeRaw`UPDATE notifications SET delivery_id = ${delivery.id}::uuid WHERE id IN (${pending(Prisma.sql`${userId}::uuid`)})`;
      if (tied === 0) throw new NothingToSend();
      return delivery.id;
    });
  } catch (error) {
    if (error instanceof NothingToSend) return null;
    throw error;
  }
}

/** Hands a claimed delivery to the SMTP server; a refusal is retried with backoff, never a second copy of an accepted one. */
async function send(db: Db, mailer: Mailer, config: Config, secret: Uint8Array, deliveryId: string, now: Date): Promise<boolean> {
  const delivery = await db.emailDelivery.findUniqueOrThrow({ where: { id: deliveryId }, include: { notifications: { orderBy: { id: 'asc' } } } });
  const unsubscribe = unsubscribeUrl(config, secret, delivery.userId);
  const lines = delivery.notifications.map((n) => `• ${n.title}\n  ${n.body}`);
  const text = [
    `What happened on Verdict (${delivery.notifications.length}):`,
    '',
    ...lines,
    '',
    `Stop these e-mails (one click, no sign-in): ${unsubscribe}`,
    'Choose what you get with updateNotificationSettings.',
    '',
  ].join('\n');
  try {
    await mailer.send({
      to: delivery.address,
      subject: delivery.notifications.length === 1 ? delivery.notifications[0]!.title : `Verdict: ${delivery.notifications.length} updates`,
      text,
      headers: { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    });
    await db.emailDelivery.update({ where: { id: deliveryId }, data: { status: 'SENT', sentAt: new Date(), error: null } });
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const last = delivery.attempts >= MAX_ATTEMPTS;
    await db.emailDelivery.update({
      where: { id: deliveryId },
      data: { status: last ? 'FAILED' : 'RETRY', error: message.slice(0, 500), nextAttempt: last ? null : new Date(now.getTime() + backoffMs(delivery.attempts)) },
    });
    return false;
  }
}

export interface DigestReport {
  sent: number;
  refused: number;
}

/**
 * The e-mail half of the notifications job: first the refused deliveries whose wait is over
 * (claimed by moving them back to SENDING, so one server sends each), then a digest for each
 * user with a verified address, notifications waiting and no digest in the last
 * NOTIFY_DIGEST_HOURS (at most DIGESTS_PER_RUN).
 */
export async function sendDigests(db: Db, mailer: Mailer, config: Config, secret: Uint8Array, now: Date): Promise<DigestReport> {
  const report: DigestReport = { sent: 0, refused: 0 };
  const count = (ok: boolean) => (ok ? report.sent++ : report.refused++);
  const retries = await db.$queryRaw<{ id: string }[]>`
    UPDATE email_deliveries SET status = 'SENDING', attempts = attempts + 1
    WHERE id IN (SELECT id FROM email_deliveries WHERE status = 'RETRY' AND next_attempt <= ${now} ORDER BY next_attempt LIMIT ${DIGESTS_PER_RUN} FOR UPDATE SKIP LOCKED)
    RETURNING id`;
  for (const { id } of retries) count(await send(db, mailer, config, secret, id, now));

  const due = new Date(now.getTime() - config.NOTIFY_DIGEST_HOURS * 3600_000);
  const users = await db.$queryRaw<{ user_id: string }[]>`
    SELECT e.user_id FROM user_emails e
    WHERE e.verified_at IS NOT NULL AND (e.digest_sent_at IS NULL OR e.digest_sent_at <= ${due})
      AND EXISTS (${pending(Prisma.sql`e.user_id`)})
    LIMIT ${DIGESTS_PER_RUN}`;
  for (const { user_id } of users) {
    const deliveryId = await claimDigest(db, user_id, now, due);
    if (deliveryId) count(await send(db, mailer, config, secret, deliveryId, now));
  }
  return report;
}
