import type { Chain } from '../chain/index.js';
import type { Db } from '../db.js';

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/** Thrown inside a claim when another sender already holds the work: nothing is broadcast. */
export class Claimed extends Error {}

/**
 * Undoes a claim whose broadcast the node refused (a nonce another server used, an RPC error):
 * the transaction is FAILED and `unlink` frees its case, so the next run sends again at once
 * instead of waiting for RESEND_UNSEEN_AFTER_MS. Safe even if the node did take it after all:
 * the registry accepts one commitment and one reveal per case, and a sender finding one on chain
 * follows it.
 */
export async function releaseRefused(
  db: Db,
  chain: Pick<Chain, 'transactionStatus'>,
  hash: string,
  why: string,
  unlink: (tx: Tx, chainTxId: string) => Promise<unknown>,
): Promise<void> {
  // An error after the node took it (while waiting, say) is no refusal: that one is followed.
  if ((await chain.transactionStatus(hash, 1).catch(() => ({ state: 'unknown' }))).state !== 'not_found') return;
  await db.$transaction(async (tx) => {
    const row = await tx.chainTransaction.findUnique({ where: { hash } });
    if (row?.status !== 'SENT') return;
    await tx.chainTransaction.update({ where: { id: row.id }, data: { status: 'FAILED', error: `broadcast refused: ${why}`.slice(0, 500), settledAt: new Date() } });
    await unlink(tx, row.id);
  });
}

/** How long a sent commitment or reveal may stay unseen by the node before it is sent again. */
export const RESEND_UNSEEN_AFTER_MS = 5 * 60_000;

/**
 * Records a signed transaction's hash and links it to its case in one database transaction,
 * before the broadcast (the chain adapter's `record` step). `link` answers how many rows it
 * claimed; anything but one means another sender got there first, and Claimed stops the broadcast.
 */
export function claimSend(
  db: Db,
  sent: { kind: 'COMMIT' | 'REVEAL'; hash: string; chainId: bigint; at: Date },
  link: (tx: Tx, chainTxId: string) => Promise<{ count: number }>,
): Promise<void> {
  return db.$transaction(async (tx) => {
    const row = await tx.chainTransaction.upsert({
      where: { hash: sent.hash },
      create: { kind: sent.kind, hash: sent.hash, chainId: sent.chainId, sentAt: sent.at },
      update: {},
    });
    if ((await link(tx, row.id)).count !== 1) throw new Claimed();
  });
}
