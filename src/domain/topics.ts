import type { Inspiration } from '../ai/judge.js';
import type { Db } from '../db.js';
import type { FeedItem } from './feeds.js';

/** A topic counts as fresh, and its growth is measured, over this window of scans. */
export const TOPIC_WINDOW_MS = 24 * 3600_000;

export interface TrendingTopic {
  id: string;
  title: string;
  url: string;
  source: string;
  score: number;
  comments: number;
  /** How much score + comments grew between the window's first scan of it and its latest. */
  growth: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  usedByCaseId: string | null;
}

/**
 * One scan of one feed: each topic stored once (by source and link), its title and last sighting
 * kept current, and its score and comments as of `at` added to its history. Adult-flagged items
 * are dropped before anything is stored. One statement; rerunning a scan at the same `at` adds
 * nothing. Returns how many topics the scan saw.
 */
export async function recordScan(db: Db, items: readonly FeedItem[], at: Date): Promise<number> {
  const kept = items.filter((i) => !i.adult);
  if (kept.length === 0) return 0;
  const column = <T>(pick: (i: FeedItem) => T) => kept.map(pick);
  return db.$executeRaw`
    WITH input AS (
      SELECT * FROM unnest(${column((i) => i.source)}::text[], ${column((i) => i.link)}::text[], ${column((i) => i.title)}::text[],
        ${column((i) => Math.trunc(i.score))}::int[], ${column((i) => Math.trunc(i.comments))}::int[])
        AS i(source, link, title, score, comments)
    ),
    seen AS (
      INSERT INTO topics (source, link, title, first_seen_at, last_seen_at)
      SELECT DISTINCT ON (source, link) source, link, title, ${at}, ${at} FROM input ORDER BY source, link
      ON CONFLICT (source, link) DO UPDATE SET title = EXCLUDED.title, last_seen_at = greatest(topics.last_seen_at, EXCLUDED.last_seen_at)
      RETURNING id, source, link
    )
    INSERT INTO topic_scores (topic_id, scanned_at, score, comments)
    SELECT s.id, ${at}, max(i.score), max(i.comments) FROM seen s JOIN input i USING (source, link) GROUP BY s.id
    ON CONFLICT (topic_id, scanned_at) DO NOTHING`;
}

/**
 * Topics seen in the last 24 hours, fastest-growing first: growth is the rise of score plus
 * comments from the first scan of the window to the latest (0 after one scan); then the latest
 * score, then the newest.
 */
export function trendingTopics(db: Db, first: number, now: Date, options: { unusedOnly?: boolean } = {}): Promise<TrendingTopic[]> {
  const since = new Date(now.getTime() - TOPIC_WINDOW_MS);
  return db.$queryRaw<TrendingTopic[]>`
    SELECT t.id, t.title, t.link AS url, t.source, latest.score, latest.comments,
      (latest.score + latest.comments) - (earliest.score + earliest.comments) AS growth,
      t.first_seen_at AS "firstSeenAt", t.last_seen_at AS "lastSeenAt", c.id AS "usedByCaseId"
    FROM topics t
    CROSS JOIN LATERAL (SELECT score, comments FROM topic_scores
      WHERE topic_id = t.id AND scanned_at > ${since} AND scanned_at <= ${now} ORDER BY scanned_at DESC LIMIT 1) latest
    CROSS JOIN LATERAL (SELECT score, comments FROM topic_scores
      WHERE topic_id = t.id AND scanned_at > ${since} AND scanned_at <= ${now} ORDER BY scanned_at ASC LIMIT 1) earliest
    LEFT JOIN cases c ON c.inspired_by_id = t.id
    WHERE t.last_seen_at > ${since} AND (${!options.unusedOnly} OR c.id IS NULL)
    ORDER BY growth DESC, latest.score DESC, t.first_seen_at DESC, t.id
    LIMIT ${first}`;
}

/** The best fresh topic no case was written from yet, as the judge's inspiration. */
export async function nextInspiration(db: Db, now: Date): Promise<(Inspiration & { topicId: string }) | null> {
  const [best] = await trendingTopics(db, 1, now, { unusedOnly: true });
  return best ? { topicId: best.id, title: best.title, source: best.source, url: best.url } : null;
}
