import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CaseDraft, Judge, JudgeRuling } from '../ai/judge.js';
import { caseKeyOf, type Chain } from '../chain/index.js';
import type { Db } from '../db.js';
import type { PubSub } from '../events.js';
import { Claimed, claimSend, releaseRefused, RESEND_UNSEEN_AFTER_MS } from './chain-claims.js';
import { computeCommitment, newSalt } from './commitment.js';
import { nextInspiration } from './topics.js';

export interface SealingDeps {
  db: Db;
  chain: Chain;
  judge: Judge;
  pubsub: PubSub;
  log: Logger;
  settings: { rewardPool: number; durationHours: number; confirmations: number };
}

// A case goes PENDING (ruling sealed, commitment computed) → commitment sent → mined and
// confirmed → OPEN. Each step is idempotent and re-entered by the case-generation and tx-monitor
// jobs, so a crash or a failing chain leaves a PENDING case to finish later, never a half-made
// open one. The database refuses to open a case
// whose commitment is not sent (cases_sealed_before_open_check).

function sealRuling(deps: SealingDeps, caseId: string, ruling: JudgeRuling) {
  const salt = newSalt();
  const commitment = computeCommitment({
    chainId: deps.chain.chainId,
    registryAddress: deps.chain.registryAddress,
    caseId,
    side: ruling.side,
    reasoning: ruling.reasoning,
    salt,
  });
  return { salt, commitment };
}

/** Job 1's new case: written and ruled by the judge, sealed, then committed and opened. */
export async function generateCase(deps: SealingDeps, now = new Date()): Promise<string> {
  // From the best fresh topic no case was written from yet, when the topic scan found one.
  const inspiration = await nextInspiration(deps.db, now);
  const { ruling, ...draft } = await deps.judge.writeCase(inspiration ?? undefined);
  const caseId = randomUUID();
  const { salt, commitment } = sealRuling(deps, caseId, ruling);
  await deps.db.case.create({
    data: {
      id: caseId,
      title: draft.title,
      dilemma: draft.dilemma,
      sideALabel: draft.sideA,
      sideBLabel: draft.sideB,
      source: deps.judge.source,
      status: 'PENDING',
      opensAt: now,
      closesAt: new Date(now.getTime() + deps.settings.durationHours * 3600_000),
      rewardPool: deps.settings.rewardPool,
      commitment,
      inspiredById: inspiration?.topicId ?? null,
      ruling: { create: { side: ruling.side, reasoning: ruling.reasoning, salt, judge: deps.judge.name } },
    },
  });
  await advancePending(deps, caseId, now);
  return caseId;
}

/** Seals the judge's ruling on a user's case; only the first of concurrent rulers writes it. */
async function ruleOnSubmittedCase(deps: SealingDeps, caseId: string): Promise<void> {
  const c = await deps.db.case.findUnique({ where: { id: caseId } });
  if (!c || c.status !== 'PENDING' || c.commitment) return;
  const draft: CaseDraft = { title: c.title, dilemma: c.dilemma, sideA: c.sideALabel, sideB: c.sideBLabel };
  const ruling = await deps.judge.rule(draft);
  const { salt, commitment } = sealRuling(deps, caseId, ruling);
  await deps.db.$transaction(async (tx) => {
    const claimed = await tx.case.updateMany({ where: { id: caseId, commitment: null }, data: { commitment } });
    if (claimed.count !== 1) return;
    await tx.sealedRuling.create({ data: { caseId, side: ruling.side, reasoning: ruling.reasoning, salt, judge: deps.judge.name } });
  });
}

export type OpenOutcome = 'opened' | 'pending' | 'skipped' | 'mismatch';

/**
 * Takes a PENDING case as far as it can go now: ruled and sealed, commitment sent, and opened
 * once the commitment is mined with CHAIN_CONFIRMATIONS confirmations. Every step is idempotent
 * and safe to race: whoever calls it (the sealer, case-generation, tx-monitor, another server),
 * each case is ruled on, committed and opened exactly once.
 */
