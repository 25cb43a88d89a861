import type { Db } from '../db.js';

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/** Thrown inside a claim when another sender already holds the work: nothing is broadcast. */
export class Claimed extends Error {}

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
