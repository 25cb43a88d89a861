import type { Db } from '../db.js';

/** Cases archived per cleanup run: each is its own transaction, so a run can stop anywhere. */
export const ARCHIVE_CASES_PER_RUN = 200;

/**
 * Moves one closed case's votes and upvotes to the archive tables and marks the case archived
 * (with how many votes moved), in one transaction: a crash leaves the case as it was, the next
 * run does it again. Everything that may read a closed case reads `votes_all` /
 * `argument_upvotes_all`, so every answer about the case stays the same. False when another
 * run has it, or it is archived already.
 */
export async function archiveCase(db: Db, caseId: string, now: Date): Promise<boolean> {
  return db.$transaction(
    async (tx) => {
      const [mine] = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM cases WHERE id = ${caseId}::uuid AND status = 'CLOSED' AND archived_at IS NULL FOR UPDATE SKIP LOCKED`;
      if (!mine) return false;
      const votes = await tx.$executeRaw`
        WITH moved AS (DELETE FROM votes WHERE case_id = ${caseId}::uuid RETURNING id, case_id, user_id, side, created_at)
        INSERT INTO votes_archive (id, case_id, user_id, side, created_at) SELECT id, case_id, user_id, side, created_at FROM moved`;
      await tx.$executeRaw`
        WITH moved AS (
          DELETE FROM argument_upvotes u USING arguments a WHERE a.id = u.argument_id AND a.case_id = ${caseId}::uuid
          RETURNING u.argument_id, u.user_id, u.created_at
        )
        INSERT INTO argument_upvotes_archive (argument_id, user_id, created_at) SELECT argument_id, user_id, created_at FROM moved`;
      await tx.$executeRaw`UPDATE cases SET archived_at = ${now}, archived_votes = archived_votes + ${votes} WHERE id = ${caseId}::uuid`;
      return true;
    },
    { timeout: 60_000 },
  );
}

/** Archives up to ARCHIVE_CASES_PER_RUN cases closed more than `afterDays` ago, oldest first. */
export async function archiveOldCases(db: Db, now: Date, afterDays: number, signal?: AbortSignal): Promise<number> {
  const before = new Date(now.getTime() - afterDays * 24 * 3600_000);
  const due = await db.$queryRaw<{ id: string }[]>`
    SELECT id FROM cases WHERE status = 'CLOSED' AND archived_at IS NULL AND closed_at < ${before}
    ORDER BY closed_at LIMIT ${ARCHIVE_CASES_PER_RUN}`;
  let archived = 0;
  for (const { id } of due) {
    if (signal?.aborted) break;
    if (await archiveCase(db, id, now)) archived += 1;
  }
  return archived;
}
