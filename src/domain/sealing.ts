import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CaseDraft, Judge, JudgeRuling } from '../ai/judge.js';
import { caseKeyOf, type Chain } from '../chain/index.js';
import type { Db } from '../db.js';
import type { PubSub } from '../events.js';
import { computeCommitment, newSalt } from './commitment.js';

export interface SealingDeps {
  db: Db;
  chain: Chain;
  judge: Judge;
  pubsub: PubSub;
  log: Logger;
  settings: { rewardPool: number; durationHours: number };
}

// A case goes PENDING (ruling sealed, commitment computed) → commitment sent → OPEN. Each step
// is idempotent and re-entered by the case-generation job, so a crash or a failing chain leaves a
// PENDING case to finish later, never a half-made open one. The database refuses to open a case
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

/** Job 1's new case: written and ruled by the judge, sealed, committed, opened. */
export async function generateCase(deps: SealingDeps, now = new Date()): Promise<string> {
  const { ruling, ...draft } = await deps.judge.writeCase();
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
      ruling: { create: { side: ruling.side, reasoning: ruling.reasoning, salt, judge: deps.judge.name } },
    },
  });
  await commitAndOpen(deps, caseId, now);
  return caseId;
}

/** A user's case: the judge rules on it, the ruling is sealed; then it is committed and opened. */
export async function ruleOnSubmittedCase(deps: SealingDeps, caseId: string, now = new Date()): Promise<OpenOutcome> {
  const c = await deps.db.case.findUnique({ where: { id: caseId } });
  if (!c || c.status !== 'PENDING') return 'skipped';
  if (!c.commitment) {
    const draft: CaseDraft = { title: c.title, dilemma: c.dilemma, sideA: c.sideALabel, sideB: c.sideBLabel };
    const ruling = await deps.judge.rule(draft);
    const { salt, commitment } = sealRuling(deps, caseId, ruling);
    const sealed = await deps.db.$transaction(async (tx) => {
      // Only the first of two concurrent rulers seals the case.
      const claimed = await tx.case.updateMany({ where: { id: caseId, commitment: null }, data: { commitment } });
      if (claimed.count !== 1) return false;
      await tx.sealedRuling.create({
        data: { caseId, side: ruling.side, reasoning: ruling.reasoning, salt, judge: deps.judge.name },
      });
      return true;
    });
    if (!sealed) return 'skipped';
  }
  return commitAndOpen(deps, caseId, now);
}

/**
 * Sends the commitment of a sealed PENDING case and opens it for its full voting window. When a
 * previous attempt's transaction already reached the chain, it is not sent again.
 */
export type OpenOutcome = 'opened' | 'skipped' | 'mismatch';

export async function commitAndOpen(deps: SealingDeps, caseId: string, now = new Date()): Promise<OpenOutcome> {
  const { db, chain, log } = deps;
  const c = await db.case.findUnique({ where: { id: caseId } });
  if (!c || c.status !== 'PENDING' || !c.commitment || c.commitmentStatus !== 'UNSENT') return 'skipped';

  const key = caseKeyOf(caseId);
  const onChain = await chain.readCommitment(key);
  if (onChain !== null && onChain !== c.commitment) {
    await db.case.update({ where: { id: caseId }, data: { commitmentStatus: 'MISMATCH' } });
    log.error({ caseId, stored: c.commitment, onChain }, 'COMMITMENT MISMATCH: the chain holds another commitment for this case; it stays closed to voting');
    return 'mismatch';
  }
  const sent = onChain === null ? await chain.commit(key, c.commitment) : await chain.findCommit(key);

  const closesAt = new Date(now.getTime() + (c.closesAt.getTime() - c.opensAt.getTime()));
  const opened = await db.$transaction(async (tx) => {
    const commitTx = sent
      ? await tx.chainTransaction.upsert({
          where: { hash: sent.hash },
          create: { kind: 'COMMIT', hash: sent.hash, chainId: chain.chainId },
          update: {},
        })
      : null;
    const updated = await tx.case.updateMany({
      where: { id: caseId, status: 'PENDING', commitmentStatus: 'UNSENT' },
      data: { status: 'OPEN', commitmentStatus: 'SENT', commitTxId: commitTx?.id ?? null, opensAt: now, closesAt },
    });
    return updated.count === 1;
  });
  if (!opened) return 'skipped';
  log.info({ caseId, commitTx: sent?.hash }, 'case opened');
  deps.pubsub.publish('caseOpened', { caseId });
  return 'opened';
}

/**
 * Rules on submitted cases in the background, so `createCase` answers at once; the
 * case-generation job picks up any that fail here. stop() waits for those under way.
 */
export function createSealer(deps: SealingDeps) {
  const inFlight = new Set<Promise<unknown>>();
  return {
    ruleSoon(caseId: string) {
      const work: Promise<unknown> = ruleOnSubmittedCase(deps, caseId)
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
