import type { Logger } from 'pino';
import { caseKeyOf, type Chain } from '../chain/index.js';
import type { Db } from '../db.js';
import { revealedRulings } from './cases.js';
import { computeCommitment } from './commitment.js';

const RESEND_AFTER_MS = 24 * 3600_000;
const BATCH = 100;

export interface CommitmentCheck {
  verified: string[];
  mismatched: string[];
  pending: string[];
  resent: string[];
  failed: { caseId: string; error: string }[];
}

/**
 * Job 4: follows every sent commitment until the chain holds it. The value on chain is the
 * truth: equal → VERIFIED; different → MISMATCH, reported loudly; absent after the transaction
 * failed or vanished (over 24 h) → sent again.
 */
export async function checkCommitments(
  deps: { db: Db; chain: Chain; log: Logger; confirmations: number },
  now = new Date(),
): Promise<CommitmentCheck> {
  const { db, chain, log } = deps;
  const result: CommitmentCheck = { verified: [], mismatched: [], pending: [], resent: [], failed: [] };
  const cases = await db.case.findMany({
    where: { commitmentStatus: 'SENT' },
    select: { id: true, commitment: true, commitTx: true },
    orderBy: { opensAt: 'asc' },
    take: BATCH,
  });
  for (const c of cases) {
    try {
      const key = caseKeyOf(c.id);
      const [onChain, tx] = await Promise.all([
        chain.readCommitment(key),
        c.commitTx ? chain.transactionStatus(c.commitTx.hash, deps.confirmations) : null,
      ]);
      if (onChain !== null && onChain !== c.commitment) {
        await db.case.update({ where: { id: c.id }, data: { commitmentStatus: 'MISMATCH' } });
        log.error({ caseId: c.id, stored: c.commitment, onChain }, 'COMMITMENT MISMATCH: the chain holds another commitment');
        result.mismatched.push(c.id);
      } else if (onChain !== null && tx?.state !== 'pending') {
        await db.$transaction([
          db.case.update({ where: { id: c.id }, data: { commitmentStatus: 'VERIFIED', verifiedAt: now } }),
          ...(c.commitTx
            ? [
                db.chainTransaction.update({
                  where: { id: c.commitTx.id },
                  data: { status: tx?.state === 'confirmed' ? 'CONFIRMED' : c.commitTx.status, blockNumber: tx?.blockNumber ?? null, lastCheckedAt: now, settledAt: now },
                }),
              ]
            : []),
        ]);
        result.verified.push(c.id);
      } else if (
        onChain === null &&
        (tx === null || tx.state === 'reverted' || (tx.state === 'not_found' && now.getTime() - c.commitTx!.sentAt.getTime() > RESEND_AFTER_MS))
      ) {
        const sent = await chain.commit(key, c.commitment!);
        await db.$transaction(async (t) => {
          if (c.commitTx) {
            await t.chainTransaction.update({
              where: { id: c.commitTx.id },
              data: { status: 'FAILED', error: tx?.state ?? 'missing', lastCheckedAt: now, settledAt: now },
            });
          }
          const fresh = await t.chainTransaction.create({ data: { kind: 'COMMIT', hash: sent.hash, chainId: chain.chainId, sentAt: now } });
          await t.case.update({ where: { id: c.id }, data: { commitTxId: fresh.id } });
        });
        log.warn({ caseId: c.id, previous: c.commitTx?.hash, hash: sent.hash }, 'commitment sent again');
        result.resent.push(c.id);
      } else {
        if (c.commitTx) await db.chainTransaction.update({ where: { id: c.commitTx.id }, data: { lastCheckedAt: now } });
        result.pending.push(c.id);
      }
    } catch (error) {
      log.warn({ caseId: c.id, err: error }, 'commitment check failed');
      result.failed.push({ caseId: c.id, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return result;
}

export interface VerdictVerification {
  caseId: string;
  revealed: boolean;
  storedCommitment: string | null;
  onChainCommitment: string | null;
  transactionHash: string | null;
  blockNumber: bigint | null;
  /** Recomputed from the revealed ruling and salt; null before closure. */
  recomputedCommitment: string | null;
  /** Recomputed = on chain; null before closure. */
  matches: boolean | null;
  chainId: bigint;
  registryAddress: string;
}

/** The public check of a ruling: before closure only what is on chain, after it the recomputation. */
export async function verifyVerdict(db: Db, chain: Chain, caseId: string): Promise<VerdictVerification | null> {
  const c = await db.case.findUnique({ where: { id: caseId }, select: { id: true, commitment: true, commitTx: true } });
  if (!c) return null;
  const [onChain, [ruling]] = await Promise.all([chain.readCommitment(caseKeyOf(caseId)), revealedRulings(db, [caseId])]);
  const recomputed = ruling
    ? computeCommitment({ chainId: chain.chainId, registryAddress: chain.registryAddress, caseId, side: ruling.side, reasoning: ruling.reasoning, salt: ruling.salt })
    : null;
  const status = c.commitTx && !c.commitTx.blockNumber ? await chain.transactionStatus(c.commitTx.hash, 1) : null;
  return {
    caseId,
    revealed: ruling !== undefined,
    storedCommitment: c.commitment,
    onChainCommitment: onChain,
    transactionHash: c.commitTx?.hash ?? null,
    blockNumber: c.commitTx?.blockNumber ?? status?.blockNumber ?? null,
    recomputedCommitment: recomputed,
    matches: recomputed === null ? null : recomputed === onChain,
    chainId: chain.chainId,
    registryAddress: chain.registryAddress,
  };
}
