// Job notifications: a closed case, a badge and a settled payout each become one notification
// per user concerned, never twice; listed, marked read and pushed live to their owner only.
import { Wallet } from 'ethers';
import { createClient } from 'graphql-ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { notifyClosedCase } from '../src/domain/notifications.js';
import { closeCase } from '../src/domain/settlement.js';
import { issueSessionToken } from '../src/domain/sessions.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createUser } from './support/fixtures.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(() => t.close());

const ask = (query: string, token?: string) => t.query(query, token);
const tokenOf = async (userId: string) => (await issueSessionToken(t.db, t.sessions, userId)).token;

/** A sealed case (as the judge writes them), voted on by `sides`, then closed by the job. */
async function closedCase(sides: ('A' | 'B')[], extra: { arguer?: string; upvoter?: string; wallets?: boolean } = {}) {
  const generated = await t.scheduler.runNow('case-generation');
  const caseId = ('result' in generated && (generated.result as { opened: string[] }).opened[0]) || '';
  const ruling = await t.db.sealedRuling.findUniqueOrThrow({ where: { caseId } });
  const voters = [];
  for (const side of sides) {
    const user = await createUser(t.db);
    const data = await ask(`mutation { castVote(caseId: "${caseId}", side: ${side}) { side } }`, await tokenOf(user.id));
    expect(data.errors).toBeUndefined();
    voters.push(user);
    if (extra.wallets) await t.db.user.update({ where: { id: user.id }, data: { walletAddress: Wallet.createRandom().address } });
  }
  if (extra.arguer) {
    const argued = await ask(`mutation { submitArgument(caseId: "${caseId}", side: A, body: "An argument long enough to be accepted.") { id } }`, await tokenOf(extra.arguer));
    if (extra.upvoter) await ask(`mutation { upvoteArgument(argumentId: "${argued.data.submitArgument.id}") { id } }`, await tokenOf(extra.upvoter));
  }
  await t.db.$executeRaw`UPDATE cases SET closes_at = now() WHERE id = ${caseId}::uuid`;
  await t.scheduler.runNow('case-closure');
  return { caseId, ruling, voters };
}

