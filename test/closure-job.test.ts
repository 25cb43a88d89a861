import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { publishUntil } from './support/subscriptions.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser, sealOnChain } from './support/fixtures.js';

let t: TestApp;
let url: string;
beforeAll(async () => {
  t = await createTestApp();
  url = `ws://127.0.0.1:${await t.app.start(0, '127.0.0.1')}/graphql`;
});
afterAll(() => t.close());

describe('case closure (job 2)', () => {
  it('closes due cases and announces each with its revealed ruling, after the commit', async () => {
    const due = await createCase(t.db, { rulingSide: 'B', reasoning: 'Revealed at last.', opensAt: new Date(Date.now() - 25 * 3600_000) });
    await sealOnChain(t.db, t.chain, due.id);
    const notDue = await createCase(t.db);
    const voter = await createUser(t.db);
    await t.db.vote.create({ data: { caseId: due.id, userId: voter.id, side: 'B' } });

    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const events = client.iterate<{ caseClosed: { status: string; ruling: { side: string; reasoning: string } | null; settlement: { paid: number; treasury: number } | null } }>({
        query: 'subscription { caseClosed { status ruling { side reasoning } settlement { paid treasury winnerCount } } }',
      });
      // Subscriptions start asynchronously: announce an already closed case until one arrives.
      const probe = await createCase(t.db, { status: 'CLOSED' });
      await publishUntil(events.next(), () => t.pubsub.publish('caseClosed', { caseId: probe.id }));
      // Drain the probes already on their way, then close the due case.
      await new Promise((r) => setTimeout(r, 100));
      const outcome = await t.scheduler.runNow('case-closure');
      expect(outcome).toMatchObject({ status: 'SUCCEEDED', items: 1, successes: 1 });
      let event = await events.next();
      while (event.value?.data?.caseClosed.ruling?.reasoning !== 'Revealed at last.' && !event.done) event = await events.next();
      expect(event.value).toEqual({
        data: { caseClosed: { status: 'CLOSED', ruling: { side: 'B', reasoning: 'Revealed at last.' }, settlement: { paid: 400 + 200, treasury: 400, winnerCount: 1 } } },
      });
      await events.return?.();
    } finally {
      await client.dispose();
    }
    expect((await t.db.case.findUniqueOrThrow({ where: { id: notDue.id } })).status).toBe('OPEN');
    expect((await t.db.user.findUniqueOrThrow({ where: { id: voter.id } })).totalPoints).toBe(600);
    // A second run finds nothing to do.
    expect(await t.scheduler.runNow('case-closure')).toMatchObject({ status: 'SUCCEEDED', items: 0 });
  });
});

