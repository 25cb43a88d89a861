// Public subscriptions over graphql-ws are shared per operation and variables (issue #9): one
// pubsub listener and one execution per event for a group, the same frame for every subscriber;
// viewer-dependent parts and private subscriptions still run per viewer / per subscriber.
//
// Events of one group are handled in order, so once every subscriber has an event, everything
// published before it has been handled too: the tests wait for marked events, never for time.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import pino from 'pino';
import { issueSessionToken } from '../src/domain/sessions.js';
import type { LeaderboardUpdate } from '../src/events.js';
import { collectAfterDisconnects } from '../src/subscriptions/memory.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

let t: TestApp;
let url: string;
/** Pubsub subscriptions open right now (counted from the start of this file). */
let openListeners = 0;
const clients: Client[] = [];

beforeAll(async () => {
  t = await createTestApp();
  url = `ws://127.0.0.1:${await t.app.start(0, '127.0.0.1')}/graphql`;
  // Count the pubsub subscriptions that are open: every one must be released.
  const subscribe = t.pubsub.subscribe.bind(t.pubsub) as unknown as (...topic: unknown[]) => AsyncIterableIterator<unknown>;
  (t.pubsub as unknown as { subscribe: unknown }).subscribe = (...topic: unknown[]) => {
    const inner = subscribe(...topic);
    openListeners++;
    let open = true;
    const release = () => {
      if (open) (open = false), openListeners--;
    };
    return {
      next: async () => {
        const step = await inner.next();
        if (step.done) release();
        return step;
      },
      return: async (value?: unknown) => (release(), inner.return!(value)),
      throw: async (error?: unknown) => (release(), inner.throw!(error)),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  };
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await vi.waitFor(() => expect(t.app.subscriptions.stats()).toEqual({ groups: 0, subscribers: 0 }));
});
afterAll(() => t.close());

const connect = (token?: string) => {
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: token ? { authorization: `Bearer ${token}` } : {} });
  clients.push(client);
  return client;
};
const tokenOf = async (userId: string) => (await issueSessionToken(t.db, t.sessions, userId)).token;

type Result<T> = { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };

/** A subscription collecting its results; `until(test)` resolves with the first result passing it. */
function follow<T>(client: Client, query: string, variables?: Record<string, unknown>) {
  const results: Result<T>[] = [];
  let waiters: { test: (r: Result<T>) => boolean; resolve: (r: Result<T>) => void }[] = [];
  const stop = client.subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        results.push(result as Result<T>);
        for (const w of waiters.filter((w) => w.test(result as Result<T>))) w.resolve(result as Result<T>);
        waiters = waiters.filter((w) => !w.test(result as Result<T>));
      },
      error: () => {},
      complete: () => {},
    },
  );
  return {
    results,
    stop,
    until(test: (r: Result<T>) => boolean): Promise<Result<T>> {
      const found = results.find(test);
      return found ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}
type Follower = ReturnType<typeof follow<any>>;

/**
 * Subscriptions start asynchronously: publishes marked events until one reached every
 * subscription. Returns that event's marker; everything published before it was handled.
 */
async function warmUp(subs: Follower[], publish: (marker: string) => void | Promise<void>, markerOf: (r: Result<any>) => string | undefined) {
  for (let i = 0; i < 100; i++) {
    const marker = `warm-${i}-${Math.random().toString(36).slice(2)}`;
    const all = Promise.all(subs.map((s) => s.until((r) => markerOf(r) === marker)));
    await publish(marker);
    if (await Promise.race([all.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 50))])) return marker;
  }
  throw new Error('some subscription never started');
}

/** Publishes until every subscription has a result passing `test` (for events that carry no marker). */
async function publishUntilEach(subs: Follower[], publish: () => void, test: (r: Result<any>) => boolean) {
  const all = Promise.all(subs.map((s) => s.until(test)));
  for (let i = 0; i < 100; i++) {
    publish();
    if (await Promise.race([all.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 50))])) return;
  }
  throw new Error('some subscription never started');
}