describe('notifications', () => {
  it('tell everyone who took part in a closed case the ruling, their side and reward, once', async () => {
    const [arguer, upvoter, bystander] = [await createUser(t.db), await createUser(t.db), await createUser(t.db)];
    const { caseId, ruling, voters } = await closedCase(['A', 'B', 'A'], { arguer: arguer.id, upvoter: upvoter.id });
    // Written by the closure's job right after the closing transaction, and published.
    const notes = await t.db.notification.findMany({ where: { caseId } });
    expect(notes.map((n) => n.userId).sort()).toEqual([...voters.map((v) => v.id), arguer.id].sort());
    expect(notes.every((n) => n.publishedAt !== null)).toBe(true);
    const rewards = await t.db.reward.groupBy({ by: ['userId'], where: { caseId }, _sum: { amount: true } });
    for (const [i, voter] of voters.entries()) {
      const note = notes.find((n) => n.userId === voter.id)!;
      const sided = ['A', 'B', 'A'][i] === ruling.side ? 'with' : 'against';
      const points = rewards.find((r) => r.userId === voter.id)?._sum.amount ?? 0;
      expect(note).toMatchObject({ kind: 'CASE_CLOSED', subjectId: caseId, readAt: null });
      expect(note.body).toContain(`You sided ${sided} the judge. Your reward: ${points} points.`);
    }
    expect(notes.find((n) => n.userId === arguer.id)!.body).toContain('You argued but did not vote.');
    expect(await t.db.notification.count({ where: { userId: { in: [upvoter.id, bystander.id] } } })).toBe(0);
    // The notifications job finds nothing left to publish.
    expect(await t.scheduler.runNow('notifications')).toMatchObject({ result: { published: 0 } });
    expect(await t.db.notification.count()).toBe(4);
  });

  it('of a closure come from its committed settlement: none if it rolls back, all once if it commits, even when the closing server stops in between', async () => {
    const generated = await t.scheduler.runNow('case-generation');
    const caseId = ('result' in generated && (generated.result as { opened: string[] }).opened[0]) || '';
    const voters = [await createUser(t.db), await createUser(t.db)];
    for (const voter of voters) await ask(`mutation { castVote(caseId: "${caseId}", side: A) { side } }`, await tokenOf(voter.id));
    await t.db.$executeRaw`UPDATE cases SET closes_at = now() WHERE id = ${caseId}::uuid`;
    // The closure fails after its last step: nothing of it stays, so nobody is told.
    await expect(closeCase(t.db, caseId, new Date(), 'settlement')).rejects.toThrow('injected failure');
    expect(await t.db.caseSettlement.count({ where: { caseId } })).toBe(0);
    expect(await t.scheduler.runNow('notifications')).toMatchObject({ result: { closedCasesTold: 0, published: 0 } });
    expect(await t.db.notification.count()).toBe(0);
    // It commits, and its server stops before telling anyone (closeCase alone, no job): the
    // settlement says nobody was told, and the notifications job tells and publishes, once.
    await closeCase(t.db, caseId, new Date());
    expect(await t.db.caseSettlement.findUniqueOrThrow({ where: { caseId } })).toMatchObject({ notifiedAt: null });
    expect(await t.db.notification.count()).toBe(0);
    expect(await t.scheduler.runNow('notifications')).toMatchObject({ result: { closedCasesTold: 1, published: 2 } });
    expect((await t.db.notification.findMany({ where: { caseId }, select: { userId: true } })).map((n) => n.userId).sort()).toEqual(voters.map((v) => v.id).sort());
    expect(await t.scheduler.runNow('notifications')).toMatchObject({ result: { closedCasesTold: 0, published: 0 } });
    // Two tellers at once (the closing server and a job elsewhere): one writes, none twice.
    await t.db.$executeRaw`UPDATE case_settlements SET notified_at = NULL WHERE case_id = ${caseId}::uuid`;
    await t.db.notification.deleteMany({ where: { caseId } });
    expect((await Promise.all([notifyClosedCase(t.db, caseId), notifyClosedCase(t.db, caseId)])).sort()).toEqual([false, true]);
    expect(await t.db.notification.count({ where: { caseId } })).toBe(2);
    // A badge's notification comes in the statement that awards it.
    const awarded = await t.db.badgeAward.count();
    await t.scheduler.runNow('badges');
    expect(await t.db.notification.count({ where: { kind: 'BADGE_EARNED' } })).toBe((await t.db.badgeAward.count()) - awarded);
  });

  it('tell of badges and of payouts confirmed on chain', async () => {
    const beta = await createUser(t.db);
    await t.db.user.update({ where: { id: beta.id }, data: { isBetaUser: true } });
    await t.scheduler.runNow('badges');
    // A winner with a wallet: the payout is sent, then confirmed.
    const { voters } = await closedCase(['A', 'B'], { wallets: true });
    await t.scheduler.runNow('tx-monitor');
    await t.scheduler.runNow('tx-monitor');
    await t.scheduler.runNow('notifications');
    expect(await t.db.notification.findMany({ where: { userId: beta.id }, select: { kind: true, title: true } })).toEqual([
      { kind: 'BADGE_EARNED', title: 'Badge earned: 🚀 Early Adopter' },
    ]);
    const confirmed = await t.db.notification.findMany({ where: { kind: 'REWARD_CONFIRMED' } });
    const paid = await t.db.reward.findMany({ where: { userId: { in: voters.map((v) => v.id) }, status: 'COMPLETED', payoutTxId: { not: null } } });
    expect(paid.length).toBeGreaterThan(0);
    expect(confirmed.map((n) => n.subjectId).sort()).toEqual(paid.map((r) => r.id).sort());
  });

  it('are listed to their owner, newest first, marked read, and pushed live to the owner only', async () => {
    const { voters } = await closedCase(['A', 'B']);
    const [mine, theirs] = [await tokenOf(voters[0]!.id), await tokenOf(voters[1]!.id)];
    const port = await t.app.start(0, '127.0.0.1');
    const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${mine}` } });
    try {
      const events = client.iterate<{ notificationAdded: { kind: string; title: string } }>({ query: 'subscription { notificationAdded { kind title } }' });
      const first = events.next();
      // The subscription starts asynchronously: until its first event arrives, the notification is
      // made unpublished again (as after a stop between commit and publish) and the job publishes it.
      let heard: Awaited<typeof first> | undefined;
      void first.then((event) => (heard = event));
      for (let i = 0; i < 200 && !heard; i++) {
        await t.db.$executeRaw`UPDATE notifications SET published_at = NULL`;
        await t.scheduler.runNow('notifications');
      }
      heard ??= await first;
      expect(heard.value?.data?.notificationAdded.kind).toBe('CASE_CLOSED');
      await events.return?.();
    } finally {
      await client.dispose();
    }

    const list = async (token: string, unreadOnly = false) =>
      (await ask(`{ me { notifications(first: 10, unreadOnly: ${unreadOnly}) { edges { node { id kind title readAt case { id } } } } } }`, token)).data.me.notifications.edges.map(
        (e: { node: unknown }) => e.node,
      );
    const [own] = await list(mine);
    expect(own).toMatchObject({ kind: 'CASE_CLOSED', readAt: null });
    const [other] = await list(theirs);
    // Nobody marks or loads another's notification.
    expect((await ask(`mutation { markNotificationsRead(ids: ["${other.id}"]) }`, mine)).data.markNotificationsRead).toBe(0);
    expect((await ask(`{ node(id: "${other.id}") { id } }`, mine)).data.node).toBeNull();
    expect((await ask(`mutation { markNotificationsRead(ids: ["${own.id}"]) }`, mine)).data.markNotificationsRead).toBe(1);
    expect(await list(mine, true)).toEqual([]);
    expect((await list(theirs, true))).toHaveLength(1);
    expect((await ask('mutation { markNotificationsRead }', theirs)).data.markNotificationsRead).toBe(1);
    expect((await ask('mutation { markNotificationsRead(ids: ["nope"]) }', mine)).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await ask('mutation { markNotificationsRead }')).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});
