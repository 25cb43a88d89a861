import type { Db } from '../db.js';
import { AppError, badInput, notFound } from '../errors.js';
import type { Side } from '../generated/prisma/enums.js';

export const ARGUMENT_MIN = 20;
export const ARGUMENT_MAX = 2000;

// Each write is one statement that inserts only while the case is open (by status AND clock)
// and holds a share lock on the case row, so closure (which updates that row) waits for it and
// a vote can never slip in after the case closed. The clock is the database's (now()), never a
// server's: several servers with drifting clocks agree on when a case closes, and once it has,
// no server takes another share lock that could keep closure waiting. Unique keys settle races
// between voters. When nothing was inserted, a second read explains why.

export async function castVote(db: Db, userId: string, caseId: string, side: Side) {
  const inserted = await db.$queryRaw<{ id: string }[]>`
    INSERT INTO votes (case_id, user_id, side)
    SELECT c.id, ${userId}::uuid, ${side}::"Side" FROM cases c
    WHERE c.id = ${caseId}::uuid AND c.status = 'OPEN' AND c.closes_at > now()
    FOR SHARE
    ON CONFLICT (case_id, user_id) DO NOTHING
    RETURNING id`;
  if (inserted[0]) return db.vote.findUniqueOrThrow({ where: { id: inserted[0].id } });
  await assertOpen(db, caseId);
  throw new AppError('ALREADY_VOTED', 'You have already voted on this case; votes cannot be changed');
}

export async function submitArgument(db: Db, userId: string, caseId: string, side: Side, text: string) {
  const body = text.trim();
  // Characters as the database counts them (code points), not UTF-16 units.
  const length = [...body].length;
  if (length < ARGUMENT_MIN || length > ARGUMENT_MAX) {
    throw badInput(`An argument has ${ARGUMENT_MIN}–${ARGUMENT_MAX} characters`, 'body');
  }
  const inserted = await db.$queryRaw<{ id: string }[]>`
    INSERT INTO arguments (case_id, user_id, side, body)
    SELECT c.id, ${userId}::uuid, ${side}::"Side", ${body} FROM cases c
    WHERE c.id = ${caseId}::uuid AND c.status = 'OPEN' AND c.closes_at > now()
    FOR SHARE
    ON CONFLICT (case_id, user_id) DO NOTHING
    RETURNING id`;
  if (inserted[0]) return db.argument.findUniqueOrThrow({ where: { id: inserted[0].id } });
  await assertOpen(db, caseId);
  throw new AppError('ALREADY_ARGUED', 'You have already argued on this case');
}

export async function upvoteArgument(db: Db, userId: string, argumentId: string) {
  const counted = await db.$queryRaw<{ id: string }[]>`
    WITH target AS (
      SELECT a.id FROM arguments a JOIN cases c ON c.id = a.case_id
      WHERE a.id = ${argumentId}::uuid AND a.user_id <> ${userId}::uuid
        AND c.status = 'OPEN' AND c.closes_at > now()
      FOR SHARE OF c
    ), upvote AS (
      INSERT INTO argument_upvotes (argument_id, user_id)
      SELECT id, ${userId}::uuid FROM target
      ON CONFLICT DO NOTHING
      RETURNING argument_id
    )
    UPDATE arguments SET upvote_count = upvote_count + 1
    WHERE id IN (SELECT argument_id FROM upvote)
    RETURNING id`;
  if (counted[0]) return db.argument.findUniqueOrThrow({ where: { id: argumentId } });

  const argument = await db.argument.findUnique({ where: { id: argumentId }, select: { userId: true, caseId: true } });
  if (!argument) throw notFound('Argument');
  if (argument.userId === userId) throw new AppError('OWN_ARGUMENT', 'You cannot upvote your own argument');
  await assertOpen(db, argument.caseId);
  throw new AppError('ALREADY_UPVOTED', 'You have already upvoted this argument');
}

async function assertOpen(db: Db, caseId: string) {
  const [c] = await db.$queryRaw<{ status: string; over: boolean }[]>`
    SELECT status, closes_at <= now() AS over FROM cases WHERE id = ${caseId}::uuid`;
  if (!c) throw notFound('Case');
  if (c.status === 'PENDING') throw new AppError('CASE_NOT_OPEN', 'This case is not open for voting yet');
  if (c.status === 'CLOSED' || c.over) throw new AppError('CASE_CLOSED', 'This case is closed');
}