const LEADERBOARD = 'subscription Board($period: LeaderboardPeriod!) { leaderboardUpdated(period: $period) { computedAt entries { rank handle points } } }';
/** A leaderboard event with `computedAt` = a day in 2026 chosen by the marker, counting how often it is read. */
let day = 0;
const markers = new Map<string, string>();
function leaderboardEvent(period: string, marker: string) {
  if (!markers.has(marker)) markers.set(marker, new Date(Date.UTC(2026, 0, 1) + ++day * 60_000).toISOString());
  const computedAt = markers.get(marker)!;
  const reads = { count: 0 };
  const update: LeaderboardUpdate = {
    period,
    get computedAt() {
      reads.count++;
      return computedAt;
    },
    entries: [
      { rank: 1, points: 900, userId: '00000000-0000-4000-8000-000000000001', handle: 'first' },
      { rank: 2, points: 800, userId: '00000000-0000-4000-8000-000000000002', handle: 'second' },
    ],
  };
  return { update, reads, computedAt };
}
const boardMarker = (r: Result<any>) => [...markers].find(([, at]) => at === r.data?.leaderboardUpdated?.computedAt)?.[0];
const publishBoard = (period: string) => (marker: string) => t.pubsub.publish('leaderboardUpdated', period, leaderboardEvent(period, marker).update);

describe('a public subscription shared by many subscribers', () => {
  it('executes each event once and sends every subscriber the same payload', async () => {
    const subs = Array.from({ length: 12 }, () => follow<{ leaderboardUpdated: LeaderboardUpdate }>(connect(), LEADERBOARD, { period: 'ALL_TIME' }));
    await warmUp(subs, publishBoard('ALL_TIME'), boardMarker);
    expect(t.app.subscriptions.stats()).toEqual({ groups: 1, subscribers: 12 });

    const executions = t.app.subscriptions.executions;
    const { update, reads, computedAt } = leaderboardEvent('ALL_TIME', 'measured-1');
    t.pubsub.publish('leaderboardUpdated', 'ALL_TIME', update);
    const received = await Promise.all(subs.map((s) => s.until((r) => r.data?.leaderboardUpdated.computedAt === computedAt)));

    expect(reads.count).toBe(1);
    expect(t.app.subscriptions.executions - executions).toBe(1);
    for (const result of received) {
      expect(result).toEqual({ data: { leaderboardUpdated: { computedAt, entries: [{ rank: 1, handle: 'first', points: 900 }, { rank: 2, handle: 'second', points: 800 }] } } });
    }
  });

  it('sends the same frame text on every socket, only the subscription id differs', async () => {
    const frames = new Map<string, string>();
    const { computedAt } = leaderboardEvent('DAILY', 'frame');
    const sockets = await Promise.all(
      ['one', 'two'].map(
        (id) =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(url, 'graphql-transport-ws');
            ws.once('error', reject);
            ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
            ws.on('message', (data: Buffer) => {
              const text = data.toString();
              if (text.includes('connection_ack')) {
                ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query: LEADERBOARD, operationName: 'Board', variables: { period: 'DAILY' } } }));
                resolve(ws);
              } else if (text.includes(computedAt)) {
                frames.set(id, text);
              }
            });
          }),
      ),
    );
    try {
      for (let i = 0; i < 100 && frames.size < 2; i++) {
        t.pubsub.publish('leaderboardUpdated', 'DAILY', leaderboardEvent('DAILY', 'frame').update);
        await vi.waitFor(() => expect(frames.size).toBe(2), { timeout: 50, interval: 5 }).catch(() => {});
      }
      expect(frames.size).toBe(2);
      expect(frames.get('one')!.replace('"id":"one"', '"id":"X"')).toBe(frames.get('two')!.replace('"id":"two"', '"id":"X"'));
      expect(JSON.parse(frames.get('one')!)).toMatchObject({ id: 'one', type: 'next', payload: { data: { leaderboardUpdated: { computedAt } } } });
    } finally {
      for (const ws of sockets) ws.close();
    }
  });

  it('keeps different variables and different operations in separate groups', async () => {
    const allTime = follow<{ leaderboardUpdated: LeaderboardUpdate }>(connect(), LEADERBOARD, { period: 'ALL_TIME' });
    const weekly = follow<{ leaderboardUpdated: LeaderboardUpdate }>(connect(), LEADERBOARD, { period: 'WEEKLY' });
    const slim = follow<{ leaderboardUpdated: LeaderboardUpdate }>(connect(), 'subscription { leaderboardUpdated(period: ALL_TIME) { computedAt } }');
    await warmUp([allTime, slim], publishBoard('ALL_TIME'), boardMarker);
    await warmUp([weekly], publishBoard('WEEKLY'), boardMarker);
    expect(t.app.subscriptions.stats()).toEqual({ groups: 3, subscribers: 3 });

    const event = leaderboardEvent('ALL_TIME', 'separate');
    t.pubsub.publish('leaderboardUpdated', 'ALL_TIME', event.update);
    const weeklyBarrier = await warmUp([weekly], publishBoard('WEEKLY'), boardMarker);
    const [full, small] = await Promise.all([allTime, slim].map((s) => s.until((r) => r.data?.leaderboardUpdated.computedAt === event.computedAt)));
    // Each group has its own selection; the weekly subscriber heard only weekly events.
    expect(full!.data!.leaderboardUpdated.entries).toHaveLength(2);
    expect(small).toEqual({ data: { leaderboardUpdated: { computedAt: event.computedAt } } });
    expect(weekly.results.map(boardMarker)).not.toContain('separate');
    expect(weekly.results.map(boardMarker)).toContain(weeklyBarrier);
  });

  it('goes on for the others when one subscriber leaves, and releases the listener when all have left', async () => {
    const listenersBefore = openListeners;
    const subs = Array.from({ length: 3 }, () => follow<{ leaderboardUpdated: LeaderboardUpdate }>(connect(), LEADERBOARD, { period: 'ALL_TIME' }));
    await warmUp(subs, publishBoard('ALL_TIME'), boardMarker);
    expect(openListeners).toBe(listenersBefore + 1);

    subs[0]!.stop();
    await vi.waitFor(() => expect(t.app.subscriptions.stats()).toEqual({ groups: 1, subscribers: 2 }));
    const after = leaderboardEvent('ALL_TIME', 'after-one-left');
    t.pubsub.publish('leaderboardUpdated', 'ALL_TIME', after.update);
    await Promise.all(subs.slice(1).map((s) => s.until((r) => r.data?.leaderboardUpdated.computedAt === after.computedAt)));
    expect(subs[0]!.results.map(boardMarker)).not.toContain('after-one-left');

    subs[1]!.stop();
    subs[2]!.stop();
    await vi.waitFor(() => expect(t.app.subscriptions.stats()).toEqual({ groups: 0, subscribers: 0 }));
    await vi.waitFor(() => expect(openListeners).toBe(listenersBefore));
  });

  it('releases the listener when the sockets close without completing', async () => {
    const listenersBefore = openListeners;
    const subs = Array.from({ length: 4 }, () => follow<{ leaderboardUpdated: LeaderboardUpdate }>(connect(), LEADERBOARD, { period: 'WEEKLY' }));
    await warmUp(subs, publishBoard('WEEKLY'), boardMarker);
    expect(openListeners).toBe(listenersBefore + 1);
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await vi.waitFor(() => expect(t.app.subscriptions.stats()).toEqual({ groups: 0, subscribers: 0 }));
    await vi.waitFor(() => expect(openListeners).toBe(listenersBefore));
  });
});

