import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
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
  /** Per case: a vote or argument on it, or its closure, committed. Coalesced by subscribers (caseUpdated). */
  caseUpdated: [caseId: string, { caseId: string }];
  jobCompleted: [{ runId: string }];
  /** Per period; carries the public top entries, so no subscriber has to query. */
  leaderboardUpdated: [period: string, LeaderboardUpdate];
  /** Public facts of one award; subscribers filter by handle. */
  badgeAwarded: [BadgeAwarded];
  /** Per user: only that user's subscription hears it. */
  rewardUpdated: [userId: string, { rewardId: string }];
  /** Per user: a notification of theirs, once its row committed. */
  notificationAdded: [userId: string, { notificationId: string }];
  /** Sessions that ended (sign-out, password change or reset, account deletion): their sockets close. */
  sessionsRevoked: [{ sessionIds: string[] }];
};

export type PubSub = ReturnType<typeof createPubSub<Topics>>;

export interface Events {
  pubsub: PubSub;
  close(): Promise<void>;
}

/**
 * One Redis client as the event target sees it: channels in REDIS_PREFIX's namespace (so
 * installations sharing a Redis never hear each other), and a failed command reported instead of
 * left to reject unhandled (a Redis outage loses live events; it never stops the server).
 */
function namespaced(client: Redis, prefix: string, log: Logger): Redis {
  const report = (what: string) => (error: unknown) => log.warn({ err: error }, `Redis ${what} failed: live events may be missed until Redis is back`);
  const adapter = {
    on(event: string, listener: (channel: string, message: string) => void) {
      client.on(event, (channel: string, message: string) => {
        if (channel.startsWith(prefix)) listener(channel.slice(prefix.length), message);
      });
      return adapter;
    },
    publish: (channel: string, message: string) => client.publish(prefix + channel, message).catch(report('publish')),
    subscribe: (channel: string) => client.subscribe(prefix + channel).catch(report('subscribe')),
    unsubscribe: (channel: string) => client.unsubscribe(prefix + channel).catch(report('unsubscribe')),
  };
  return adapter as unknown as Redis;
}

/** Connection errors at error level (an operator must look), at most once a minute per client. */
function reportConnectionErrors(client: Redis, name: string, log: Logger) {
  let last = 0;
  client.on('error', (error: unknown) => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    log.error({ err: error, client: name }, 'Redis connection failed; retrying (live events between servers are lost meanwhile)');
  });
}

/**
 * In-process by default. With a Redis URL every event goes through Redis, so a subscriber on
 * any server hears what any other server published.
 */
export function createEvents(redisUrl: string | undefined, options: { prefix: string; log: Logger }): Events {
  if (!redisUrl) return { pubsub: createPubSub<Topics>(), close: async () => {} };
  const publishClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  reportConnectionErrors(publishClient, 'publish', options.log);
  reportConnectionErrors(subscribeClient, 'subscribe', options.log);
  const prefix = `${options.prefix}events:`;
  return {
    pubsub: createPubSub<Topics>({
      eventTarget: createRedisEventTarget({
        publishClient: namespaced(publishClient, prefix, options.log),
        subscribeClient: namespaced(subscribeClient, prefix, options.log),
      }),
    }),
    async close() {
      // A command still in flight (or Redis gone) must not fail the shutdown.
      await Promise.all([publishClient, subscribeClient].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
