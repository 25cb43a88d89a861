import type { Db } from '../db.js';
import { notFound } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';
import { badgeByKey } from './badges.js';
import { DEFAULT_SETTINGS } from './notifications.js';
import { caseReceipts, type OwnLedgerEntry } from './receipts.js';

export const EXPORT_FORMAT = 'verdict-export/1';

type Tx = Prisma.TransactionClient;

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null) => date?.toISOString() ?? null;
const inOrder = { orderBy: [{ createdAt: 'asc' as const }, { id: 'asc' as const }] };
/** Rows merged from two tables, in the document's order: by time, then id. */
const byTimeThenId = (a: { createdAt: string; id: string }, b: { createdAt: string; id: string }) =>
  a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);

/**
 * Everything Verdict holds about a user, as one JSON-ready document: one section per table, each
 * read by user id through an index, all in one snapshot (a case archived meanwhile moves votes
 * between tables). Secrets stay out: the password hash, the e-mail code's hash, the ledger salt
 * (each case's ledger key and proofs stand in for it) and session tokens.
 */
export async function exportUserData(db: Db, userId: string): Promise<UserExport> {
  return db.$transaction((tx) => collect(tx, userId), {
    isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead,
    timeout: 60_000,
  });
}

export type UserExport = Awaited<ReturnType<typeof collect>>;

async function collect(tx: Tx, userId: string) {
  const user = await tx.user.findUnique({ where: { id: userId }, omit: { passwordHash: true } });
  if (!user) throw notFound('User');
  // One after another: a transaction is one connection, and pg refuses overlapping queries on one.
  const email = await tx.userEmail.findUnique({ where: { userId } });
  const settings = await tx.notificationSettings.findUnique({ where: { userId } });
  const sessionRows = await sessions(tx, userId);
  const walletChallenges = await tx.walletNonce.findMany({ where: { userId }, orderBy: [{ createdAt: 'asc' }, { nonce: 'asc' }] });
  const submissions = await tx.case.findMany({ where: { creatorId: userId }, ...inOrder });
  const votes = await allVotes(tx, userId);
  const argumentRows = await tx.argument.findMany({ where: { userId }, ...inOrder });
  const upvotes = await allUpvotes(tx, userId);
  const rewards = await tx.reward.findMany({ where: { userId }, ...inOrder, include: { payoutTx: { select: { hash: true } } } });
  const badges = await tx.badgeAward.findMany({ where: { userId }, orderBy: [{ awardedAt: 'asc' }, { id: 'asc' }] });
  const notifications = await tx.notification.findMany({ where: { userId }, ...inOrder });
  const emailDeliveries = await tx.emailDelivery.findMany({ where: { userId }, ...inOrder });
  const leaderboard = await leaderboardOf(tx, userId);

  const ownEntries = new Map<string, OwnLedgerEntry[]>();
  const add = (caseId: string, entry: OwnLedgerEntry) => ownEntries.set(caseId, [...(ownEntries.get(caseId) ?? []), entry]);
  for (const v of votes) add(v.caseId, { entry: 'vote', side: v.side, at: new Date(v.createdAt) });
  for (const r of rewards) if (r.caseId) add(r.caseId, { entry: 'reward', kind: r.kind, amount: r.amount });

  return {
    format: EXPORT_FORMAT,
    exportedAt: iso(new Date()),
    profile: {
      id: user.id,
      handle: user.handle,
      role: user.role,
      walletAddress: user.walletAddress,
      totalPoints: user.totalPoints,
      isBetaUser: user.isBetaUser,
      createdAt: iso(user.createdAt),
      updatedAt: iso(user.updatedAt),
      email: email && {
        address: email.address,
        verified: email.verifiedAt !== null,
        verifiedAt: isoOrNull(email.verifiedAt),
        codePendingUntil: email.codeHash ? isoOrNull(email.codeExpiresAt) : null,
        lastDigestAt: isoOrNull(email.digestSentAt),
      },
      notificationSettings: settings
        ? { caseClosed: settings.caseClosed, badgeEarned: settings.badgeEarned, rewardConfirmed: settings.rewardConfirmed, rewardFailed: settings.rewardFailed }
        : DEFAULT_SETTINGS,
    },
    sessions: sessionRows,
    walletChallenges: walletChallenges.map((n) => ({ nonce: n.nonce, createdAt: iso(n.createdAt), expiresAt: iso(n.expiresAt), usedAt: isoOrNull(n.usedAt) })),
    submissions: submissions.map((c) => ({
      id: c.id,
      title: c.title,
      dilemma: c.dilemma,
      sideA: c.sideALabel,
      sideB: c.sideBLabel,
      status: c.status,
      rewardPool: c.rewardPool,
      createdAt: iso(c.createdAt),
      opensAt: iso(c.opensAt),
      closesAt: iso(c.closesAt),
      closedAt: isoOrNull(c.closedAt),
    })),
    votes,
    arguments: argumentRows.map((a) => ({
      id: a.id,
      caseId: a.caseId,
      side: a.side,
      body: a.body,
      upvoteCount: a.upvoteCount,
      topRank: a.topRank,
      createdAt: iso(a.createdAt),
    })),
    upvotes,
    rewards: rewards.map((r) => ({
      id: r.id,
      caseId: r.caseId,
      badgeAwardId: r.badgeAwardId,
      kind: r.kind,
      amount: r.amount,
      status: r.status,
      transactionHash: r.payoutTx?.hash ?? null,
      createdAt: iso(r.createdAt),
      updatedAt: iso(r.updatedAt),
      completedAt: isoOrNull(r.completedAt),
    })),
    badges: badges.map((b) => ({ id: b.id, key: b.badgeKey, name: badgeByKey.get(b.badgeKey)?.name ?? b.badgeKey, awardedAt: iso(b.awardedAt) })),
    notifications: notifications.map((n) => ({
      id: n.id,
      kind: n.kind,
      subjectId: n.subjectId,
      caseId: n.caseId,
      title: n.title,
      body: n.body,
      createdAt: iso(n.createdAt),
      readAt: isoOrNull(n.readAt),
      emailDeliveryId: n.deliveryId,
    })),
    emailDeliveries: emailDeliveries.map((d) => ({
      id: d.id,
      address: d.address,
      status: d.status,
      attempts: d.attempts,
      error: d.error,
      createdAt: iso(d.createdAt),
      sentAt: isoOrNull(d.sentAt),
    })),
    leaderboard,
    receipts: await caseReceipts(tx, user.ledgerSalt, ownEntries),
  };
}

