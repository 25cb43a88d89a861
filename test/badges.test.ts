import { Wallet } from 'ethers';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BADGES } from '../src/domain/badges.js';
import { awardBadges, badgeProgress, type BadgeAwarded } from '../src/domain/badges-award.js';
import { publishUntil } from './support/subscriptions.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** `n` closed cases won by side A, each with a vote on A by the user. */
async function wins(userId: string, n: number) {
  for (let i = 0; i < n; i++) {
    const c = await createCase(t.db, { status: 'CLOSED' });
    await t.db.caseSettlement.create({ data: { caseId: c.id, pool: 0, winningSide: 'A', winnerCount: 1, participantCount: 1, votesA: 1, votesB: 0, paid: 0, treasury: 0 } });
    await t.db.vote.create({ data: { caseId: c.id, userId, side: 'A' } });
  }
}

async function openVotes(userId: string, n: number, side: 'A' | 'B' = 'B') {
  for (let i = 0; i < n; i++) await t.db.vote.create({ data: { caseId: (await createCase(t.db)).id, userId, side } });
}

async function topArguments(userId: string, n: number) {
  for (let i = 0; i < n; i++) {
    const c = await createCase(t.db, { status: 'CLOSED' });
    await t.db.argument.create({ data: { caseId: c.id, userId, side: 'A', body: 'A top argument, long enough to count.', upvoteCount: 3, topRank: 1 } });
  }
}

const earned = async (userId: string) => (await t.db.badgeAward.findMany({ where: { userId }, orderBy: { badgeKey: 'asc' } })).map((a) => a.badgeKey);
const bonuses = (userId: string) => t.db.reward.findMany({ where: { userId, kind: 'BADGE_BONUS' } });

