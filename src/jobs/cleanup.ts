import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { archiveOldCases } from '../domain/archive.js';
import { tidy } from '../domain/cleanup.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/**
 * Job 9: archives the votes and upvotes of cases closed more than ARCHIVE_AFTER_DAYS ago, deletes
 * what has served its purpose, in bounded chunks, and vacuums what shrank.
 */
export const cleanupJob: Job<{ db: Db; config: Config }> = {
  name: 'cleanup',
  defaultSchedule: DEFAULT_SCHEDULES.cleanup,
  async run({ db, config }, { now, signal }) {
    const archivedCases = await archiveOldCases(db, now, config.ARCHIVE_AFTER_DAYS, signal);
    const report = await tidy(db, now, { jobRunsKeepDays: config.JOB_RUNS_KEEP_DAYS, archivedCases });
    return { items: 1, successes: 1, failures: 0, summary: { archivedCases, ...report } };
  },
};
