import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { fetchFeed } from '../domain/feeds.js';
import { recordScan } from '../domain/topics.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/**
 * Job 7: reads each configured feed (TOPIC_FEEDS, nothing else) and records what is trending,
 * so case-generation can write from the best fresh topic. Each feed fails on its own: a slow,
 * huge, malformed or redirecting feed is reported and the others are still recorded.
 */
export const topicScanJob: Job<{ db: Db; log: Logger; config: Config }> = {
  name: 'topic-scan',
  defaultSchedule: DEFAULT_SCHEDULES['topic-scan'],
  async run({ db, log, config }, { now, signal }) {
    const feeds = config.TOPIC_FEEDS;
    const summary = { topics: 0, errors: [] as string[] };
    let successes = 0;
    for (const url of feeds) {
      if (signal.aborted) break;
      try {
        const items = await fetchFeed(url, { timeoutMs: config.TOPIC_FEED_TIMEOUT_MS, maxBytes: config.TOPIC_FEED_MAX_BYTES });
        summary.topics += await recordScan(db, items, now);
        successes += 1;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        summary.errors.push(`${url}: ${message}`);
        log.warn({ url, err: error }, 'a topic feed could not be read; the next scan tries again');
      }
    }
    const failures = feeds.length - successes;
    // One bad feed is the feed's problem; none readable at all is for an operator to look at.
    const error = feeds.length > 0 && successes === 0 && !signal.aborted ? 'no topic feed could be read' : undefined;
    return { items: feeds.length, successes, failures, summary, ...(error ? { error } : {}) };
  },
};
