import type { Db } from '../db.js';
import { computeDays, daysToCompute, isoDay } from '../domain/analytics.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/**
 * Job 8: the platform's figures per UTC day. Backfills every completed day without a row and
 * recomputes the last eight (day-7 retention settles a week late), at most 31 days per statement,
 * each range on its own: a failed range is reported and written by the next run.
 */
export const analyticsJob: Job<{ db: Db }> = {
  name: 'analytics',
  defaultSchedule: DEFAULT_SCHEDULES.analytics,
  async run({ db }, { now, runId, signal }) {
    const ranges = await daysToCompute(db, now);
    const summary = { days: 0, from: null as string | null, to: null as string | null, errors: [] as string[] };
    let successes = 0;
    for (const [first, last] of ranges) {
      if (signal.aborted) break;
      try {
        summary.days += await computeDays(db, first, last, now, runId ?? null);
        summary.from ??= isoDay(first);
        summary.to = isoDay(last);
        successes += 1;
      } catch (error) {
        summary.errors.push(`${isoDay(first)}..${isoDay(last)}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return { items: ranges.length, successes, failures: ranges.length - successes, summary };
  },
};
