import type { Db } from '../db.js';
import { AppError, badInput } from '../errors.js';
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

export const CASE_LIMITS = {
  title: { min: 5, max: 140 },
  dilemma: { min: 200, max: 5000 },
  side: { min: 1, max: 60 },
} as const;

export interface CaseInput {
  title: string;
  dilemma: string;
  sideA: string;
  sideB: string;
}

export interface CaseSettings {
  rewardPool: number;
  durationHours: number;
  submissionsPerDay: number;
}

/** Trims and checks a draft against the SPEC's lengths; names the first bad field. */
export function validateCaseInput(input: CaseInput): CaseInput {
  const clean = {
    title: input.title.trim(),
    dilemma: input.dilemma.trim(),
    sideA: input.sideA.trim(),
    sideB: input.sideB.trim(),
  };
  const checks: [keyof CaseInput, { min: number; max: number }][] = [
    ['title', CASE_LIMITS.title],
    ['dilemma', CASE_LIMITS.dilemma],
    ['sideA', CASE_LIMITS.side],
    ['sideB', CASE_LIMITS.side],
  ];
  for (const [field, { min, max }] of checks) {
    const length = [...clean[field]].length;
    if (length < min || length > max) throw badInput(`${field} must have ${min}–${max} characters`, field);
  }
  if (clean.sideA.toLowerCase() === clean.sideB.toLowerCase()) throw badInput('The two sides must differ', 'sideB');
  return clean;
}

/**
 * A user's case, stored PENDING: the AI judge rules on it and seals the ruling before it opens,
 * as for generated cases. Submissions are counted under a per-user lock so two at once cannot
 * both slip under the limit.
 */
export async function submitCase(db: Db, userId: string, input: CaseInput, settings: CaseSettings, now = new Date()) {
  const draft = validateCaseInput(input);
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('submit-case'), hashtext(${userId}))`;
    const since = new Date(now.getTime() - 24 * 3600_000);
    const recent = await tx.case.count({ where: { creatorId: userId, createdAt: { gt: since } } });
    if (recent >= settings.submissionsPerDay) {
      throw new AppError('RATE_LIMITED', `You can submit ${settings.submissionsPerDay} case(s) per 24 hours`);
    }
    return tx.case.create({
      data: {
        title: draft.title,
        dilemma: draft.dilemma,
        sideALabel: draft.sideA,
        sideBLabel: draft.sideB,
        source: 'USER',
        creatorId: userId,
        status: 'PENDING',
        opensAt: now,
        closesAt: new Date(now.getTime() + settings.durationHours * 3600_000),
        rewardPool: settings.rewardPool,
        createdAt: now,
      },
    });
  });
}
