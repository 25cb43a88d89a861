import type { Db } from '../db.js';
import type { CaseStatus, Side } from '../generated/prisma/enums.js';

export interface RevealedRuling {
  caseId: string;
  side: Side;
  reasoning: string;
  salt: Uint8Array;
  judge: string;
}

/**
 * Rulings of the given cases that are CLOSED. The status filter runs in the same SQL statement,
 * so a sealed ruling or its salt never leaves the database while its case is not closed.
 */
export async function revealedRulings(db: Db, caseIds: readonly string[]): Promise<RevealedRuling[]> {
  return db.sealedRuling.findMany({
    where: { caseId: { in: [...caseIds] }, case: { status: 'CLOSED' } },
    select: { caseId: true, side: true, reasoning: true, salt: true, judge: true },
  });
}

export const PUBLIC_CASE_STATUSES: readonly CaseStatus[] = ['OPEN', 'CLOSED'];
