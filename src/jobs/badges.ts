import type { Logger } from 'pino';
import type { Db } from '../db.js';
import { awardBadges } from '../domain/badges-award.js';
import { publishAfterCommit } from '../domain/notifications.js';
import type { PubSub } from '../events.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/** Activity committed just before the last run started may not have been visible to it. */
const OVERLAP_MS = 60_000;

/**
 * Job 6: on schedule, looks only at users active since the last successful run; run by hand
 * (runJob, npm run job) it makes a full pass over everyone. Each chunk of users commits on its
 * own and its awards are announced right after.
 */
export const badgesJob: Job<{ db: Db; pubsub: PubSub; log: Logger }> = {
  name: 'badges',
  defaultSchedule: DEFAULT_SCHEDULES.badges,
  async run({ db, pubsub, log }, { now, trigger }) {
    const lastRun = await db.jobRun.findFirst({ where: { job: 'badges', status: 'SUCCEEDED' }, orderBy: { startedAt: 'desc' } });
    const since = trigger === 'schedule' && lastRun ? new Date(lastRun.startedAt.getTime() - OVERLAP_MS) : null;
    const result = await awardBadges(db, {
      since,
      now,
      onAwarded: (awards) => {
        for (const award of awards) pubsub.publish('badgeAwarded', award);
      },
    });
    if (result.awarded > 0) await publishAfterCommit(db, pubsub, log);
    return {
      items: result.awarded,
      successes: result.awarded,
      failures: 0,
      summary: { fullPass: since === null, chunks: result.chunks, awarded: result.byBadge },
    };
  },
};
