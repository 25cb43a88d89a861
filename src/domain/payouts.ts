import type { Logger } from 'pino';
import type { Chain } from '../chain/index.js';
import type { Db } from '../db.js';
import { AppError, notFound } from '../errors.js';
import type { PubSub } from '../events.js';
import { payoutNotifications } from './notifications.js';

export const BATCH_SIZE = 100;
const NOT_FOUND_FAILS_AFTER_MS = 24 * 3600_000;

export interface PayoutDeps {
  db: Db;
  chain: Chain;
  log: Logger;
  pubsub: PubSub;
  confirmations: number;
}

async function announce(deps: PayoutDeps, where: { payoutTxId: string }) {
  const rewards = await deps.db.reward.findMany({ where, select: { id: true, userId: true } });
  for (const r of rewards) deps.pubsub.publish('rewardUpdated', r.userId, { rewardId: r.id });
}

/**
 * Pays PENDING rewards, up to BATCH_SIZE per transaction, each to the address it was made for
 * (not the user's wallet now: a wallet unlinked or replaced since keeps its payouts). The rewards
 * move to PROCESSING with the transaction's hash in the same database transaction that records it,
 * before it is broadcast: a crash can leave a recorded payout that never reached the chain (the
 * monitor fails it after 24 h), never a sent payout that is not on file, so nobody is paid twice.
 */
export async function sendPayouts(deps: PayoutDeps, now = new Date()): Promise<{ batches: string[]; rewards: number }> {
  const { db, chain } = deps;
  const batch = await db.reward.findMany({
    where: { status: 'PENDING' },
    select: { id: true, amount: true, payoutAddress: true },
    orderBy: { createdAt: 'asc' },
    take: BATCH_SIZE,
  });
  if (batch.length === 0) return { batches: [], rewards: 0 };
  const ids = batch.map((r) => r.id);
  let txId = '';
  const { hash } = await chain.payBatch(
    // A CHECK gives every reward not yet credited its address.
    batch.map((r) => ({ to: r.payoutAddress!, amount: BigInt(r.amount) })),
    async (signedHash, signed) => {
      txId = await db.$transaction(async (tx) => {
        // A retry of a batch that never reached the chain signs the very same bytes (same nonce,
        // same payments), hence the same hash: that is the same transaction, recorded again.
        const recorded = await tx.chainTransaction.upsert({
          where: { hash: signedHash },
          create: { kind: 'PAYOUT', hash: signedHash, chainId: chain.chainId, sentAt: now, nonce: signed.nonce, raw: signed.raw },
          update: { status: 'SENT', sentAt: now, error: null, lastCheckedAt: null, settledAt: null },
        });
        const claimed = await tx.reward.updateMany({
          where: { id: { in: ids }, status: 'PENDING' },
          data: { status: 'PROCESSING', payoutTxId: recorded.id, attempts: { increment: 1 } },
        });
        // Another runner took some of them: send nothing, try again next run.
        if (claimed.count !== ids.length) throw new Error('rewards were claimed by another payout; not sending');
        return recorded.id;
      });
    },
  );
  deps.log.info({ hash, rewards: ids.length }, 'payout batch sent');
  await announce(deps, { payoutTxId: txId });
  return { batches: [hash], rewards: ids.length };
}

export interface MonitorReport {
  confirmed: string[];
  failed: string[];
  pending: string[];
  errors: string[];
}

/**
 * Follows payout transactions (at most BATCH_SIZE per run): confirmed → rewards COMPLETED and
 * points credited, once (the status guard makes a second pass a no-op); reverted, or unknown for
 * over 24 h → FAILED; otherwise keep watching.
 */