export async function advancePending(deps: SealingDeps, caseId: string, now = new Date(), resends = 1): Promise<OpenOutcome> {
  await ruleOnSubmittedCase(deps, caseId);
  const c = await deps.db.case.findUnique({ where: { id: caseId } });
  if (!c || c.status !== 'PENDING' || !c.commitment || c.commitmentStatus === 'MISMATCH') return 'skipped';
  if (c.commitmentStatus === 'UNSENT') {
    const sent = await sendCommitment(deps, c, now);
    if (sent !== 'sent') return sent;
  }
  const outcome = await openWhenConfirmed(deps, caseId, now);
  if (outcome !== 'resend') return outcome;
  // A failed commitment went back to UNSENT: send it again now (once per call).
  return resends > 0 ? advancePending(deps, caseId, now, resends - 1) : 'pending';
}

type PendingCase = { id: string; commitment: string | null; opensAt: Date; closesAt: Date };

const durationOf = (c: PendingCase) => c.closesAt.getTime() - c.opensAt.getTime();

function reportMismatch(deps: SealingDeps, caseId: string, stored: string | null, onChain: string | null) {
  deps.log.error({ caseId, stored, onChain }, 'COMMITMENT MISMATCH: the chain holds another commitment for this case; it stays closed to voting');
  return deps.db.case.update({ where: { id: caseId }, data: { commitmentStatus: 'MISMATCH' } });
}

/**
 * Sends the commitment of a sealed case, with the time from which the registry accepts its
 * reveal. The send is claimed in the database (the transaction's hash recorded) before the signed
 * transaction is broadcast, so of two racing senders only one ever broadcasts.
 */
async function sendCommitment(deps: SealingDeps, c: PendingCase, now: Date): Promise<'sent' | 'skipped' | 'mismatch'> {
  const { db, chain, log } = deps;
  const key = caseKeyOf(c.id);
  const onChain = await chain.readCommitment(key);
  if (onChain !== null && onChain !== c.commitment) {
    await reportMismatch(deps, c.id, c.commitment, onChain);
    return 'mismatch';
  }
  let recorded: string | undefined;
  const claim = async (hash: string, revealAfter: Date | null) => {
    await claimSend(db, { kind: 'COMMIT', hash, chainId: chain.chainId, at: now }, (tx, commitTxId) =>
      tx.case.updateMany({
        where: { id: c.id, status: 'PENDING', commitmentStatus: 'UNSENT', commitTxId: null },
        data: { commitmentStatus: 'SENT', commitTxId, ...(revealAfter ? { revealAfter } : {}) },
      }),
    );
    recorded = hash;
  };
  try {
    if (onChain !== null) {
      // An earlier attempt reached the chain: follow that transaction instead of sending again.
      const found = await chain.findCommit(key);
      if (!found) return 'skipped';
      await claim(found.hash, null);
    } else {
      const revealAfter = new Date(now.getTime() + durationOf(c));
      const { hash } = await chain.commit(key, c.commitment!, revealAfter, (hash) => claim(hash, revealAfter)).catch(async (error: unknown) => {
        // Recorded, then refused by the node: free the case for the next run at once.
        if (recorded) {
          await releaseRefused(db, chain, recorded, error instanceof Error ? error.message : String(error), (tx, commitTxId) =>
            tx.case.updateMany({ where: { id: c.id, status: 'PENDING', commitTxId }, data: { commitmentStatus: 'UNSENT', commitTxId: null } }),
          );
        }
        throw error;
      });
      log.info({ caseId: c.id, hash }, 'commitment sent');
    }
    return 'sent';
  } catch (error) {
    if (error instanceof Claimed) return 'skipped';
    // Refused before it was sent (e.g. gas estimation after a racing sender's commit was mined):
    // nothing to do when someone else has it in hand.
    const fresh = await db.case.findUnique({ where: { id: c.id }, select: { commitTxId: true } });
    if (fresh?.commitTxId) return 'skipped';
    throw error;
  }
}

/** The longest the opener waits for the second after the commitment's block. */
const MAX_OPEN_WAIT_MS = 2_000;

/**
 * Opens a case whose commitment transaction has CHAIN_CONFIRMATIONS confirmations, with `opensAt`
 * strictly after the including block's timestamp (to the second) and a full voting window. A
 * reverted or vanished transaction goes back to be sent again: the case is still PENDING, so no
 * vote exists yet.
 */
