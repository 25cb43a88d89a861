import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCase, computeShares, type ClosureStep } from '../src/domain/settlement.js';
import type { Db } from '../src/db.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { createCase, createUser } from './support/fixtures.js';

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.prisma;
});
afterAll(() => database.close());

describe('shares of the pool', () => {
  it('always add up to the pool, with every share as the SPEC sets it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        (pool, winners, extra, topArguments, creatorEligible) => {
          const participants = winners + extra;
          const s = computeShares({ pool, winners, participants, topArguments, creatorEligible });
          expect(s.perWinner * winners + s.topArgument.reduce((a, b) => a + b, 0) + s.perParticipant * participants + s.creator + s.treasury).toBe(pool);
          expect(s.paid + s.treasury).toBe(pool);
          expect(s.treasury).toBeGreaterThanOrEqual(0);
          expect(s.perWinner).toBe(winners ? Math.floor(Math.floor(pool * 0.4) / winners) : 0);
          expect(s.perParticipant).toBe(participants ? Math.floor(Math.floor(pool * 0.2) / participants) : 0);
          expect(s.topArgument).toEqual([15, 9, 6].map((p, i) => (i < topArguments ? Math.floor((pool * p) / 100) : 0)));
          expect(s.creator).toBe(creatorEligible ? Math.floor(pool / 10) : 0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('sends everything to the treasury when nobody took part', () => {
    expect(computeShares({ pool: 1000, winners: 0, participants: 0, topArguments: 0, creatorEligible: false })).toMatchObject({ paid: 0, treasury: 1000 });
  });
});

interface Scenario {
  ruling: 'A' | 'B';
  pool: number;
  voters: ('A' | 'B' | null)[];
  arguers: { by: number; upvotes: number }[];
  withCreator: boolean;
  wallets: boolean[];
}

const dueWindow = () => ({ opensAt: new Date(Date.now() - 25 * 3600_000), closesAt: new Date(Date.now() - 3600_000) });

async function build(s: Scenario) {
  const users: Awaited<ReturnType<typeof createUser>>[] = [];
  for (let i = 0; i < s.voters.length; i++) {
    const user = await createUser(db);
    users.push(s.wallets[i] ? await db.user.update({ where: { id: user.id }, data: { walletAddress: `0x${randomBytes(20).toString('hex')}` } }) : user);
  }
  const creator = s.withCreator ? await createUser(db) : null;
  const c = await createCase(db, { rulingSide: s.ruling, ...dueWindow(), ...(creator ? { creatorId: creator.id } : {}) });
  await db.case.update({ where: { id: c.id }, data: { rewardPool: s.pool } });
  const votes = s.voters.flatMap((side, i) => (side ? [{ caseId: c.id, userId: users[i]!.id, side }] : []));
  await db.vote.createMany({ data: votes });
  const seen = new Set<number>();
  for (const [n, a] of s.arguers.entries()) {
    if (seen.has(a.by)) continue;
    seen.add(a.by);
    await db.argument.create({
      data: { caseId: c.id, userId: users[a.by]!.id, side: 'A', body: `Argument ${n} with enough words.`, upvoteCount: a.upvotes, createdAt: new Date(Date.now() - 10_000 + n) },
    });
  }
  return { c, users, creator };
}

const scenario = fc.record({
  ruling: fc.constantFrom('A' as const, 'B' as const),
  pool: fc.integer({ min: 0, max: 100_000 }),
  voters: fc.array(fc.constantFrom('A' as const, 'B' as const, null), { minLength: 1, maxLength: 12 }),
  arguers: fc.array(fc.record({ by: fc.nat(), upvotes: fc.integer({ min: 0, max: 4 }) }), { maxLength: 6 }),
  withCreator: fc.boolean(),
  wallets: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
}).map((s) => ({ ...s, arguers: s.arguers.map((a) => ({ ...a, by: a.by % s.voters.length })) }));

describe('closing a case', () => {
  it('pays out exactly the pool over random cases, ranks the top arguments, credits off-chain users', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { c, users } = await build(s);
        const pointsBefore = new Map((await db.user.findMany({ select: { id: true, totalPoints: true } })).map((u) => [u.id, u.totalPoints]));
        const closed = await closeCase(db, c.id);
        expect(closed).not.toBeNull();

        const settlement = await db.caseSettlement.findUniqueOrThrow({ where: { caseId: c.id } });
        const rewards = await db.reward.findMany({ where: { caseId: c.id } });
        const sum = rewards.reduce((a, r) => a + r.amount, 0);
        expect(sum + settlement.treasury).toBe(s.pool);
        expect(settlement.paid).toBe(sum);

        const winners = s.voters.filter((v) => v === s.ruling).length;
        expect(settlement.winnerCount).toBe(winners);
        expect(rewards.filter((r) => r.kind === 'WINNING_VOTE').length).toBe(closed!.shares.perWinner > 0 ? winners : 0);
        expect(rewards.filter((r) => r.kind === 'CREATOR')).toHaveLength(0); // fewer than 100 participants

        const args = await db.argument.findMany({ where: { caseId: c.id }, orderBy: [{ upvoteCount: 'desc' }, { createdAt: 'asc' }] });
        const placed = args.filter((a) => a.upvoteCount >= 1).slice(0, 3);
        expect(args.filter((a) => a.topRank !== null).map((a) => a.id)).toEqual(placed.map((a) => a.id));
        expect(placed.map((a) => a.topRank)).toEqual([1, 2, 3].slice(0, placed.length));

        for (const user of users) {
          const completed = rewards.filter((r) => r.userId === user.id && r.status === 'COMPLETED').reduce((a, r) => a + r.amount, 0);
          const after = await db.user.findUniqueOrThrow({ where: { id: user.id } });
          expect(after.totalPoints - pointsBefore.get(user.id)!).toBe(completed);
          for (const r of rewards.filter((r) => r.userId === user.id)) expect(r.status).toBe(user.walletAddress ? 'PENDING' : 'COMPLETED');
        }
      }),
      { numRuns: 15 },
    );
  });

  it('counts voters and argument authors as participants, not those who only upvoted', async () => {
    const c = await createCase(db, { status: 'OPEN', opensAt: new Date(Date.now() - 2 * 86_400_000), closesAt: new Date(Date.now() - 1000), rulingSide: 'A' });
    const [voter, author, upvoter] = [await createUser(db), await createUser(db), await createUser(db)];
    await db.vote.create({ data: { caseId: c.id, userId: voter.id, side: 'A' } });
    const argument = await db.argument.create({ data: { caseId: c.id, userId: author.id, side: 'B', body: 'An argument with enough words in it.', upvoteCount: 1 } });
    await db.argumentUpvote.create({ data: { argumentId: argument.id, userId: upvoter.id } });
    await closeCase(db, c.id);
    expect((await db.caseSettlement.findUniqueOrThrow({ where: { caseId: c.id } })).participantCount).toBe(2);
    const participation = await db.reward.findMany({ where: { caseId: c.id, kind: 'PARTICIPATION' }, select: { userId: true } });
    expect(participation.map((r) => r.userId).sort()).toEqual([voter.id, author.id].sort());
    expect(await db.reward.count({ where: { caseId: c.id, userId: upvoter.id } })).toBe(0);
  });

  it('pays the creator only with at least 100 participants', async () => {
    for (const participants of [99, 100]) {
      const creator = await createUser(db);
      const c = await createCase(db, { creatorId: creator.id, ...dueWindow() });
      const users = await Promise.all(Array.from({ length: participants }, () => createUser(db)));
      await db.vote.createMany({ data: users.map((u) => ({ caseId: c.id, userId: u.id, side: 'B' as const })) });
      await closeCase(db, c.id);
      const paid = await db.reward.findMany({ where: { caseId: c.id, kind: 'CREATOR' } });
      expect(paid.map((r) => [r.userId, r.amount])).toEqual(participants >= 100 ? [[creator.id, 100]] : []);
    }
  });

  it('leaves a case open and untouched when it crashes after any step, and closes it fully on retry', async () => {
    const steps: ClosureStep[] = ['claim', 'rank', 'rewards', 'points', 'settlement'];
    for (const step of steps) {
      const { c, users } = await build({ ruling: 'A', pool: 1000, voters: ['A', 'B', 'A'], arguers: [{ by: 0, upvotes: 2 }], withCreator: false, wallets: [false, false, false] });
      await expect(closeCase(db, c.id, new Date(), step)).rejects.toThrow(`after ${step}`);
      expect(await db.case.findUniqueOrThrow({ where: { id: c.id } })).toMatchObject({ status: 'OPEN', closedAt: null });
      expect(await db.reward.count({ where: { caseId: c.id } })).toBe(0);
      expect(await db.caseSettlement.count({ where: { caseId: c.id } })).toBe(0);
      expect(await db.argument.count({ where: { caseId: c.id, topRank: { not: null } } })).toBe(0);
      expect((await db.user.findMany({ where: { id: { in: users.map((u) => u.id) } } })).every((u) => u.totalPoints === 0)).toBe(true);

      expect(await closeCase(db, c.id)).not.toBeNull();
      // 2 winners × 200, top argument 150, 3 participants × 66; treasury the rest.
      const rewards = await db.reward.findMany({ where: { caseId: c.id } });
      expect(rewards.reduce((a, r) => a + r.amount, 0)).toBe(2 * 200 + 150 + 3 * 66);
      expect((await db.caseSettlement.findUniqueOrThrow({ where: { caseId: c.id } })).treasury).toBe(1000 - 748);
    }
  });

  it('closes once when two closers race', async () => {
    const { c } = await build({ ruling: 'B', pool: 1000, voters: ['B', 'B', 'A', 'B'], arguers: [], withCreator: false, wallets: [false, false, false, false] });
    const results = await Promise.all([closeCase(db, c.id), closeCase(db, c.id), closeCase(db, c.id)]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(await db.reward.count({ where: { caseId: c.id } })).toBe(3 + 4);
    expect(await db.caseSettlement.count({ where: { caseId: c.id } })).toBe(1);
  });

  it('does not close a case before its time', async () => {
    const c = await createCase(db);
    expect(await closeCase(db, c.id)).toBeNull();
    expect((await db.case.findUniqueOrThrow({ where: { id: c.id } })).status).toBe('OPEN');
  });
});
