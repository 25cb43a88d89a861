import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../../src/db.js';
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
