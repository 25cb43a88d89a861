import type { Db } from '../db.js';
import { awardBadges } from '../domain/badges-award.js';
import type { PubSub } from '../events.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/**
 * Job 6: on schedule, looks only at users active since the last successful run; run by hand
 * (runJob, npm run job) it makes a full pass over everyone. Awards are announced after commit.
 */
export const badgesJob: Job<{ db: Db; pubsub: PubSub }> = {
  name: 'badges',
  defaultSchedule: DEFAULT_SCHEDULES.badges,
  async run({ db, pubsub }, { now, trigger }) {
    const lastRun = await db.jobRun.findFirst({ where: { job: 'badges', status: 'SUCCEEDED' }, orderBy: { startedAt: 'desc' } });
    const since = trigger === 'schedule' && lastRun ? lastRun.startedAt : null;
    const awarded = await awardBadges(db, since, now);
    for (const award of awarded) pubsub.publish('badgeAwarded', award);
    return {
      items: awarded.length,
      successes: awarded.length,
      failures: 0,
      summary: { fullPass: since === null, awarded: awarded.map((a) => `${a.handle}:${a.badgeKey}`) },
    };
  },
};