describe('badges (job 6)', () => {
  it('awards every badge by its criterion, once, with its bonus once', async () => {
    const champion = await createUser(t.db, { handle: 'champion' });
    await wins(champion.id, 10);
    const fourWins = await createUser(t.db, { handle: 'four_wins' });
    await wins(fourWins.id, 4);
    const debater = await createUser(t.db, { handle: 'debater' });
    await topArguments(debater.id, 3);
    const voter = await createUser(t.db, { handle: 'voter' });
    await openVotes(voter.id, 50);
    const member = await createUser(t.db, { handle: 'member' });
    await openVotes(member.id, 19);
    const beta = await t.db.user.update({ where: { id: (await createUser(t.db, { handle: 'beta' })).id }, data: { isBetaUser: true } });
    const wallet = await t.db.user.update({ where: { id: (await createUser(t.db, { handle: 'wallet' })).id }, data: { walletAddress: Wallet.createRandom().address } });

    const run = await t.scheduler.runNow('badges', 'manual');
    expect(run).toMatchObject({ status: 'SUCCEEDED' });

    expect(await earned(champion.id)).toEqual(['first_win', 'five_wins', 'ten_wins']);
    expect(await earned(fourWins.id)).toEqual(['first_win']);
    expect(await earned(debater.id)).toEqual(['master_debater', 'persuasion_expert']);
    expect(await earned(voter.id)).toEqual(['active_member', 'dedicated_voter']);
    expect(await earned(member.id)).toEqual([]);
    expect(await earned(beta.id)).toEqual(['early_adopter']);
    expect(await earned(wallet.id)).toEqual(['blockchain_ready']);

    // Bonuses: credited at once without a wallet, queued for a payout with one.
    expect((await t.db.user.findUniqueOrThrow({ where: { id: champion.id } })).totalPoints).toBe(50 + 200 + 500);
    expect((await bonuses(wallet.id)).map((r) => [r.amount, r.status])).toEqual([[50, 'PENDING']]);
    expect((await t.db.user.findUniqueOrThrow({ where: { id: wallet.id } })).totalPoints).toBe(0);

    // A second pass awards nothing new and pays nothing twice.
    const again = await t.scheduler.runNow('badges', 'manual');
    expect(again).toMatchObject({ status: 'SUCCEEDED', items: 0 });
    expect(await bonuses(champion.id)).toHaveLength(3);
    expect((await t.db.user.findUniqueOrThrow({ where: { id: champion.id } })).totalPoints).toBe(750);

    // The 20th participation arrives: the scheduled run looks at this active user and awards it.
    await openVotes(member.id, 1);
    expect(await t.scheduler.runNow('badges', 'schedule')).toMatchObject({ items: 1 });
    expect(await earned(member.id)).toEqual(['active_member']);
  });

  it('looks only at users active since the last run on schedule, at everyone on demand', async () => {
    await t.scheduler.runNow('badges', 'schedule');
    const quiet = await createUser(t.db, { handle: 'quiet_beta' });
    await t.db.$executeRaw`UPDATE users SET is_beta_user = true, updated_at = now() - interval '1 day' WHERE id = ${quiet.id}::uuid`;
    expect(await t.scheduler.runNow('badges', 'schedule')).toMatchObject({ items: 0 });
    expect(await earned(quiet.id)).toEqual([]);
    expect(await t.scheduler.runNow('badges', 'manual')).toMatchObject({ items: 1 });
    expect(await earned(quiet.id)).toEqual(['early_adopter']);
  });

  it('works through users in chunks that each commit and announce on their own', async () => {
    const crowd = [];
    for (let i = 0; i < 7; i++) crowd.push(await createUser(t.db, { handle: `chunk_${i}` }));
    await t.db.user.updateMany({ where: { id: { in: crowd.map((u) => u.id) } }, data: { isBetaUser: true } });
    await wins(crowd[0]!.id, 1);
    const batches: BadgeAwarded[][] = [];
    const result = await awardBadges(t.db, { since: null, chunkSize: 3, onAwarded: (awards) => batches.push(awards) });
    const users = await t.db.user.count();
    expect(result.chunks).toBe(Math.ceil(users / 3));
    expect(batches.every((b) => new Set(b.map((a) => a.userId)).size <= 3)).toBe(true);
    const mine = batches.flat().filter((a) => a.handle.startsWith('chunk_'));
    expect(mine.map((a) => `${a.handle}:${a.badgeKey}`).sort()).toEqual(
      [...crowd.map((_, i) => `chunk_${i}:early_adopter`), 'chunk_0:first_win'].sort(),
    );
    expect(result.awarded).toBe(batches.flat().length);
    expect((await t.db.user.findUniqueOrThrow({ where: { id: crowd[0]!.id } })).totalPoints).toBe(100 + 50);
    expect(await awardBadges(t.db, { since: null, chunkSize: 3 })).toMatchObject({ awarded: 0 });
  });

  it('reports progress such as "2/5 wins"', async () => {
    const user = await createUser(t.db, { handle: 'progress' });
    await wins(user.id, 2);
    await t.scheduler.runNow('badges', 'manual');
    const progress = Object.fromEntries((await badgeProgress(t.db, user.id)).map((p) => [p.badge.key, p]));
    expect(progress.five_wins).toMatchObject({ earned: false, earnedAt: null, current: 2, target: 5, text: '2/5 wins' });
    expect(progress.first_win).toMatchObject({ earned: true, current: 1, text: '1/1 wins' });
    expect(progress.first_win!.earnedAt).toBeInstanceOf(Date);
    expect(progress.active_member!.text).toBe('2/20 participations');
    expect(Object.keys(progress)).toEqual(BADGES.map((b) => b.key));

    const response = await t.app.yoga.fetch('http://verdict.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ user(handle: "progress") { badges { badge { key icon } } badgeProgress { badge { key } earned text } } }' }),
    });
    const { data } = await response.json();
    expect(data.user.badges).toEqual([{ badge: { key: 'first_win', icon: '🏆' } }]);
    expect(data.user.badgeProgress[1]).toEqual({ badge: { key: 'five_wins' }, earned: false, text: '2/5 wins' });
  });

  it('announces awards, filtered by handle when asked', async () => {
    const url = `ws://127.0.0.1:${await t.app.start(0, '127.0.0.1')}/graphql`;
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const events = client.iterate<{ badgeAwarded: { handle: string; badge: { key: string } } }>({
        query: 'subscription { badgeAwarded(userHandle: "Target_User") { handle badge { key } } }',
      });
      // Subscriptions start asynchronously: announce a probe for the handle until one arrives.
      await publishUntil(events.next(), () =>
        t.pubsub.publish('badgeAwarded', { awardId: 'probe', userId: 'probe', handle: 'target_user', badgeKey: 'first_win', awardedAt: new Date().toISOString() }),
      );
      await new Promise((r) => setTimeout(r, 100));
      const target = await createUser(t.db, { handle: 'target_user' });
      const bystander = await createUser(t.db, { handle: 'bystander' });
      await t.db.user.updateMany({ where: { id: { in: [target.id, bystander.id] } }, data: { isBetaUser: true } });
      await t.scheduler.runNow('badges', 'manual');
      let event = await events.next();
      while (event.value?.data?.badgeAwarded.badge.key === 'first_win') event = await events.next();
      expect(event.value).toEqual({ data: { badgeAwarded: { handle: 'target_user', badge: { key: 'early_adopter' } } } });
      await events.return?.();
    } finally {
      await client.dispose();
    }
  });
});
