import type { Logger } from 'pino';
import type { Chain } from '../chain/index.js';
import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { monitorPayouts, sendPayouts } from '../domain/payouts.js';
import type { PubSub } from '../events.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/** Job 3: sends pending payouts in batches, then follows payout transactions to their end. */
export const txMonitorJob: Job<{ db: Db; chain: Chain; log: Logger; pubsub: PubSub; config: Config }> = {
  name: 'tx-monitor',
  defaultSchedule: DEFAULT_SCHEDULES['tx-monitor'],
  async run({ db, chain, log, pubsub, config }, { now }) {
    const deps = { db, chain, log, pubsub, confirmations: config.CHAIN_CONFIRMATIONS };
    let sendError: string | null = null;
    const sent = await sendPayouts(deps, now).catch((error: unknown) => {
      sendError = error instanceof Error ? error.message : String(error);
      log.warn({ err: error }, 'sending payouts failed; the next run retries');
      return { batches: [], rewards: 0 };
    });
    const report = await monitorPayouts(deps, now);
    const failures = report.failed.length + report.errors.length + (sendError ? 1 : 0);
    const items = sent.batches.length + report.confirmed.length + report.failed.length + report.pending.length + report.errors.length + (sendError ? 1 : 0);
    return { items, successes: items - failures, failures, summary: { sent, ...report, sendError } };
  },
};
