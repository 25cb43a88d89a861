import type { Db } from '../db.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Side } from '../generated/prisma/enums.js';

/** SPEC §1 "Winning and rewards", in whole points of the pool P. */
export interface ShareInput {
  pool: number;
  winners: number;
  participants: number;
  /** How many arguments placed (0–3). */
  topArguments: number;
  /** A user creator and at least 100 participants. */
  creatorEligible: boolean;
}

export interface Shares {
  perWinner: number;
  /** Rank 1, 2, 3. */
  topArgument: [number, number, number];
  perParticipant: number;
  creator: number;
  paid: number;
  treasury: number;
}

const percent = (pool: number, p: number) => Math.floor((pool * p) / 100);
export const CREATOR_MIN_PARTICIPANTS = 100;

/**
 * 40 % split equally among winning voters, 15/9/6 % to the top three arguments, 20 % split
 * equally among participants, 10 % to an eligible creator; every share floored. Whatever is not
 * paid (remainders, nobody to pay) is the treasury, so paid + treasury = pool exactly.
 */
export function computeShares(input: ShareInput): Shares {
  const { pool, winners, participants, topArguments, creatorEligible } = input;
  const perWinner = winners > 0 ? Math.floor(percent(pool, 40) / winners) : 0;
  const ranks = [15, 9, 6].map((p, i) => (i < topArguments ? percent(pool, p) : 0)) as [number, number, number];
  const perParticipant = participants > 0 ? Math.floor(percent(pool, 20) / participants) : 0;
  const creator = creatorEligible ? percent(pool, 10) : 0;
  const paid = perWinner * winners + ranks[0] + ranks[1] + ranks[2] + perParticipant * participants + creator;
  return { perWinner, topArgument: ranks, perParticipant, creator, paid, treasury: pool - paid };
}

/** Test hook: throw inside the closing transaction right after the named step. */
export type ClosureStep = 'claim' | 'rank' | 'rewards' | 'points' | 'settlement';

export interface ClosedCase {
  caseId: string;
  winningSide: Side;
  shares: Shares;
  /** Set when the case closed VOID: its sealed ruling disagreed with its commitment. */
  voidReason: string | null;
}

/**
 * Closes one due case in ONE transaction: the status change (which also claims the case, so a
 * second closer finds nothing to do), the top-3 ranks, every reward, the points of users paid
 * off-chain, and the settlement line (then notifyClosedCase tells the participants). A crash
 * anywhere leaves the case open and untouched for the next run. All of it is set-based: no row of
 * votes or arguments is loaded here.
 */