describe('what depends on the viewer', () => {
  /** Publishes caseOpened for fresh probe cases (titled by the marker) until every subscription has one. */
  const warmUpCases = (subs: Follower[]) =>
    warmUp(
      subs,
      async (marker) => t.pubsub.publish('caseOpened', { caseId: (await createCase(t.db, { title: marker })).id }),
      (r) => r.data?.caseOpened?.title,
    );

  it('runs a public subscription again per viewer when its selection reads the viewer', async () => {
    const c = await createCase(t.db, { title: 'Shared but personal' });
    const [alice, bob] = [await createUser(t.db), await createUser(t.db)];
    await t.db.vote.create({ data: { caseId: c.id, userId: alice.id, side: 'A' } });
    await t.db.vote.create({ data: { caseId: c.id, userId: bob.id, side: 'B' } });
    const query = 'subscription { caseOpened { title myVote { side } } }';
    type Shape = { caseOpened: { title: string; myVote: { side: string } | null } };
    const aliceTwice = [follow<Shape>(connect(await tokenOf(alice.id)), query), follow<Shape>(connect(await tokenOf(alice.id)), query)];
    const bobSub = follow<Shape>(connect(await tokenOf(bob.id)), query);
    const anonymous = follow<Shape>(connect(), query);
    const all = [...aliceTwice, bobSub, anonymous];
    await warmUpCases(all);
    expect(t.app.subscriptions.stats()).toEqual({ groups: 1, subscribers: 4 });

    const executions = t.app.subscriptions.executions;
    t.pubsub.publish('caseOpened', { caseId: c.id });
    const [a1, a2, b, anon] = await Promise.all(all.map((s) => s.until((r) => r.data?.caseOpened?.title === 'Shared but personal')));
    // Three viewers (alice, bob, nobody): three executions for four subscribers.
    expect(t.app.subscriptions.executions - executions).toBe(3);
    expect(a1).toEqual({ data: { caseOpened: { title: 'Shared but personal', myVote: { side: 'A' } } } });
    expect(a2).toEqual(a1);
    expect(b).toEqual({ data: { caseOpened: { title: 'Shared but personal', myVote: { side: 'B' } } } });
    expect(anon).toEqual({ data: { caseOpened: { title: 'Shared but personal', myVote: null } } });
  });

  it('shares a case event among signed-in and anonymous subscribers when nothing reads the viewer', async () => {
    const c = await createCase(t.db, { title: 'Everyone sees this' });
    const users = [await createUser(t.db), await createUser(t.db)];
    const query = 'subscription { caseOpened { id title } }';
    type Shape = { caseOpened: { id: string; title: string } };
    const subs = [follow<Shape>(connect(await tokenOf(users[0]!.id)), query), follow<Shape>(connect(await tokenOf(users[1]!.id)), query), follow<Shape>(connect(), query)];
    await warmUpCases(subs);
    const executions = t.app.subscriptions.executions;
    t.pubsub.publish('caseOpened', { caseId: c.id });
    const received = await Promise.all(subs.map((s) => s.until((r) => r.data?.caseOpened?.title === 'Everyone sees this')));
    expect(t.app.subscriptions.executions - executions).toBe(1);
    for (const r of received) expect(r).toEqual({ data: { caseOpened: { id: encodeGlobalID('Case', c.id), title: 'Everyone sees this' } } });
  });

  it('keeps field authorization per viewer inside a public subscription', async () => {
    const author = await createUser(t.db);
    const other = await createUser(t.db);
    const c = await createCase(t.db, { title: 'Argued' });
    await t.db.argument.create({ data: { caseId: c.id, userId: author.id, side: 'A', body: 'An argument long enough to count.' } });
    const query = 'subscription { caseOpened { title arguments(first: 1) { edges { node { author { handle rewards(first: 1) { edges { node { id } } } } } } } } }';
    type Shape = { caseOpened: { title: string; arguments: { edges: { node: { author: { rewards: unknown } } }[] } } };
    const own = follow<Shape>(connect(await tokenOf(author.id)), query);
    const theirs = follow<Shape>(connect(await tokenOf(other.id)), query);
    await warmUpCases([own, theirs]);
    t.pubsub.publish('caseOpened', { caseId: c.id });
    const [mine, notMine] = await Promise.all([own, theirs].map((s) => s.until((r) => r.data?.caseOpened?.title === 'Argued')));
    expect(mine!.errors).toBeUndefined();
    expect(mine!.data!.caseOpened.arguments.edges[0]!.node.author.rewards).toEqual({ edges: [] });
    expect(notMine!.data!.caseOpened.arguments.edges[0]!.node.author.rewards).toBeNull();
    expect(notMine!.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('filters per variables: badgeAwarded for one handle hears only that handle', async () => {
    const award = (handle: string, badgeKey: string) => ({ awardId: `${handle}-${badgeKey}`, userId: handle, handle, badgeKey, awardedAt: '2026-07-07T00:00:00.000Z' });
    const query = 'subscription Mine($h: String) { badgeAwarded(userHandle: $h) { handle badge { key } } }';
    type Shape = { badgeAwarded: { handle: string; badge: { key: string } } };
    const target = follow<Shape>(connect(), query, { h: 'Target' });
    const everyone = follow<Shape>(connect(), query, {});
    // Warm-up awards are all first_win; they are left out below.
    await publishUntilEach([target, everyone], () => t.pubsub.publish('badgeAwarded', award('target', 'first_win')), (r) => r.data?.badgeAwarded.badge.key === 'first_win');
    const seen = [target.results.length, everyone.results.length];
    t.pubsub.publish('badgeAwarded', award('target', 'five_wins'));
    t.pubsub.publish('badgeAwarded', award('someone_else', 'early_adopter'));
    t.pubsub.publish('badgeAwarded', award('target', 'early_adopter'));
    await Promise.all([target, everyone].map((s) => s.until((r) => r.data?.badgeAwarded.handle === 'target' && r.data.badgeAwarded.badge.key === 'early_adopter')));
    const keys = (s: Follower, from: number) => s.results.slice(from).map((r) => `${r.data!.badgeAwarded.handle}/${r.data!.badgeAwarded.badge.key}`).filter((k) => !k.endsWith('/first_win'));
    expect(keys(target, seen[0]!)).toEqual(['target/five_wins', 'target/early_adopter']);
    expect(keys(everyone, seen[1]!)).toEqual(['target/five_wins', 'someone_else/early_adopter', 'target/early_adopter']);
  });
});

describe('private subscriptions', () => {
  it('still run per subscriber: myRewardUpdated goes only to its user, and needs a user', async () => {
    const WALLET = `0x${'11'.repeat(20)}`;
    const [alice, bob] = [await createUser(t.db), await createUser(t.db)];
    const c = await createCase(t.db, { status: 'CLOSED' });
    const rewardOf = (userId: string, amount: number) => t.db.reward.create({ data: { userId, caseId: c.id, kind: 'PARTICIPATION', amount, payoutAddress: WALLET } });
    const [aliceReward, bobReward] = [await rewardOf(alice.id, 11), await rewardOf(bob.id, 22)];
    const other = await createCase(t.db, { status: 'CLOSED' });
    const rewardOf2 = (userId: string, amount: number) => t.db.reward.create({ data: { userId, caseId: other.id, kind: 'PARTICIPATION', amount, payoutAddress: WALLET } });
    const query = 'subscription { myRewardUpdated { amount } }';
    type Shape = { myRewardUpdated: { amount: number } };
    const aliceSub = follow<Shape>(connect(await tokenOf(alice.id)), query);
    const bobSub = follow<Shape>(connect(await tokenOf(bob.id)), query);
    const anonymous = follow<Shape>(connect(), query);
    const executions = t.app.subscriptions.executions;

    await publishUntilEach([aliceSub], () => t.pubsub.publish('rewardUpdated', alice.id, { rewardId: aliceReward.id }), (r) => r.data?.myRewardUpdated.amount === 11);
    await publishUntilEach([bobSub], () => t.pubsub.publish('rewardUpdated', bob.id, { rewardId: bobReward.id }), (r) => r.data?.myRewardUpdated.amount === 22);
    // Both listen now. Alice's next reward is announced before bob's: had bob heard it, it would come first.
    const [aliceLater, bobLater] = [await rewardOf2(alice.id, 33), await rewardOf2(bob.id, 44)];
    t.pubsub.publish('rewardUpdated', alice.id, { rewardId: aliceLater.id });
    t.pubsub.publish('rewardUpdated', bob.id, { rewardId: bobLater.id });
    await aliceSub.until((r) => r.data?.myRewardUpdated.amount === 33);
    await bobSub.until((r) => r.data?.myRewardUpdated.amount === 44);
    expect(new Set(aliceSub.results.map((r) => r.data?.myRewardUpdated.amount))).toEqual(new Set([11, 33]));
    expect(new Set(bobSub.results.map((r) => r.data?.myRewardUpdated.amount))).toEqual(new Set([22, 44]));
    // Not shared: no group, no shared execution.
    expect(t.app.subscriptions.stats()).toEqual({ groups: 0, subscribers: 0 });
    expect(t.app.subscriptions.executions).toBe(executions);

    const refused = await anonymous.until(() => true);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('memory after a wave of disconnections', () => {
  it('collects garbage once enough connections closed and none closed for a while', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    const lines: { closed: number; heapUsedMb: number[] }[] = [];
    let logLine = () => {};
    const logged = new Promise<void>((resolve) => (logLine = resolve));
    const log = pino({ level: 'info' }, { write: (line: string) => (lines.push(JSON.parse(line)), logLine()) });
    const stop = collectAfterDisconnects(wss, log, { minClosed: 3, quietMs: 20 });
    try {
      const port = (wss.address() as { port: number }).port;
      const sockets = await Promise.all(
        [1, 2, 3].map(() => new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}`);
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        })),
      );
      for (const ws of sockets) ws.close();
      await logged;
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ closed: 3, msg: 'collected the garbage of closed WebSocket connections' });
    } finally {
      stop();
      await new Promise((resolve) => wss.close(resolve));
    }
  });
});
