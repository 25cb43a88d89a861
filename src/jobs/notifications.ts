import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { sendDigests } from '../domain/digests.js';
import type { Mailer } from '../domain/mail.js';
import { notifyClosedCases, publishNotifications } from '../domain/notifications.js';
import type { SessionKeys } from '../domain/sessions.js';
import type { PubSub } from '../events.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/**
 * Job 10: the notifications themselves are written with the changes they report (a badge award,
 * a payout settled) or right after (a case's closure); this job writes those of closed cases
 * whose participants were not told (the closing server stopped in between), publishes
 * notificationAdded for any not published yet (the changing job stopped between commit and
 * publish) and, with SMTP_URL, mails the digests that are due.
 */
export const notificationsJob: Job<{ db: Db; pubsub: PubSub; config: Config; mailer: Mailer | null; sessions: SessionKeys }> = {
  name: 'notifications',
  defaultSchedule: DEFAULT_SCHEDULES.notifications,
  async run({ db, pubsub, config, mailer, sessions }, { now }) {
    const closedCasesTold = await notifyClosedCases(db);
    const published = await publishNotifications(db, pubsub);
    const mail = mailer ? await sendDigests(db, mailer, config, sessions.secret, now) : { sent: 0, refused: 0 };
    return {
      items: closedCasesTold + published + mail.sent + mail.refused,
      successes: closedCasesTold + published + mail.sent,
      failures: mail.refused,
      summary: { closedCasesTold, published, ...mail },
    };
  },
};
