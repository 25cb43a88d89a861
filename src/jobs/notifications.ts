import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { sendDigests } from '../domain/digests.js';
import type { Mailer } from '../domain/mail.js';
import { deriveNotifications, publishNotifications } from '../domain/notifications.js';
import type { SessionKeys } from '../domain/sessions.js';
import type { PubSub } from '../events.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/**
 * Job 10: turns what happened since its last run (cases closed, badges awarded, payouts
 * confirmed or failed) into each user's notifications, once each, publishes notificationAdded
 * for those not yet published, and, with SMTP_URL, mails the digests that are due.
 */
export const notificationsJob: Job<{ db: Db; pubsub: PubSub; config: Config; mailer: Mailer | null; sessions: SessionKeys }> = {
  name: 'notifications',
  defaultSchedule: DEFAULT_SCHEDULES.notifications,
  async run({ db, pubsub, config, mailer, sessions }, { now, signal }) {
    const added = await deriveNotifications(db, now, signal);
    const published = await publishNotifications(db, pubsub);
    const mail = mailer ? await sendDigests(db, mailer, config, sessions.secret, now) : { sent: 0, refused: 0 };
    return { items: added + mail.sent + mail.refused, successes: added + mail.sent, failures: mail.refused, summary: { added, published, ...mail } };
  },
};
