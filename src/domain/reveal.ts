import type { Logger } from 'pino';
import { caseKeyOf, type Chain } from '../chain/index.js';
import type { Db } from '../db.js';
import { Prisma } from '../generated/prisma/client.js';
import { Claimed, claimSend, releaseRefused, RESEND_UNSEEN_AFTER_MS } from './chain-claims.js';
import { buildLedger, ledgerUserKey, type LedgerEntry } from './ledger.js';

// After a case closes (one short set-based transaction), two steps make its outcome checkable by
// anyone: its ledger (every vote and reward line in a Merkle tree) is built from the committed
// settlement, then the ruling is revealed on chain with the ledger's root, where the registry
// recomputes the commitment. Both steps are idempotent and followed by tx-monitor.

export interface RevealDeps {
  db: Db;
  chain: Chain;
  log: Logger;
  confirmations: number;
}

interface LedgerRow {
  entry: 'vote' | 'reward';
  salt: Uint8Array;
  detail: string;
  value: bigint;
}

/** Every vote and reward line of a closed case (or one user's) as ledger entries, keyed per user and case. */
export async function ledgerEntries(db: Db, caseId: string, onlyUserId?: string): Promise<LedgerEntry[]> {
  const only = onlyUserId ? Prisma.sql`AND user_id = ${onlyUserId}::uuid` : Prisma.empty;
  // Each user's salt is one primary-key lookup: the cost follows the case, not the user count.
  const rows = await db.$queryRaw<LedgerRow[]>`
    SELECT 'vote' AS entry, (SELECT ledger_salt FROM users WHERE id = v.user_id) AS salt, v.side::text AS detail,
      (extract(epoch FROM v.created_at) * 1000)::bigint AS value
    FROM votes_all v WHERE v.case_id = ${caseId}::uuid ${only}
    UNION ALL
    SELECT 'reward', (SELECT ledger_salt FROM users WHERE id = r.user_id), r.kind::text, r.amount::bigint
    FROM rewards r WHERE r.case_id = ${caseId}::uuid ${only}`;
  return rows.map((r) =>
    r.entry === 'vote'
      ? { entry: 'vote', userKey: ledgerUserKey(r.salt, caseId), side: r.detail as 'A' | 'B', at: new Date(Number(r.value)) }
      : { entry: 'reward', userKey: ledgerUserKey(r.salt, caseId), kind: r.detail, amount: Number(r.value) },
  );
}

/** Builds and stores the ledger of a closed, settled case once; returns its root. */
export async function recordLedger(db: Db, caseId: string): Promise<string | null> {
  const existing = await db.caseLedger.findUnique({ where: { caseId }, select: { root: true } });
  if (existing) return existing.root;
  const c = await db.case.findUnique({ where: { id: caseId }, select: { status: true, settlement: { select: { outcome: true } } } });
  if (c?.status !== 'CLOSED' || c.settlement?.outcome !== 'SETTLED') return null;
  const ledger = await buildLedger(caseId, await ledgerEntries(db, caseId));
  await db.caseLedger.createMany({ data: [{ caseId, root: ledger.root, leafCount: ledger.leafCount, nodes: new Uint8Array(ledger.nodes) }], skipDuplicates: true });
  return ledger.root;
}

export type RevealOutcome = 'sent' | 'waiting' | 'skipped';

/**
 * Sends the reveal of a closed, settled case whose ledger is built: claimed in the database
 * (hash recorded, case linked) before the signed transaction is broadcast, so it is sent at most
 * once at a time. It waits while the chain's clock is before the committed closing time.
 */
