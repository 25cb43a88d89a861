import type { Db } from '../db.js';
import { PERIODS, refreshLeaderboards } from '../domain/leaderboard.js';
import type { PubSub } from '../events.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/**
 * Job 5: the three periods brought up to date and cached (see refreshLeaderboards), then each
 * announced once with its new top entries.
 */
export const leaderboardJob: Job<{ db: Db; pubsub: PubSub }> = {
  name: 'leaderboard',
  defaultSchedule: DEFAULT_SCHEDULES.leaderboard,
  async run({ db, pubsub }, { now }) {
    const cached: Record<string, number> = {};
    const tops = await refreshLeaderboards(db, now);
    for (const period of PERIODS) {
      const entries = tops.get(period)!;
      cached[period] = entries.length;
      pubsub.publish('leaderboardUpdated', period, { period, computedAt: now.toISOString(), entries });
    }
    return { items: PERIODS.length, successes: PERIODS.length, failures: 0, summary: { cached } };
  },
};
