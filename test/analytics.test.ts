// Job analytics: one row per UTC day, every figure counted from the day's own rows, backfilled
// for missing days, recomputed without changing, and served by stats / dailyReport.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, computeDays, dayOf, daysToCompute, isoDay } from '../src/domain/analytics.js';
import { issueSessionToken } from '../src/domain/sessions.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

const HOUR = 3600_000;
let t: TestApp;
const today = dayOf(new Date());
/** Ten days ago, midnight UTC: the scenario's day 0. */
const day0 = addDays(today, -10);
const at = (day: number, hour = 12) => new Date(addDays(day0, day).getTime() + hour * HOUR);

beforeAll(async () => {
  t = await createTestApp();
  const db = t.db;
  // Day 0: three new users. Ann comes back on day 1 and day 7, Bob on day 1 only, Cid never.
  const [ann, bob, cid] = [await createUser(db), await createUser(db), await createUser(db)];
  await db.user.updateMany({ where: { id: { in: [ann.id, bob.id, cid.id] } }, data: { createdAt: at(0, 1) } });
  // Day 1: one new user, Dee.
  const dee = await createUser(db);
  await db.user.update({ where: { id: dee.id }, data: { createdAt: at(1, 23) } });

  // Two cases closed on day 1: the crowd sides with the judge in one (2 A votes, ruling A), not in
  // the other (1 B vote, ruling A). A third opens on day 1 and stays open.
  const agreed = await createCase(db, { status: 'CLOSED', rulingSide: 'A', opensAt: at(0, 2), closesAt: at(1, 2) });
  const disagreed = await createCase(db, { status: 'CLOSED', rulingSide: 'A', opensAt: at(0, 3), closesAt: at(1, 3) });
  await createCase(db, { status: 'OPEN', opensAt: at(1, 5), closesAt: at(2, 5) });
  await db.vote.createMany({
    data: [
      { caseId: agreed.id, userId: ann.id, side: 'A', createdAt: at(0, 4) },
      { caseId: agreed.id, userId: bob.id, side: 'A', createdAt: at(1, 0) },
      { caseId: disagreed.id, userId: bob.id, side: 'B', createdAt: at(1, 1) },
    ],
  });
  const argument = await db.argument.create({ data: { caseId: agreed.id, userId: ann.id, side: 'A', body: 'An argument long enough to count.', createdAt: at(1, 1) } });
  await db.argumentUpvote.create({ data: { argumentId: argument.id, userId: cid.id, createdAt: at(0, 6) } });
  // Ann is active on day 7 too (an upvote).
  const late = await db.argument.create({ data: { caseId: disagreed.id, userId: dee.id, side: 'B', body: 'Another argument long enough to count.', createdAt: at(0, 7) } });
  await db.argumentUpvote.create({ data: { argumentId: late.id, userId: ann.id, createdAt: at(7, 9) } });
  await db.caseSettlement.createMany({
    data: [
      { caseId: agreed.id, pool: 1000, winningSide: 'A', winnerCount: 2, participantCount: 2, votesA: 2, votesB: 0, paid: 1000, treasury: 0 },
      { caseId: disagreed.id, pool: 1000, winningSide: 'A', winnerCount: 0, participantCount: 3, votesA: 0, votesB: 1, paid: 400, treasury: 600 },
    ],
  });
  // Points completed on day 1: 70 without a payout, 30 through one on chain; a pending one does not count.
  const tx = await db.chainTransaction.create({ data: { kind: 'PAYOUT', hash: `0x${'ab'.repeat(32)}`, chainId: 1337, status: 'CONFIRMED' } });
  await db.reward.createMany({
    data: [
      { userId: ann.id, caseId: agreed.id, kind: 'PARTICIPATION', amount: 70, status: 'COMPLETED', completedAt: at(1, 8) },
      { userId: bob.id, caseId: agreed.id, kind: 'PARTICIPATION', amount: 30, status: 'COMPLETED', completedAt: at(1, 9), payoutTxId: tx.id },
      { userId: cid.id, caseId: agreed.id, kind: 'PARTICIPATION', amount: 999, status: 'PENDING', payoutAddress: `0x${'cd'.repeat(20)}` },
    ],
  });
});
afterAll(() => t.close());

const row = (day: number) => t.db.dailyStat.findUniqueOrThrow({ where: { day: addDays(day0, day) } });

