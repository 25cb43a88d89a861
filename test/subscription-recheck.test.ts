// A private subscription is checked again at every event: a demoted admin, a deleted user or an
// expired session stops receiving, with a coded error for that operation only.
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { issueSessionToken } from '../src/domain/sessions.js';
import { publishUntil } from './support/subscriptions.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

let t: TestApp;
let url: string;
beforeAll(async () => {
  t = await createTestApp();
  url = `ws://127.0.0.1:${await t.app.start(0, '127.0.0.1')}/graphql`;
});
afterAll(() => t.close());

const connect = (token: string): Client =>
  createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });

/** The subscription's next payload, or the code of the error it ended with. */
async function next(events: AsyncIterator<unknown>): Promise<unknown> {
  const { value, done } = await events.next();
  return done ? 'done' : value;
}

describe('private subscriptions', () => {
  it('end for an admin demoted meanwhile, with FORBIDDEN, and the socket lives on', async () => {
    const admin = await createUser(t.db, { role: 'ADMIN' });
    const client = connect((await issueSessionToken(t.db, t.sessions, admin.id)).token);
    try {
      const jobs = client.iterate({ query: 'subscription { jobCompleted { job status } }' })[Symbol.asyncIterator]();
      const first = await publishUntil(jobs.next(), () => void t.scheduler.runNow('leaderboard'));
      expect(first.value).toMatchObject({ data: { jobCompleted: { job: 'LEADERBOARD' } } });
      const opened = client.iterate<{ caseOpened: { title: string } }>({ query: 'subscription { caseOpened { title } }' })[Symbol.asyncIterator]();
      const c = await createCase(t.db, { title: 'Still here' });
      await publishUntil(opened.next(), () => t.pubsub.publish('caseOpened', { caseId: c.id }));

      await t.db.user.update({ where: { id: admin.id }, data: { role: 'USER' } });
      // Runs already announced may still be on their way; run jobs until the refusal comes.
      let payload = await publishUntil(jobs.next(), () => void t.scheduler.runNow('leaderboard'));
      while (!payload.done && !(payload.value as { errors?: unknown }).errors) {
        payload = await publishUntil(jobs.next(), () => void t.scheduler.runNow('leaderboard'));
      }
      expect(payload.value).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
      expect(await next(jobs)).toBe('done');
      // The public subscription on the same socket still streams.
      const later = opened.next();
      t.pubsub.publish('caseOpened', { caseId: c.id });
      expect((await later).value).toEqual({ data: { caseOpened: { title: 'Still here' } } });
      await opened.return?.();
    } finally {
      await client.dispose();
    }
  });

  it.each(['deleted', 'expired'] as const)('end for a session whose user was %s, with UNAUTHENTICATED', async (how) => {
    const user = await createUser(t.db);
    const lifetime = 1500;
    // An expiring session: issued so that it has `lifetime` ms left.
    const issued = how === 'expired' ? new Date(Date.now() - t.sessions.ttlSeconds * 1000 + lifetime) : new Date();
    const { token, expiresAt } = await issueSessionToken(t.db, t.sessions, user.id, issued);
    const client = connect(token);
    try {
      const rewards = client.iterate({ query: 'subscription { myRewardUpdated { amount } }' })[Symbol.asyncIterator]();
      const c = await createCase(t.db, { status: 'CLOSED' });
      const reward = await t.db.reward.create({ data: { userId: user.id, caseId: c.id, kind: 'PARTICIPATION', amount: 7, status: 'COMPLETED', completedAt: new Date() } });
      const first = await publishUntil(rewards.next(), () => t.pubsub.publish('rewardUpdated', user.id, { rewardId: reward.id }));
      expect(first.value).toEqual({ data: { myRewardUpdated: { amount: 7 } } });
      if (how === 'deleted') await t.db.user.delete({ where: { id: user.id } });
      // The token's expiry is a time, not an event: wait for it to pass.
      else while (Date.now() <= expiresAt.getTime()) await new Promise((r) => setTimeout(r, 100));
      let payload = await publishUntil(rewards.next(), () => t.pubsub.publish('rewardUpdated', user.id, { rewardId: reward.id }));
      while (!payload.done && !(payload.value as { errors?: unknown }).errors) payload = await rewards.next();
      expect(payload.value).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    } finally {
      await client.dispose();
    }
  });
});
