import type { Db } from '../db.js';
import { deriveNotifications, publishNotifications } from '../domain/notifications.js';
import type { PubSub } from '../events.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/**
 * Job 10: turns what happened since its last run (cases closed, badges awarded, payouts
 * confirmed or failed) into each user's notifications, once each, then publishes
 * notificationAdded for those not yet published.
 */
export const notificationsJob: Job<{ db: Db; pubsub: PubSub }> = {
  name: 'notifications',
  defaultSchedule: DEFAULT_SCHEDULES.notifications,
  async run({ db, pubsub }, { now }) {
    const added = await deriveNotifications(db, now);
    const published = await publishNotifications(db, pubsub);
    return { items: added, successes: added, failures: 0, summary: { added, published } };
  },
};
