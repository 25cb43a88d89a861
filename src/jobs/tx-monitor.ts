import type { Logger } from 'pino';
import type { Chain } from '../chain/index.js';
import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { publishAfterCommit } from '../domain/notifications.js';
import { monitorPayouts, sendPayouts } from '../domain/payouts.js';
import { advanceClosedCases } from '../domain/reveal.js';
import { advancePendingCases, type SealingDeps } from '../domain/sealing.js';
import type { PubSub } from '../events.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/**
 * Job 3: everything Verdict has on its way to the chain. Pending cases go on (commitments sent,
 * followed until confirmed, then opened), closed cases get their ledger and reveal, pending
 * payouts are sent in batches, and every transaction is followed to its end.
 */
export const txMonitorJob: Job<{ db: Db; chain: Chain; log: Logger; pubsub: PubSub; config: Config; sealing: SealingDeps }> = {
  name: 'tx-monitor',
  defaultSchedule: DEFAULT_SCHEDULES['tx-monitor'],
  async run({ db, chain, log, pubsub, config, sealing }, { now, signal }) {
    const deps = { db, chain, log, pubsub, confirmations: config.CHAIN_CONFIRMATIONS };
    const commitments = await advancePendingCases(sealing, now, signal);
    const reveals = await advanceClosedCases(deps, now);
    let sendError: string | null = null;
    const sent = await sendPayouts(deps, now).catch((error: unknown) => {
      sendError = error instanceof Error ? error.message : String(error);
      log.warn({ err: error }, 'sending payouts failed; the next run retries');
      return { batches: [], rewards: 0 };
    });
    const report = await monitorPayouts(deps, now);
    if (report.confirmed.length + report.failed.length > 0) await publishAfterCommit(db, pubsub, log);
    const failures = report.failed.length + report.errors.length + (sendError ? 1 : 0) + commitments.errors.length + reveals.errors.length;
    const items =
      sent.batches.length + report.confirmed.length + report.failed.length + report.pending.length + report.errors.length + (sendError ? 1 : 0) +
      commitments.opened.length + commitments.waiting.length + commitments.errors.length +
      reveals.revealed.length + reveals.confirmed.length + reveals.waiting.length + reveals.errors.length;
    return { items, successes: items - failures, failures, summary: { commitments, reveals, sent, ...report, sendError } };
  },
};
