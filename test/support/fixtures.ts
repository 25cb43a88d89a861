import { randomBytes, randomUUID } from 'node:crypto';
import { caseKeyOf, type Chain } from '../../src/chain/index.js';
import type { Db } from '../../src/db.js';
import { computeCommitment } from '../../src/domain/commitment.js';
import type { CaseStatus, Side } from '../../src/generated/prisma/enums.js';

let counter = 0;
const next = () => ++counter;

export async function createUser(db: Db, overrides: { handle?: string; role?: 'USER' | 'ADMIN' } = {}) {
  return db.user.create({
    data: { handle: overrides.handle ?? `user_${next()}`, passwordHash: 'scrypt$unused', role: overrides.role ?? 'USER' },
  });
}

export interface CaseFixture {
  status?: CaseStatus;
  opensAt?: Date;
  closesAt?: Date;
  rulingSide?: Side;
  reasoning?: string;
  creatorId?: string;
  title?: string;
}

/** A case with a sealed ruling, stored directly (the AI judge and chain come in later layers). */
export async function createCase(db: Db, fixture: CaseFixture = {}) {
  const n = next();
  const opensAt = fixture.opensAt ?? new Date(Date.now() - 60_000 * n);
  const closesAt = fixture.closesAt ?? new Date(opensAt.getTime() + 24 * 3600_000);
  const status = fixture.status ?? 'OPEN';
  return db.case.create({
    data: {
      id: randomUUID(),
      title: fixture.title ?? `Case ${n}`,
      dilemma: `Dilemma ${n}: `.padEnd(240, 'A friend asks you to keep a secret that could hurt someone else. '),
      sideALabel: 'Keep it',
      sideBLabel: 'Tell',
      source: fixture.creatorId ? 'USER' : 'AI',
      creatorId: fixture.creatorId ?? null,
      status,
      opensAt,
      closesAt,
      closedAt: status === 'CLOSED' ? closesAt : null,
      rewardPool: 1000,
      commitment: `0x${randomBytes(32).toString('hex')}`,
      commitmentStatus: status === 'PENDING' ? 'UNSENT' : 'SENT',
      ruling: {
        create: {
          side: fixture.rulingSide ?? 'A',
          reasoning: fixture.reasoning ?? `Secret reasoning ${n}`,
          salt: randomBytes(32),
          judge: 'test',
        },
      },
    },
    include: { ruling: true },
  });
}

/**
 * Seals a fixture case for real: its commitment recomputed from its ruling and put on the chain
 * (revealable from its closing time, or now when that has passed), as the sealing flow would.
 */
export async function sealOnChain(db: Db, chain: Chain, caseId: string) {
  const c = await db.case.findUniqueOrThrow({ where: { id: caseId }, include: { ruling: true } });
  const r = c.ruling!;
  const commitment = computeCommitment({ chainId: chain.chainId, registryAddress: chain.registryAddress, caseId, side: r.side, reasoning: r.reasoning, salt: r.salt });
  const revealAfter = new Date(Math.max(c.closesAt.getTime(), Date.now()));
  const { hash } = await chain.commit(caseKeyOf(caseId), commitment, revealAfter);
  return db.case.update({
    where: { id: caseId },
    data: { commitment, commitmentStatus: 'VERIFIED', revealAfter, commitTx: { create: { kind: 'COMMIT', hash, chainId: chain.chainId, status: 'CONFIRMED' } } },
  });
}