export async function sendReveal(deps: RevealDeps, caseId: string, now = new Date()): Promise<RevealOutcome> {
  const { db, chain, log } = deps;
  const c = await db.case.findUnique({
    where: { id: caseId },
    select: { status: true, revealAfter: true, revealTxId: true, ruling: true, ledger: { select: { root: true } }, settlement: { select: { outcome: true } } },
  });
  if (c?.status !== 'CLOSED' || c.settlement?.outcome !== 'SETTLED' || !c.ledger || !c.ruling || !c.revealAfter || c.revealTxId) return 'skipped';
  if ((await chain.latestBlockTime()) < c.revealAfter) return 'waiting';
  const key = caseKeyOf(caseId);
  const input = { side: c.ruling.side, reasoning: c.ruling.reasoning, salt: c.ruling.salt, ledgerRoot: c.ledger.root };
  let recorded: string | undefined;
  const claim = async (hash: string) => {
    await claimSend(db, { kind: 'REVEAL', hash, chainId: chain.chainId, at: now }, (tx, revealTxId) =>
      tx.case.updateMany({ where: { id: caseId, revealTxId: null }, data: { revealTxId } }),
    );
    recorded = hash;
  };
  try {
    const refusal = await chain.tryReveal(key, input);
    if (refusal === 'TooEarly') return 'waiting';
    if (refusal === 'AlreadyRevealed') {
      // An earlier attempt was mined after all: follow it.
      const found = await chain.findReveal(key);
      if (!found) return 'waiting';
      await claim(found.hash);
      return 'sent';
    }
    if (refusal) throw new Error(`The registry refuses the reveal: ${refusal}`);
    const { hash } = await chain.reveal(key, input, claim).catch(async (error: unknown) => {
      // Recorded, then refused by the node: free the case for the next run at once.
      if (recorded) {
        await releaseRefused(db, chain, recorded, error instanceof Error ? error.message : String(error), (tx, revealTxId) =>
          tx.case.updateMany({ where: { id: caseId, revealTxId }, data: { revealTxId: null } }),
        );
      }
      throw error;
    });
    log.info({ caseId, hash }, 'ruling revealed on chain');
    return 'sent';
  } catch (error) {
    if (error instanceof Claimed) return 'skipped';
    throw error;
  }
}

/**
 * tx-monitor's part for closed cases (at most 100 of each per run): ledgers to build, reveals to
 * send, reveal transactions to follow. A reverted or vanished reveal is unlinked, so the next run
 * sends it again; the registry accepts one reveal per case, so it can never count twice.
 */
export async function advanceClosedCases(deps: RevealDeps, now = new Date()) {
  const { db, chain, log } = deps;
  const report = { ledgers: [] as string[], revealed: [] as string[], confirmed: [] as string[], waiting: [] as string[], errors: [] as string[] };
  const attempt = async (caseId: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      report.errors.push(`${caseId}: ${error instanceof Error ? error.message : String(error)}`);
      log.warn({ err: error, caseId }, 'a closed case could not go further; the next run retries');
    }
  };
  const unrevealed = await db.case.findMany({
    where: { status: 'CLOSED', revealTxId: null, revealAfter: { not: null }, settlement: { outcome: 'SETTLED' } },
    select: { id: true, ledger: { select: { root: true } } },
    orderBy: { closedAt: 'asc' },
    take: 100,
  });
  for (const c of unrevealed) {
    await attempt(c.id, async () => {
      if (!c.ledger && (await recordLedger(db, c.id))) report.ledgers.push(c.id);
      const outcome = await sendReveal(deps, c.id, now);
      if (outcome === 'sent') report.revealed.push(c.id);
      else if (outcome === 'waiting') report.waiting.push(c.id);
    });
  }
  const sent = await db.chainTransaction.findMany({ where: { kind: 'REVEAL', status: 'SENT' }, include: { revealFor: { select: { id: true } } }, take: 100 });
  for (const tx of sent) {
    await attempt(tx.revealFor?.id ?? tx.hash, async () => {
      const status = await chain.transactionStatus(tx.hash, deps.confirmations);
      const failed = status.state === 'reverted' || (status.state === 'not_found' && now.getTime() - tx.sentAt.getTime() > RESEND_UNSEEN_AFTER_MS);
      if (status.state === 'confirmed') {
        await db.chainTransaction.update({
          where: { id: tx.id },
          data: { status: 'CONFIRMED', blockNumber: status.blockNumber, blockTimestamp: status.blockTimestamp, lastCheckedAt: now, settledAt: now },
        });
        report.confirmed.push(tx.revealFor?.id ?? tx.hash);
      } else if (failed) {
        await db.$transaction([
          db.chainTransaction.update({ where: { id: tx.id }, data: { status: 'FAILED', error: status.state, lastCheckedAt: now, settledAt: now } }),
          db.case.updateMany({ where: { revealTxId: tx.id }, data: { revealTxId: null } }),
        ]);
        log.warn({ hash: tx.hash, state: status.state }, 'a reveal transaction failed; it will be sent again');
      } else {
        await db.chainTransaction.update({ where: { id: tx.id }, data: { lastCheckedAt: now } });
      }
    });
  }
  return report;
}
