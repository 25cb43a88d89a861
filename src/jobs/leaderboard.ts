import type { Db } from '../db.js';
import { PERIODS, refreshLeaderboard } from '../domain/leaderboard.js';
import type { PubSub } from '../events.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/**
 * Job 5: the three periods side by side (each its own transaction), each cached and then
 * announced once with its new top entries.
 */
export const leaderboardJob: Job<{ db: Db; pubsub: PubSub }> = {
  name: 'leaderboard',
  defaultSchedule: DEFAULT_SCHEDULES.leaderboard,
  async run({ db, pubsub }, { now }) {
    const cached: Record<string, number> = {};
    await Promise.all(
      PERIODS.map(async (period) => {
        const entries = await refreshLeaderboard(db, period, now);
        cached[period] = entries.length;
        pubsub.publish('leaderboardUpdated', period, { period, computedAt: now.toISOString(), entries });
      }),
    );
    return { items: PERIODS.length, successes: PERIODS.length, failures: 0, summary: { cached } };
  },
};
