import type { Logger } from 'pino';
import { caseKeyOf, type Chain } from '../chain/index.js';
import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { notifyClosedCase, publishAfterCommit } from '../domain/notifications.js';
import { recordLedger, sendReveal } from '../domain/reveal.js';
import { closeCase, dueCases, isLockTimeout } from '../domain/settlement.js';
import { disagreement } from '../domain/verification.js';
import type { PubSub } from '../events.js';
import { DEFAULT_SCHEDULES, type Job } from './types.js';

/**
 * Job 2: closes due cases, each in its own transaction, and announces each after its commit (the
 * participants' notifications in a second transaction: notifyClosedCase). A
 * case whose sealed ruling disagrees with its commitment (here or on chain) closes VOID. Then the
 * ledger is built and the reveal sent; tx-monitor finishes whatever could not be done here.
 */
/** Attempts per case and run when the case row stays locked (5 s each); the next run tries again. */
const CLOSE_ATTEMPTS = 3;

export const caseClosureJob: Job<{ db: Db; chain: Chain; pubsub: PubSub; log: Logger; config: Config }> = {
  name: 'case-closure',
  defaultSchedule: DEFAULT_SCHEDULES['case-closure'],
  async run({ db, chain, pubsub, log, config }, { now, signal }) {
    const due = await dueCases(db, now);
    const closed: string[] = [];
    const voided: string[] = [];
    const errors: string[] = [];
    for (const caseId of due) {
      if (signal.aborted) break;
      try {
        const sealed = await db.case.findUniqueOrThrow({
          where: { id: caseId },
          select: { id: true, commitment: true, commitmentStatus: true, ruling: { select: { side: true, reasoning: true, salt: true } } },
        });
        const voidReason = disagreement(chain, sealed, await chain.readCommitment(caseKeyOf(caseId)));
        let result = null;
        for (let attempt = 1; ; attempt++) {
          try {
            result = await closeCase(db, caseId, now, undefined, { voidReason });
            break;
          } catch (error) {
            if (!isLockTimeout(error) || attempt === CLOSE_ATTEMPTS) throw error;
            log.info({ caseId, attempt }, 'the case row stayed locked by votes in flight; closing again');
          }
        }
        if (!result) continue;
        (result.voidReason ? voided : closed).push(caseId);
        if (result.voidReason) log.error({ caseId, reason: result.voidReason }, 'case closed VOID: nothing paid, the pool went to the treasury');
        pubsub.publish('caseClosed', { caseId });
        pubsub.publish('caseUpdated', caseId, { caseId });
        // The participants are told in a transaction of their own; if this fails, the
        // notifications job tells them (the settlement says they were not told yet).
        await notifyClosedCase(db, caseId).catch((error: unknown) =>
          log.warn({ err: error, caseId }, 'telling the participants of a closed case failed; the notifications job retries'),
        );
      } catch (error) {
        log.error({ err: error, caseId }, 'closing a case failed; the next run retries it');
        errors.push(`${caseId}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (closed.length + voided.length > 0) await publishAfterCommit(db, pubsub, log);
    for (const caseId of closed) {
      if (signal.aborted) break;
      try {
        await recordLedger(db, caseId);
        await sendReveal({ db, chain, log, confirmations: config.CHAIN_CONFIRMATIONS }, caseId, now);
      } catch (error) {
        log.warn({ err: error, caseId }, 'the ledger or reveal of a closed case failed; tx-monitor retries');
      }
    }
    return { items: due.length, successes: due.length - errors.length, failures: errors.length, summary: { closed, voided, errors } };
  },
};
