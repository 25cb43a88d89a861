import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import type { BadgeAwarded } from './domain/badges-award.js';
import type { LeaderboardEntry } from './domain/leaderboard.js';

export interface LeaderboardUpdate {
  period: string;
  computedAt: string;
  entries: LeaderboardEntry[];
}

/**
 * The typed topic map. Payloads carry ids only: subscribers re-read the rows through Prisma so
 * the same field rules apply to live events as to queries. Publish only after the commit.
 */
export type Topics = {
  caseOpened: [{ caseId: string }];
  caseClosed: [{ caseId: string }];
  jobCompleted: [{ runId: string }];
  /** Per period; carries the public top entries, so no subscriber has to query. */
  leaderboardUpdated: [period: string, LeaderboardUpdate];
  /** Public facts of one award; subscribers filter by handle. */
  badgeAwarded: [BadgeAwarded];
  /** Per user: only that user's subscription hears it. */
  rewardUpdated: [userId: string, { rewardId: string }];
  /** Per user: a notification of theirs, once its row committed. */
  notificationAdded: [userId: string, { notificationId: string }];
};

export type PubSub = ReturnType<typeof createPubSub<Topics>>;

export interface Events {
  pubsub: PubSub;
  close(): Promise<void>;
}

/**
 * In-process by default. With a Redis URL every event goes through Redis, so a subscriber on
 * any server hears what any other server published.
 */
export function createEvents(redisUrl?: string): Events {
  if (!redisUrl) return { pubsub: createPubSub<Topics>(), close: async () => {} };
  const publishClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  return {
    pubsub: createPubSub<Topics>({ eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) }),
    async close() {
      await Promise.all([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}
