import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Counts hits per key in fixed windows; `hit` answers the seconds to wait when over the limit, else 0. */
export interface HitCounter {
  hit(key: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Fixed-window counters in this process's memory: enough for one server. Behind a load balancer
 * each server would count on its own; with REDIS_URL the counters are shared (below).
 */
export class RateLimiter implements HitCounter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async hit(key: string): Promise<number> {
    return this.hitNow(key);
  }

  hitNow(key: string): number {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      if (this.windows.size > 100_000) this.sweep(now);
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    return window.count > this.limit ? Math.ceil((window.start + this.windowMs - now) / 1000) : 0;
  }

  async close() {}

  private sweep(now: number) {
    for (const [key, window] of this.windows) if (now - window.start >= this.windowMs) this.windows.delete(key);
  }
}

/**
 * The same fixed windows in Redis, shared by every server: one INCR per hit on a key named after
 * the window, which expires with it. If Redis cannot answer, this server counts alone meanwhile
 * (a warning, not a refusal of every request).
 */
export class RedisRateLimiter implements HitCounter {
  private readonly local: RateLimiter;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly log: Logger,
  ) {
    this.local = new RateLimiter(limit, windowMs);
  }

  async hit(key: string): Promise<number> {
    const now = Date.now();
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    const name = `${this.prefix}${start}:${key}`;
    try {
      const [[, count]] = (await this.redis.multi().incr(name).pexpire(name, this.windowMs + 1000).exec()) as [[Error | null, number]];
      return count > this.limit ? Math.ceil((start + this.windowMs - now) / 1000) : 0;
    } catch (error) {
      this.log.warn({ err: error }, 'Redis did not answer for a rate limit; counting on this server meanwhile');
      return this.local.hitNow(key);
    }
  }

  async close() {}
}

/** A shared Redis connection for the limiters of one server, when REDIS_URL is set. */
export function rateLimiters(options: { redisUrl?: string | undefined; prefix: string; log: Logger }) {
  const redis = options.redisUrl ? new Redis(options.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false }) : null;
  redis?.on('error', () => undefined); // reported per hit, as a warning
  return {
    limiter(name: string, limit: number, windowMs: number): HitCounter {
      return redis ? new RedisRateLimiter(redis, `${options.prefix}rl:${name}:`, limit, windowMs, options.log) : new RateLimiter(limit, windowMs);
    },
    async close() {
      await redis?.quit().catch(() => undefined);
    },
  };
}