/** Live and archived votes as one list; `archived` says which table holds each. */
async function allVotes(tx: Tx, userId: string) {
  const select = { id: true, caseId: true, side: true, createdAt: true } as const;
  const live = await tx.vote.findMany({ where: { userId }, select });
  const archived = await tx.voteArchive.findMany({ where: { userId }, select });
  const row = (archived: boolean) => (v: (typeof live)[number]) => ({ id: v.id, caseId: v.caseId, side: v.side, createdAt: iso(v.createdAt), archived });
  return [...live.map(row(false)), ...archived.map(row(true))].sort(byTimeThenId);
}

/** Live and archived upvotes as one list, by time then argument. */
async function allUpvotes(tx: Tx, userId: string) {
  const select = { argumentId: true, createdAt: true, argument: { select: { caseId: true } } } as const;
  const live = await tx.argumentUpvote.findMany({ where: { userId }, select });
  const archived = await tx.argumentUpvoteArchive.findMany({ where: { userId }, select });
  const row = (archived: boolean) => (u: (typeof live)[number]) => ({
    argumentId: u.argumentId,
    caseId: u.argument.caseId,
    createdAt: iso(u.createdAt),
    archived,
  });
  return [...live.map(row(false)), ...archived.map(row(true))].sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || a.argumentId.localeCompare(b.argumentId),
  );
}

/** The user's points per period as the leaderboard job last counted them, and their places in its snapshots. */
async function leaderboardOf(tx: Tx, userId: string) {
  const points = await tx.leaderboardPoints.findUnique({ where: { userId } });
  const entries = await tx.leaderboardEntry.findMany({ where: { userId }, orderBy: [{ computedAt: 'asc' }, { period: 'asc' }] });
  return {
    points: points && { allTime: points.allTime, weekly: points.weekly, daily: points.daily },
    entries: entries.map((e) => ({ period: e.period, computedAt: iso(e.computedAt), rank: e.rank, points: e.points })),
  };
}

interface SessionRow {
  id: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date;
  revoked_at: Date | null;
  client_address: string | null;
  user_agent: string | null;
}

/** The user's sessions, without their token material (the columns are named, never `*`). */
async function sessions(tx: Tx, userId: string) {
  const rows = await tx.$queryRaw<SessionRow[]>`
    SELECT id::text, created_at, last_used_at, expires_at, revoked_at, client_address::text, user_agent
    FROM sessions WHERE user_id = ${userId}::uuid ORDER BY created_at, id`;
  return rows.map((s) => ({
    id: s.id,
    createdAt: iso(s.created_at),
    lastUsedAt: isoOrNull(s.last_used_at),
    expiresAt: iso(s.expires_at),
    revokedAt: isoOrNull(s.revoked_at),
    clientAddress: s.client_address,
    userAgent: s.user_agent,
  }));
}
