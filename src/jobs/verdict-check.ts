import type { Logger } from 'pino';
import type { Chain } from '../chain/index.js';
import type { Db } from '../db.js';
import { checkIntegrity } from '../domain/verification.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/**
 * Job 4: the integrity of every unsettled case, three ways. A disagreement fails the run with an
 * error naming the cases, so it shows in `jobs` and reaches admins through `jobCompleted`.
 */
export const verdictCheckJob: Job<{ db: Db; chain: Chain; log: Logger }> = {
  name: 'verdict-check',
  defaultSchedule: DEFAULT_SCHEDULES['verdict-check'],
  async run({ db, chain, log }, { now }) {
    const report = await checkIntegrity({ db, chain, log }, now);
    const failures = report.mismatched.length + report.failed.length;
    return {
      items: report.checked,
      successes: report.checked - failures,
      failures,
      summary: { ...report, alert: report.mismatched.length > 0 ? 'COMMITMENT_MISMATCH' : null },
      ...(report.mismatched.length > 0
        ? { error: `COMMITMENT_MISMATCH: ${report.mismatched.map((m) => `${m.caseId} (${m.disagreement})`).join(', ')}` }
        : {}),
    };
  },
};
