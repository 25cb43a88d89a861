import type { Chain } from '../chain/index.js';
import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { checkCommitments } from '../domain/verification.js';
import type { Logger } from 'pino';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/** Job 4: confirms sent commitments; a mismatch fails the run so it shows in `jobs` and jobCompleted. */
export const verdictCheckJob: Job<{ db: Db; chain: Chain; log: Logger; config: Config }> = {
  name: 'verdict-check',
  defaultSchedule: DEFAULT_SCHEDULES['verdict-check'],
  async run({ db, chain, log, config }, { now }) {
    const check = await checkCommitments({ db, chain, log, confirmations: config.CHAIN_CONFIRMATIONS }, now);
    const failures = check.failed.length + check.mismatched.length;
    const items = check.verified.length + check.pending.length + check.resent.length + failures;
    return {
      items,
      successes: items - failures,
      failures,
      summary: { ...check, alert: check.mismatched.length > 0 ? 'COMMITMENT_MISMATCH' : null },
    };
  },
};