export async function monitorPayouts(deps: PayoutDeps, now = new Date()): Promise<MonitorReport> {
  const { db, chain } = deps;
  const report: MonitorReport = { confirmed: [], failed: [], pending: [], errors: [] };
  const txs = await db.chainTransaction.findMany({
    where: { kind: 'PAYOUT', status: 'SENT' },
    orderBy: [{ lastCheckedAt: { sort: 'asc', nulls: 'first' } }, { sentAt: 'asc' }],
    take: BATCH_SIZE,
  });
  for (const t of txs) {
    try {
      // Read in this order: a nonce used before our transaction was looked for, by a transaction
      // that is not ours (ours was not found after), means ours can never be mined.
      const mined = t.nonce === null ? null : await chain.minedNonce();
      const status = await chain.transactionStatus(t.hash, deps.confirmations);
      if (status.state === 'not_found' && mined !== null && t.nonce !== null && mined > t.nonce) {
        // Replaced (its broadcast was refused, another sender used the nonce): never on chain,
        // so the same rewards go back in the queue at once and the next run pays them.
        await db.$transaction([
          db.reward.updateMany({ where: { payoutTxId: t.id, status: 'PROCESSING' }, data: { status: 'PENDING', payoutTxId: null } }),
          db.chainTransaction.update({
            where: { id: t.id },
            data: { status: 'FAILED', error: 'its nonce was used by another transaction; the rewards are queued again', lastCheckedAt: now, settledAt: now },
          }),
        ]);
        deps.log.warn({ hash: t.hash, nonce: t.nonce }, 'payout never reached the chain; its rewards are queued again');
        report.failed.push(t.hash);
        await announce(deps, { payoutTxId: t.id });
        continue;
      }
      if (status.state === 'not_found' && t.raw) {
        // Not seen by the node (a refused or lost broadcast) while its nonce is still free: the
        // very same signed bytes again; whichever copy is mined, it is the one payment.
        await chain.rebroadcast(t.raw).catch((error: unknown) => deps.log.warn({ err: error, hash: t.hash }, 'broadcasting a payout again failed'));
      }
      const lost = status.state === 'not_found' && now.getTime() - t.sentAt.getTime() > NOT_FOUND_FAILS_AFTER_MS;
      if (status.state === 'confirmed') {
        await db.$transaction(async (tx) => {
          await tx.$executeRaw`
            UPDATE users u SET total_points = u.total_points + s.points
            FROM (SELECT user_id, sum(amount)::int AS points FROM rewards
                  WHERE payout_tx_id = ${t.id}::uuid AND status = 'PROCESSING' GROUP BY user_id) s
            WHERE u.id = s.user_id`;
          await tx.reward.updateMany({ where: { payoutTxId: t.id, status: 'PROCESSING' }, data: { status: 'COMPLETED', completedAt: now } });
          await tx.$executeRaw`${payoutNotifications(t.id)}`;
          await tx.chainTransaction.update({
            where: { id: t.id },
            data: { status: 'CONFIRMED', blockNumber: status.blockNumber, lastCheckedAt: now, settledAt: now },
          });
        });
        report.confirmed.push(t.hash);
      } else if (status.state === 'reverted' || lost) {
        await db.$transaction([
          db.reward.updateMany({ where: { payoutTxId: t.id, status: 'PROCESSING' }, data: { status: 'FAILED' } }),
          db.$executeRaw`${payoutNotifications(t.id)}`,
          db.chainTransaction.update({
            where: { id: t.id },
            data: { status: 'FAILED', error: status.state === 'reverted' ? 'reverted' : 'not found for over 24 h', lastCheckedAt: now, settledAt: now },
          }),
        ]);
        deps.log.warn({ hash: t.hash, state: status.state }, 'payout failed');
        report.failed.push(t.hash);
      } else {
        await db.chainTransaction.update({ where: { id: t.id }, data: { lastCheckedAt: now } });
        report.pending.push(t.hash);
        continue;
      }
      await announce(deps, { payoutTxId: t.id });
    } catch (error) {
      deps.log.warn({ err: error, hash: t.hash }, 'checking a payout failed');
      report.errors.push(`${t.hash}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return report;
}

/**
 * Puts a FAILED reward back in the queue, to be paid to the same address. Its transaction failed
 * for good (reverted, or never found), so sending again cannot pay twice; the status guard stops
 * a double retry.
 */
export async function retryReward(db: Db, rewardId: string) {
  const reward = await db.reward.findUnique({ where: { id: rewardId }, include: { payoutTx: true } });
  if (!reward) throw notFound('Reward');
  if (reward.status !== 'FAILED' || reward.payoutTx?.status !== 'FAILED') {
    throw new AppError('BAD_USER_INPUT', `Only a failed payout can be retried; this reward is ${reward.status}`);
  }
  const retried = await db.reward.updateMany({ where: { id: rewardId, status: 'FAILED' }, data: { status: 'PENDING', payoutTxId: null } });
  if (retried.count !== 1) throw new AppError('CONFLICT', 'The reward changed meanwhile; look again');
  return db.reward.findUniqueOrThrow({ where: { id: rewardId } });
}
