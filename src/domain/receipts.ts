import type { Chain } from '../chain/index.js';
import { caseKeyOf } from '../chain/index.js';
import type { Db } from '../db.js';
import { ledgerLeafHash, ledgerLeafValues, ledgerProof, ledgerUserKey, type LedgerEntry } from './ledger.js';
import { ledgerEntries } from './reveal.js';

export interface ReceiptEntry {
  entry: 'vote' | 'reward';
  /** The side of a vote, or the kind of a reward. */
  detail: string;
  /** A vote's time in Unix milliseconds, or a reward's points (decimal). */
  value: string;
  leaf: string;
  /** Sibling hashes from the leaf up to the root (OpenZeppelin MerkleProof order). */
  proof: string[];
}

export interface LedgerReceipt {
  caseKey: string;
  userKey: string;
  ledgerRoot: string;
  entries: ReceiptEntry[];
}

const entryValues = (caseId: string, e: LedgerEntry) => {
  const [, entry, , detail, value] = ledgerLeafValues(caseId, e);
  return { entry: entry as 'vote' | 'reward', detail, value: value.toString() };
};

/**
 * A user's own entries in a closed case's ledger, each with its proof against the revealed root:
 * with them and the chain, the user can check that the vote was counted and what was paid.
 */
export async function myReceipt(db: Db, caseId: string, userId: string): Promise<LedgerReceipt | null> {
  const [ledger, user] = await Promise.all([
    db.caseLedger.findUnique({ where: { caseId } }),
    db.user.findUnique({ where: { id: userId }, select: { ledgerSalt: true } }),
  ]);
  if (!ledger || !user) return null;
  const userKey = ledgerUserKey(user.ledgerSalt, caseId);
  const mine = await ledgerEntries(db, caseId, userId);
  const nodes = Buffer.from(ledger.nodes);
  return {
    caseKey: caseKeyOf(caseId),
    userKey,
    ledgerRoot: ledger.root,
    entries: mine.map((e) => {
      const leaf = ledgerLeafHash(caseId, e);
      return { ...entryValues(caseId, e), leaf, proof: ledgerProof(nodes, ledger.leafCount, leaf)?.proof ?? [] };
    }),
  };
}

/** One of a user's own ledger entries before it is keyed: a vote, or a reward line of a case. */
export type OwnLedgerEntry = { entry: 'vote'; side: 'A' | 'B'; at: Date } | { entry: 'reward'; kind: string; amount: number };

export interface CaseReceipt {
  caseId: string;
  caseKey: string;
  userKey: string;
  /** Null until the case's ledger is built, when it closes. */
  ledgerRoot: string | null;
  /** Each with its proof once the ledger is built (null before, or if the leaf is not in it). */
  entries: (Omit<ReceiptEntry, 'proof'> & { proof: string[] | null })[];
}

/**
 * Receipts for every case in which a user has ledger entries, in the map's order: what the user
 * needs to check each entry against the revealed root without Verdict. Ledger nodes are read one
 * case at a time: the tree of a large case is megabytes.
 */
export async function caseReceipts(db: Pick<Db, 'caseLedger'>, ledgerSalt: Uint8Array, byCase: Map<string, OwnLedgerEntry[]>): Promise<CaseReceipt[]> {
  const ledgers = await db.caseLedger.findMany({ where: { caseId: { in: [...byCase.keys()] } }, select: { caseId: true, root: true, leafCount: true } });
  const ledgerOf = new Map(ledgers.map((l) => [l.caseId, l]));
  const receipts: CaseReceipt[] = [];
  for (const [caseId, own] of byCase) {
    const userKey = ledgerUserKey(ledgerSalt, caseId);
    const ledger = ledgerOf.get(caseId);
    const nodes = ledger && Buffer.from((await db.caseLedger.findUniqueOrThrow({ where: { caseId }, select: { nodes: true } })).nodes);
    receipts.push({
      caseId,
      caseKey: caseKeyOf(caseId),
      userKey,
      ledgerRoot: ledger?.root ?? null,
      entries: own.map((o) => {
        const e: LedgerEntry = { ...o, userKey };
        const leaf = ledgerLeafHash(caseId, e);
        return { ...entryValues(caseId, e), leaf, proof: nodes ? (ledgerProof(nodes, ledger.leafCount, leaf)?.proof ?? null) : null };
      }),
    });
  }
  return receipts;
}

export interface VoteReceipt {
  caseKey: string;
  userKey: string;
  side: 'A' | 'B';
  /** Unix milliseconds, as in the ledger leaf. */
  time: string;
  leaf: string;
  /** EIP-191 signature of the leaf's 32 bytes by `signer`, Verdict's chain key. */
  signature: string;
  signer: string;
}

/**
 * Verdict's signed word that a vote was accepted: the chain key signs the vote's ledger leaf. If
 * the leaf is missing from the case's revealed root, the voter can prove the vote existed.
 */
export async function voteReceipt(db: Db, chain: Chain, vote: { caseId: string; userId: string; side: 'A' | 'B'; createdAt: Date }): Promise<VoteReceipt> {
  const user = await db.user.findUniqueOrThrow({ where: { id: vote.userId }, select: { ledgerSalt: true } });
  const entry: LedgerEntry = { entry: 'vote', userKey: ledgerUserKey(user.ledgerSalt, vote.caseId), side: vote.side, at: vote.createdAt };
  const leaf = ledgerLeafHash(vote.caseId, entry);
  return {
    caseKey: caseKeyOf(vote.caseId),
    userKey: entry.userKey,
    side: vote.side,
    time: String(vote.createdAt.getTime()),
    leaf,
    signature: await chain.signReceipt(leaf),
    signer: chain.receiptSigner,
  };
}

export interface VoteTimeline {
  firstVoteAt: Date | null;
  lastVoteAt: Date | null;
  hours: { hour: Date; votesA: number; votesB: number }[];
}

/** Votes per side per hour, and the first and last vote's time: public once a case is closed. */
export async function voteTimeline(db: Db, caseId: string): Promise<VoteTimeline> {
  const hours = await db.$queryRaw<{ hour: Date; votes_a: number; votes_b: number; first: Date; last: Date }[]>`
    SELECT date_trunc('hour', created_at) AS hour,
      count(*) FILTER (WHERE side = 'A')::int AS votes_a, count(*) FILTER (WHERE side = 'B')::int AS votes_b,
      min(created_at) AS first, max(created_at) AS last
    FROM votes_all WHERE case_id = ${caseId}::uuid GROUP BY 1 ORDER BY 1`;
  return {
    firstVoteAt: hours[0]?.first ?? null,
    lastVoteAt: hours.at(-1)?.last ?? null,
    hours: hours.map((h) => ({ hour: h.hour, votesA: h.votes_a, votesB: h.votes_b })),
  };
}

/** What a closed case paid, by kind of reward: how many lines and how many points. */
export function settlementByKind(db: Db, caseId: string) {
  return db.$queryRaw<{ kind: string; recipients: number; points: number }[]>`
    SELECT kind::text, count(*)::int AS recipients, sum(amount)::int AS points
    FROM rewards WHERE case_id = ${caseId}::uuid GROUP BY kind ORDER BY kind`;
}
