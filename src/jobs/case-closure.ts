import type { Logger } from 'pino';
import type { Db } from '../db.js';
import { closeCase, dueCases } from '../domain/settlement.js';
import type { PubSub } from '../events.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/** Job 2: closes due cases, each in its own transaction, and announces each after its commit. */
export const caseClosureJob: Job<{ db: Db; pubsub: PubSub; log: Logger }> = {
  name: 'case-closure',
  defaultSchedule: DEFAULT_SCHEDULES['case-closure'],
  async run({ db, pubsub, log }, { now, signal }) {
    const due = await dueCases(db, now);
    const closed: string[] = [];
    const errors: string[] = [];
    for (const caseId of due) {
      if (signal.aborted) break;
      try {
        const result = await closeCase(db, caseId, now);
        if (result) {
          closed.push(caseId);
          pubsub.publish('caseClosed', { caseId });
        }
      } catch (error) {
        log.error({ err: error, caseId }, 'closing a case failed; the next run retries it');
        errors.push(`${caseId}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return { items: due.length, successes: due.length - errors.length, failures: errors.length, summary: { closed, errors } };
  },
};
