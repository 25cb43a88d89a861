// caseUpdated(id): a case's live counts over a real WebSocket, coalesced to at most one event a
// second per case, the last event always carrying the final state; and the coalescing itself on a
// fake clock.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { issueSessionToken } from '../src/domain/sessions.js';
import { CASE_UPDATE_INTERVAL_MS } from '../src/graphql/types/case.js';
import { coalesce } from '../src/subscriptions/coalesce.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser, sealOnChain } from './support/fixtures.js';
import { publishUntil } from './support/subscriptions.js';

let t: TestApp;
let base: string;
const clients: Client[] = [];

beforeAll(async () => {
  t = await createTestApp();
  base = `http://127.0.0.1:${await t.app.start(0, '127.0.0.1')}`;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});
afterAll(() => t?.close());

interface CaseState {
  status: string;
  voteCount: number;
  argumentCount: number;
  ruling: { side: string } | null;
}
type Event = { at: number; data?: { caseUpdated: CaseState }; errors?: { extensions?: { code?: string } }[] };

const CASE_UPDATED = 'subscription Live($id: ID!) { caseUpdated(id: $id) { status voteCount argumentCount ruling { side } } }';

/** A subscriber on its own socket, keeping every event with the time it arrived. */
function follow(caseId: string) {
  const client = createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
  clients.push(client);
  const events: Event[] = [];
  let waiters: { test: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  client.subscribe(
    { query: CASE_UPDATED, variables: { id: encodeGlobalID('Case', caseId) } },
    {
      next: (result) => {
        const event = { ...(result as Omit<Event, 'at'>), at: Date.now() };
        events.push(event);
        for (const w of waiters.filter((w) => w.test(event))) w.resolve(event);
        waiters = waiters.filter((w) => !w.test(event));
      },
      error: () => {},
      complete: () => {},
    },
  );
  return {
    events,
    until(test: (e: Event) => boolean): Promise<Event> {
      const found = events.find(test);
      return found ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}

const signedIn = async () => (await issueSessionToken(t.db, t.sessions, (await createUser(t.db)).id)).token;

async function mutate(query: string, token: string) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: unknown; errors?: unknown[] };
}

const state = (e: Event) => e.data?.caseUpdated;

describe('caseUpdated', () => {
  it('turns a burst of votes and arguments into at most one event a second, the last with the final counts', async () => {
    const c = await createCase(t.db);
    const subscribers = [follow(c.id), follow(c.id)];
    // Subscriptions start asynchronously: announce the case until both hear it.
    await publishUntil(Promise.all(subscribers.map((s) => s.until(() => true))), () => t.pubsub.publish('caseUpdated', c.id, { caseId: c.id }));
    expect(t.app.subscriptions.stats()).toEqual({ groups: 1, subscribers: 2 });
    const before = subscribers.map((s) => s.events.length);
    const executions = t.app.subscriptions.executions;

    const voters = await Promise.all(Array.from({ length: 20 }, signedIn));
    const arguers = await Promise.all(Array.from({ length: 3 }, signedIn));
    const started = Date.now();
    const results = await Promise.all([
      ...voters.map((token, i) => mutate(`mutation { castVote(caseId: "${c.id}", side: ${i % 3 ? 'A' : 'B'}) { side } }`, token)),
      ...arguers.map((token) => mutate(`mutation { submitArgument(caseId: "${c.id}", side: A, body: "An argument long enough to count.") { side } }`, token)),
    ]);
    const votingMs = Date.now() - started;
    expect(results.filter((r) => r.errors)).toEqual([]);

    const final = (e: Event) => state(e)?.voteCount === 20 && state(e)?.argumentCount === 3;
    await Promise.all(subscribers.map((s) => s.until(final)));

    for (const s of subscribers) {
      const burst = s.events.slice(before[subscribers.indexOf(s)]);
      // One event per second the burst spans, plus one: 1–2 for a burst under a second. Embedded
      // PostgreSQL takes 1–2 s for these 23 writes on a small machine, so the bound follows it.
      expect(burst.length).toBeGreaterThanOrEqual(1);
      expect(burst.length).toBeLessThanOrEqual(Math.max(2, 1 + Math.ceil(votingMs / CASE_UPDATE_INTERVAL_MS)));
      expect(final(burst.at(-1)!)).toBe(true);
      // At most one a second (less a little for delivery jitter between server and client).
      for (let i = 1; i < s.events.length; i++) expect(s.events[i]!.at - s.events[i - 1]!.at).toBeGreaterThan(CASE_UPDATE_INTERVAL_MS - 200);
      for (const e of s.events) expect(state(e)).toMatchObject({ status: 'OPEN', ruling: null });
    }
    // Executed once per event for both subscribers.
    expect(subscribers[0]!.events.map(state)).toEqual(subscribers[1]!.events.map(state));
    expect(t.app.subscriptions.executions - executions).toBe(subscribers[0]!.events.length - before[0]!);
  }, 30_000);

  it('sends one last event when the case closes, with its ruling, which no event showed before', async () => {
    const c = await createCase(t.db, { rulingSide: 'B' });
    const voter = await signedIn();
    const subscriber = follow(c.id);
    await publishUntil(subscriber.until(() => true), () => t.pubsub.publish('caseUpdated', c.id, { caseId: c.id }));
    expect(await mutate(`mutation { castVote(caseId: "${c.id}", side: B) { side } }`, voter)).toEqual({ data: { castVote: { side: 'B' } } });
    await subscriber.until((e) => state(e)?.voteCount === 1);

    await t.db.case.update({ where: { id: c.id }, data: { closesAt: new Date(Date.now() - 1000) } });
    await sealOnChain(t.db, t.chain, c.id);
    expect(await t.scheduler.runNow('case-closure', 'manual')).toMatchObject({ status: 'SUCCEEDED', successes: 1 });

    const closed = await subscriber.until((e) => state(e)?.status === 'CLOSED');
    expect(state(closed)).toEqual({ status: 'CLOSED', voteCount: 1, argumentCount: 0, ruling: { side: 'B' } });
    expect(subscriber.events.at(-1)).toBe(closed);
    for (const e of subscriber.events.slice(0, -1)) expect(state(e)).toMatchObject({ status: 'OPEN', ruling: null });
  }, 30_000);

  it('answers NOT_FOUND for a case that does not exist or is not open yet', async () => {
    const pending = await createCase(t.db, { status: 'PENDING' });
    const client = createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    clients.push(client);
    for (const id of [pending.id, '00000000-0000-4000-8000-000000000000', 'not-an-id']) {
      const events = client.iterate({ query: CASE_UPDATED, variables: { id } });
      const first = await events.next();
      expect(first.value?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      await events.return?.();
    }
  });
});

describe('coalesce', () => {
  /** An async iterable fed by hand; `returned` tells whether its consumer let it go. */
  function channel<T>() {
    const queue: T[] = [];
    let ended = false;
    let wake = () => {};
    const feed = {
      returned: false,
      push(value: T) {
        queue.push(value);
        wake();
      },
      end() {
        ended = true;
        wake();
      },
      [Symbol.asyncIterator](): AsyncIterator<T> {
        return {
          next: async () => {
            while (queue.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
            return queue.length > 0 ? { value: queue.shift()!, done: false } : { value: undefined, done: true };
          },
          return: async () => {
            feed.returned = true;
            feed.end();
            return { value: undefined, done: true };
          },
        };
      },
    };
    return feed;
  }

  afterEach(() => {
    vi.useRealTimers();
  });

  it('passes the first event at once, collapses the rest of the second into its latest, and never drops the last', async () => {
    vi.useFakeTimers();
    const source = channel<number>();
    const out = coalesce(source, 1000);
    const got: number[] = [];
    const consumed = (async () => {
      for await (const value of out) got.push(value);
    })();

    source.push(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(got).toEqual([1]);

    for (const n of [2, 3, 4]) source.push(n);
    await vi.advanceTimersByTimeAsync(999);
    expect(got).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(got).toEqual([1, 4]);

    // After a quiet second the next one goes at once again.
    await vi.advanceTimersByTimeAsync(5000);
    source.push(5);
    await vi.advanceTimersByTimeAsync(0);
    expect(got).toEqual([1, 4, 5]);

    // A source that ends with one pending still delivers it, when its second is over.
    source.push(6);
    source.end();
    await vi.advanceTimersByTimeAsync(0);
    expect(got).toEqual([1, 4, 5]);
    await vi.advanceTimersByTimeAsync(1000);
    await consumed;
    expect(got).toEqual([1, 4, 5, 6]);
  });

  it('lets the source go when the consumer leaves', async () => {
    vi.useFakeTimers();
    const source = channel<number>();
    const out = coalesce(source, 1000);
    source.push(1);
    expect(await out.next()).toEqual({ value: 1, done: false });
    source.push(2);
    const waiting = out.next();
    await out.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(source.returned).toBe(true);
  });
});
