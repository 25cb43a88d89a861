import type { Logger } from 'pino';
import { caseKeyOf, type Chain, type RegistryRecord } from '../chain/index.js';
import type { Db } from '../db.js';
import { revealedRulings } from './cases.js';
import { computeCommitment } from './commitment.js';

const BATCH = 100;

export interface IntegrityReport {
  checked: number;
  /** Cases found in disagreement by this run, or marked so before and still unsettled. */
  mismatched: { caseId: string; disagreement: string }[];
  failed: { caseId: string; error: string }[];
}

interface SealedCase {
  id: string;
  commitment: string | null;
  commitmentStatus: string;
  ruling: { side: 'A' | 'B'; reasoning: string; salt: Uint8Array } | null;
}

/**
 * The three commitments of a sealed case: the one stored with the case, the one recomputed from
 * the stored ruling and salt, and the registry's. Returns what disagrees, or null when all agree
 * (the chain not holding it yet is no disagreement while the commitment is still unsent).
 */
export function disagreement(chain: Chain, c: SealedCase, onChain: string | null): string | null {
  if (!c.ruling || !c.commitment) return null;
  const recomputed = computeCommitment({ chainId: chain.chainId, registryAddress: chain.registryAddress, caseId: c.id, ...c.ruling });
  const wrong: string[] = [];
  if (recomputed !== c.commitment) wrong.push('the stored ruling does not hash to the stored commitment');
  if (onChain !== null && onChain !== c.commitment) wrong.push('the registry holds another commitment');
  if (onChain === null && c.commitmentStatus === 'VERIFIED') wrong.push('the registry holds no commitment');
  return wrong.length > 0 ? wrong.join('; ') : null;
}

/**
 * Job 4: for every case not yet settled (sealed PENDING, OPEN, or CLOSED and waiting for its
 * reveal), the stored ruling is recomputed against the stored commitment and the chain's. Any
 * disagreement marks the case MISMATCH (closure then voids it); the caller fails the run.
 */
export async function checkIntegrity(deps: { db: Db; chain: Chain; log: Logger }, now = new Date()): Promise<IntegrityReport> {
  const { db, chain, log } = deps;
  const report: IntegrityReport = { checked: 0, mismatched: [], failed: [] };
  let after: string | undefined;
  for (;;) {
    const cases = await db.case.findMany({
      where: {
        commitment: { not: null },
        OR: [{ status: { in: ['PENDING', 'OPEN'] } }, { status: 'CLOSED', settlement: { outcome: 'SETTLED' }, revealTxId: null }],
        ...(after ? { id: { gt: after } } : {}),
      },
      select: { id: true, commitment: true, commitmentStatus: true, ruling: { select: { side: true, reasoning: true, salt: true } } },
      orderBy: { id: 'asc' },
      take: BATCH,
    });
    for (const c of cases) {
      report.checked += 1;
      try {
        const onChain = c.commitmentStatus === 'UNSENT' ? null : await chain.readCommitment(caseKeyOf(c.id));
        const wrong = disagreement(chain, c, onChain) ?? (c.commitmentStatus === 'MISMATCH' ? 'marked MISMATCH earlier' : null);
        if (wrong) {
          if (c.commitmentStatus !== 'MISMATCH') {
            await db.case.update({ where: { id: c.id }, data: { commitmentStatus: 'MISMATCH' } });
            log.error({ caseId: c.id, disagreement: wrong }, 'COMMITMENT MISMATCH: this case will not be paid out');
          }
          report.mismatched.push({ caseId: c.id, disagreement: wrong });
        } else if (c.commitmentStatus === 'VERIFIED') {
          await db.case.update({ where: { id: c.id }, data: { verifiedAt: now } });
        }
      } catch (error) {
        log.warn({ caseId: c.id, err: error }, 'integrity check of a case failed');
        report.failed.push({ caseId: c.id, error: error instanceof Error ? error.message : String(error) });
      }
    }
    if (cases.length < BATCH) return report;
    after = cases[cases.length - 1]!.id;
  }
}

export interface VerdictVerification {
  caseId: string;
  revealed: boolean;
  storedCommitment: string | null;
  onChainCommitment: string | null;
  transactionHash: string | null;
  blockNumber: bigint | null;
  blockTimestamp: Date | null;
  /** Recomputed from the revealed ruling and salt; null before closure. */
  recomputedCommitment: string | null;
  /** All three agree; null before closure. */
  matches: boolean | null;
  /** Which commitments disagree, in words; empty when none do (or, before closure, none is known to). */
  disagreements: string[];
  registry: RegistryRecord;
  revealTransactionHash: string | null;
  chainId: bigint;
  registryAddress: string;
}

/** The public check of a ruling: before closure only what is on chain, after it the recomputation too. */
export async function verifyVerdict(db: Db, chain: Chain, caseId: string): Promise<VerdictVerification | null> {
  const c = await db.case.findUnique({
    where: { id: caseId },
    select: { id: true, commitment: true, commitmentStatus: true, commitTx: true, revealTx: true },
  });
  if (!c) return null;
  const key = caseKeyOf(caseId);
  const [registry, [ruling]] = await Promise.all([chain.readRecord(key), revealedRulings(db, [caseId])]);
  const recomputed = ruling
    ? computeCommitment({ chainId: chain.chainId, registryAddress: chain.registryAddress, caseId, side: ruling.side, reasoning: ruling.reasoning, salt: ruling.salt })
    : null;
  const disagreements: string[] = [];
  if (recomputed !== null && recomputed !== c.commitment) disagreements.push('recomputed ≠ stored');
  if (recomputed !== null && recomputed !== registry.commitment) disagreements.push('recomputed ≠ on chain');
  if (registry.commitment !== null && registry.commitment !== c.commitment) disagreements.push('stored ≠ on chain');
  if (disagreements.length === 0 && c.commitmentStatus === 'MISMATCH') disagreements.push('marked MISMATCH by Verdict');
  return {
    caseId,
    revealed: ruling !== undefined,
    storedCommitment: c.commitment,
    onChainCommitment: registry.commitment,
    transactionHash: c.commitTx?.hash ?? null,
    blockNumber: c.commitTx?.blockNumber ?? null,
    blockTimestamp: c.commitTx?.blockTimestamp ?? null,
    recomputedCommitment: recomputed,
    matches: recomputed === null ? null : disagreements.length === 0,
    disagreements,
    registry,
    revealTransactionHash: c.revealTx?.hash ?? null,
    chainId: chain.chainId,
    registryAddress: chain.registryAddress,
  };
}