export async function closeCase(
  db: Db,
  caseId: string,
  now = new Date(),
  failAfter?: ClosureStep,
  options: { voidReason?: string | null } = {},
): Promise<ClosedCase | null> {
  const fault = (step: ClosureStep) => {
    if (failAfter === step) throw new Error(`injected failure after ${step}`);
  };
  return db.$transaction(async (tx) => {
    // Votes in flight hold share locks on the case row; once the case's time is up (by the
    // database's clock, as votes are) no new one can, so the wait is short. It is bounded anyway:
    // a lock timeout fails this attempt, and the job tries again.
    // No JIT either: the planner overestimates a case's rows (votes_all is a view), and compiling
    // its statements took longer (≈ 0.5 s at 1M users) than running them.
    await tx.$queryRaw`SELECT set_config('lock_timeout', '5s', true), set_config('jit', 'off', true)`;
    const [claimed] = await tx.$queryRaw<{ pool: number; creator_id: string | null; side: Side; mismatch: boolean }[]>`
      UPDATE cases c SET status = 'CLOSED', closed_at = ${now}
      FROM sealed_rulings r
      WHERE c.id = ${caseId}::uuid AND r.case_id = c.id AND c.status = 'OPEN' AND c.closes_at <= least(${now}::timestamptz, now())
      RETURNING c.reward_pool AS pool, c.creator_id, r.side, c.commitment_status = 'MISMATCH' AS mismatch`;
    if (!claimed) return null;
    fault('claim');

    const voidReason = options.voidReason ?? (claimed.mismatch ? 'the sealed ruling disagreed with its commitment' : null);
    if (voidReason) {
      // Nothing is paid on a ruling that cannot be shown to be the one committed: the whole pool
      // goes to the treasury, and the ruling Verdict holds is revealed with the reason.
      const [counts] = await tx.$queryRaw<{ votes_a: number; votes_b: number; participants: number }[]>`${closingCounts(caseId)}`;
      await tx.case.update({ where: { id: caseId }, data: { commitmentStatus: 'MISMATCH' } });
      await tx.caseSettlement.create({
        data: {
          caseId, pool: claimed.pool, winningSide: claimed.side, winnerCount: 0, participantCount: counts!.participants,
          votesA: counts!.votes_a, votesB: counts!.votes_b, paid: 0, treasury: claimed.pool, outcome: 'VOID', reason: voidReason,
        },
      });
      // Nobody to pay: every share is zero and the treasury is the pool.
      const shares = computeShares({ pool: claimed.pool, winners: 0, participants: 0, topArguments: 0, creatorEligible: false });
      return { caseId, winningSide: claimed.side, shares, voidReason };
    }

    const placed = await tx.$executeRaw`
      WITH ranked AS (
        SELECT id, row_number() OVER (ORDER BY upvote_count DESC, created_at ASC, id ASC) AS place
        FROM arguments WHERE case_id = ${caseId}::uuid AND upvote_count >= 1
      )
      UPDATE arguments a SET top_rank = ranked.place
      FROM ranked WHERE a.id = ranked.id AND ranked.place <= 3`;
    fault('rank');

    const [counts] = await tx.$queryRaw<{ votes_a: number; votes_b: number; participants: number }[]>`${closingCounts(caseId)}`;
    const winners = claimed.side === 'A' ? counts!.votes_a : counts!.votes_b;
    const shares = computeShares({
      pool: claimed.pool,
      winners,
      participants: counts!.participants,
      topArguments: placed,
      creatorEligible: claimed.creator_id !== null && counts!.participants >= CREATOR_MIN_PARTICIPANTS,
    });

    // Users without a wallet are credited at once (COMPLETED); the others wait for a payout to the
    // wallet they have now, whatever they link later. Each recipient's wallet is one primary-key
    // lookup (made once per line: the CTE is materialized), so the cost follows the case, not the
    // user count.
    await tx.$executeRaw`
      WITH e AS MATERIALIZED (
        SELECT e.*, (SELECT wallet_address FROM users WHERE id = e.user_id) AS wallet
        FROM (${entitlements(caseId, claimed.side, claimed.creator_id, shares)}) e
        WHERE e.amount > 0
      )
      INSERT INTO rewards (user_id, case_id, kind, amount, status, completed_at, payout_address)
      SELECT e.user_id, ${caseId}::uuid, e.kind::"RewardKind", e.amount,
        CASE WHEN e.wallet IS NULL THEN 'COMPLETED' ELSE 'PENDING' END::"RewardStatus",
        CASE WHEN e.wallet IS NULL THEN ${now}::timestamptz END,
        e.wallet
      FROM e`;
    fault('rewards');

    // The credit moves only total_points, which no index holds: a HOT update, no index entries.
    // (Who was credited is the rewards' completed_at, read by the leaderboard sync.)
    await tx.$executeRaw`
      UPDATE users u SET total_points = u.total_points + s.points
      FROM (
        SELECT user_id, sum(amount)::int AS points FROM rewards
        WHERE case_id = ${caseId}::uuid AND status = 'COMPLETED' GROUP BY user_id
      ) s
      WHERE u.id = s.user_id
        AND u.id = ANY(ARRAY(SELECT user_id FROM rewards WHERE case_id = ${caseId}::uuid AND status = 'COMPLETED'))`;
    fault('points');

    await tx.caseSettlement.create({
      data: {
        caseId,
        pool: claimed.pool,
        winningSide: claimed.side,
        winnerCount: winners,
        participantCount: counts!.participants,
        votesA: counts!.votes_a,
        votesB: counts!.votes_b,
        paid: shares.paid,
        treasury: shares.treasury,
      },
    });
    // Everyone who took part is told right after the commit (notifyClosedCase): the settlement,
    // committed here with notified_at unset, is the outbox event, so nobody is missed or told twice.
    fault('settlement');
    return { caseId, winningSide: claimed.side, shares, voidReason: null };
  });
}

/** Votes per side and participants (voters and argument authors; upvoting alone does not count). */
function closingCounts(caseId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT
      (SELECT count(*) FROM votes WHERE case_id = ${caseId}::uuid AND side = 'A')::int AS votes_a,
      (SELECT count(*) FROM votes WHERE case_id = ${caseId}::uuid AND side = 'B')::int AS votes_b,
      (SELECT count(*) FROM (
        SELECT user_id FROM votes WHERE case_id = ${caseId}::uuid
        UNION SELECT user_id FROM arguments WHERE case_id = ${caseId}::uuid
      ) p)::int AS participants`;
}

/** Every reward line of a closed case, as `(user_id, kind, amount)` rows (zero amounts included). */
function entitlements(caseId: string, side: Side, creatorId: string | null, shares: Shares): Prisma.Sql {
  const [first, second, third] = shares.topArgument;
  return Prisma.sql`
    SELECT user_id, 'WINNING_VOTE' AS kind, ${shares.perWinner}::int AS amount
      FROM votes WHERE case_id = ${caseId}::uuid AND side = ${side}::"Side"
    UNION ALL
    SELECT user_id, 'TOP_ARGUMENT', (ARRAY[${first}::int, ${second}::int, ${third}::int])[top_rank]
      FROM arguments WHERE case_id = ${caseId}::uuid AND top_rank IS NOT NULL
    UNION ALL
    SELECT user_id, 'PARTICIPATION', ${shares.perParticipant}::int FROM (
      SELECT user_id FROM votes WHERE case_id = ${caseId}::uuid
      UNION SELECT user_id FROM arguments WHERE case_id = ${caseId}::uuid
    ) p
    UNION ALL
    SELECT ${creatorId}::uuid, 'CREATOR', ${shares.creator}::int WHERE ${shares.creator}::int > 0`;
}

/** Ids of OPEN cases whose time is up, by the database's clock (the one votes are checked by). */
export async function dueCases(db: Db, now: Date, limit = 100): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT id FROM cases WHERE status = 'OPEN' AND closes_at <= least(${now}::timestamptz, now())
    ORDER BY closes_at LIMIT ${limit}`;
  return rows.map((r) => r.id);
}

/** A closure attempt that gave up waiting for the case row (lock_timeout): try again. */
export const isLockTimeout = (error: unknown) => /55P03|lock timeout/.test(error instanceof Error ? `${error.message} ${JSON.stringify(error)}` : String(error));