async function openWhenConfirmed(deps: SealingDeps, caseId: string, now: Date): Promise<OpenOutcome | 'resend'> {
  const { db, chain, log } = deps;
  const c = await db.case.findUnique({ where: { id: caseId }, include: { commitTx: true } });
  if (!c || c.status !== 'PENDING' || c.commitmentStatus !== 'SENT' || !c.commitTx) return 'skipped';
  const tx = c.commitTx;
  const status = await chain.transactionStatus(tx.hash, deps.settings.confirmations);
  const resend = async (why: string) => {
    await db.$transaction([
      db.chainTransaction.update({ where: { id: tx.id }, data: { status: 'FAILED', error: why, lastCheckedAt: now, settledAt: now } }),
      db.case.updateMany({ where: { id: caseId, status: 'PENDING', commitTxId: tx.id }, data: { commitmentStatus: 'UNSENT', commitTxId: null } }),
    ]);
    log.warn({ caseId, hash: tx.hash, why }, 'commitment transaction failed; it will be sent again');
    return 'resend' as const;
  };
  if (status.state === 'reverted') return resend('reverted');
  if (status.state === 'not_found') return now.getTime() - tx.sentAt.getTime() > RESEND_UNSEEN_AFTER_MS ? resend('not found') : 'pending';
  if (status.state === 'pending' || !status.blockTimestamp) {
    await db.chainTransaction.update({ where: { id: tx.id }, data: { lastCheckedAt: now, blockNumber: status.blockNumber } });
    return 'pending';
  }
  const onChain = await chain.readCommitment(caseKeyOf(caseId));
  if (onChain !== c.commitment) {
    await reportMismatch(deps, caseId, c.commitment, onChain);
    return 'mismatch';
  }
  // Strictly after the block's second: the first instant of the next second, or now if later.
  // `now` is when the run started; mining may have taken a while since (a busy machine).
  const current = Math.max(now.getTime(), Date.now());
  const opensAt = new Date(Math.max(current, status.blockTimestamp.getTime() + 1000));
  const wait = opensAt.getTime() - current;
  if (wait > MAX_OPEN_WAIT_MS) return 'pending';
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const opened = await db.$transaction(async (t) => {
    await t.chainTransaction.update({
      where: { id: tx.id },
      data: { status: 'CONFIRMED', blockNumber: status.blockNumber, blockTimestamp: status.blockTimestamp, lastCheckedAt: now, settledAt: now },
    });
    const updated = await t.case.updateMany({
      where: { id: caseId, status: 'PENDING', commitmentStatus: 'SENT', commitTxId: tx.id },
      data: { status: 'OPEN', commitmentStatus: 'VERIFIED', verifiedAt: now, opensAt, closesAt: new Date(opensAt.getTime() + durationOf(c)) },
    });
    return updated.count === 1;
  });
  if (!opened) return 'skipped';
  log.info({ caseId, commitTx: tx.hash, block: status.blockNumber?.toString() }, 'case opened');
  deps.pubsub.publish('caseOpened', { caseId });
  return 'opened';
}

/** Every PENDING case still on its way (at most 100), taken one step further; each fails on its own. */
export async function advancePendingCases(deps: SealingDeps, now: Date, signal?: AbortSignal) {
  const pending = await deps.db.case.findMany({
    where: { status: 'PENDING', commitmentStatus: { in: ['UNSENT', 'SENT'] } },
    select: { id: true },
    orderBy: { createdAt: 'asc' },
    take: 100,
  });
  const report = { opened: [] as string[], waiting: [] as string[], errors: [] as string[] };
  for (const { id } of pending) {
    if (signal?.aborted) break;
    try {
      const outcome = await advancePending(deps, id, now);
      if (outcome === 'opened') report.opened.push(id);
      else if (outcome === 'pending') report.waiting.push(id);
    } catch (error) {
      report.errors.push(`${id}: ${error instanceof Error ? error.message : String(error)}`);
      deps.log.warn({ err: error, caseId: id }, 'a pending case could not go further; the next run retries');
    }
  }
  return report;
}

/**
 * Rules on submitted cases in the background, so `createCase` answers at once; the
 * case-generation job picks up any that fail here. stop() waits for those under way.
 */
export function createSealer(deps: SealingDeps) {
  const inFlight = new Set<Promise<unknown>>();
  return {
    ruleSoon(caseId: string) {
      const work: Promise<unknown> = advancePending(deps, caseId)
        .catch((error: unknown) => deps.log.warn({ caseId, err: error }, 'ruling on a submitted case failed; the job will retry'))
        .finally(() => inFlight.delete(work));
      inFlight.add(work);
    },
    async stop() {
      await Promise.all(inFlight);
    },
  };
}

export type Sealer = ReturnType<typeof createSealer>;