describe('analytics', () => {
  it('counts each day from its own rows, with retention once it is known', async () => {
    await computeDays(t.db, day0, addDays(day0, 9), new Date(), null);
    expect(await row(0)).toMatchObject({
      newUsers: 3, activeUsers: 3, votes: 1, arguments: 1, upvotes: 1, casesOpened: 2, casesClosed: 0,
      pointsOffChain: 0, pointsOnChain: 0, crowdAgreement: null, medianParticipants: null,
      retentionDay1: 2 / 3, retentionDay7: 1 / 3,
    });
    expect(await row(1)).toMatchObject({
      newUsers: 1, activeUsers: 2, votes: 2, arguments: 1, upvotes: 0, casesOpened: 1, casesClosed: 2,
      pointsOffChain: 70, pointsOnChain: 30, crowdAgreement: 0.5, medianParticipants: 2.5, retentionDay1: 0,
    });
    expect((await row(7)).upvotes).toBe(1);
    // Day 9's new users (none) aside, its day-1 retention is not known before day 10 is over.
    const early = addDays(day0, 2);
    await computeDays(t.db, day0, day0, new Date(early.getTime() + HOUR), null);
    expect(await row(0)).toMatchObject({ retentionDay1: 2 / 3, retentionDay7: null });
  });

  it('backfills missing days and recomputes the last eight, in bounded ranges, idempotently', async () => {
    await t.db.dailyStat.deleteMany();
    const now = new Date();
    const ranges = await daysToCompute(t.db, now);
    // From the first user's day to yesterday, consecutive, each range at most 31 days.
    expect(ranges.map(([a, b]) => [isoDay(a), isoDay(b)])).toEqual([[isoDay(day0), isoDay(addDays(today, -1))]]);
    const run = await t.scheduler.runNow('analytics');
    expect(run).toMatchObject({ status: 'SUCCEEDED', failures: 0 });
    const first = await t.db.dailyStat.findMany({ orderBy: { day: 'asc' } });
    expect(first).toHaveLength(10);
    expect(first.every((s) => 'id' in run && s.runId === run.id)).toBe(true);
    // Once the past has rows, a run recomputes only the last eight days, to the same figures.
    expect((await daysToCompute(t.db, now)).map(([a, b]) => [isoDay(a), isoDay(b)])).toEqual([[isoDay(addDays(today, -8)), isoDay(addDays(today, -1))]]);
    await t.scheduler.runNow('analytics');
    const again = await t.db.dailyStat.findMany({ orderBy: { day: 'asc' } });
    const figures = (rows: typeof first) => rows.map(({ computedAt: _c, runId: _r, ...rest }) => rest);
    expect(figures(again)).toEqual(figures(first));
  });

  it('serves stats to anyone and the daily report, with its run, to admins', async () => {
    await t.scheduler.runNow('analytics');
    const ask = async (query: string, token?: string) => {
      const response = await t.app.yoga.fetch('http://verdict.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query }),
      });
      return response.json();
    };
    const stats = await ask(`{ stats(from: "${isoDay(day0)}", to: "${isoDay(addDays(day0, 1))}") { day newUsers votes crowdAgreement } }`);
    expect(stats).toEqual({ data: { stats: [
      { day: isoDay(day0), newUsers: 3, votes: 1, crowdAgreement: null },
      { day: isoDay(addDays(day0, 1)), newUsers: 1, votes: 2, crowdAgreement: 0.5 },
    ] } });
    for (const [from, to] of [['2026-13-01', '2026-01-01'], ['2026-02-30', '2026-03-01'], ['2026-03-02', '2026-03-01'], ['2024-01-01', '2026-01-01']]) {
      const refused = await ask(`{ stats(from: "${from}", to: "${to}") { day } }`);
      expect(refused.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }

    const report = `{ dailyReport(day: "${isoDay(addDays(day0, 1))}") { day casesClosed run { job status } } }`;
    expect((await ask(report)).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const admin = await createUser(t.db, { role: 'ADMIN' });
    const { token } = await issueSessionToken(t.db, t.sessions, admin.id);
    expect((await ask(report, token)).data.dailyReport).toEqual({ day: isoDay(addDays(day0, 1)), casesClosed: 2, run: { job: 'ANALYTICS', status: 'SUCCEEDED' } });
  });
});
