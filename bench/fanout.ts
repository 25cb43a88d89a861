// Subscription fan-out: one `leaderboardUpdated` event to N graphql-ws clients (issue #9).
//
// The server runs in a child process (bench/support/server.ts), a fresh one per size, with Redis;
// the clients live in two more child processes (bench/support/fanout-clients.ts) and speak
// graphql-transport-ws over raw `ws`. Every client subscribes to the same operation; warm-up
// events are published until one reached every client (graphql-ws acknowledges connections, not
// subscriptions); then each measured event is published straight into Redis, on the channel the
// server's redis event target listens to, with 100 entries and `computedAt` = the publish time.
// Latency = receive time in the client − publish time; p99 reported = median over the events.
// RSS: before the clients, with them connected (after the events), and the lowest within 60 s
// after they all closed.
//
//   node --import tsx bench/fanout.ts                         # PGlite in the server's data dir
//   BENCH_DATABASE_URL=postgresql://…/verdict_fanout node --import tsx bench/fanout.ts
//   FANOUT_SIZES=2000,10000 FANOUT_EVENTS=5 FANOUT_REDIS_URL=redis://127.0.0.1:6379
//   FANOUT_PROFILE_DIR=/tmp/p   # also: the server's CPU profile of the measured events and its
//                               # memory (process.memoryUsage) along the way, through --inspect
//   FANOUT_HEAP_SNAPSHOTS=1     # with FANOUT_PROFILE_DIR: heap snapshots before, connected, after
//                               # (each after a forced GC; they inflate the RSS figures)
//   FANOUT_GC_AFTER=1           # with FANOUT_PROFILE_DIR: one forced GC as the clients leave, to
//                               # tell garbage not yet collected from memory still held
//
// Redis pub/sub is global: while this runs, other servers on the same Redis hear these events.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { ClientCommand, ClientReply } from './support/fanout-clients.js';
import { connectInspector, heapSnapshot, selfTimes, selfTimesByArea, type CpuProfile, type Inspector } from './support/inspector.js';
import { startServer, type ServerProcess } from './support/server.js';

export interface FanoutResult {
  'c2000.p99_ms': number;
  'c10000.p99_ms': number;
  'c10000.rss_mb_connected': number;
  'c10000.rss_mb_after': number;
  rss_mb_before: number;
}

export const FANOUT_QUERY = 'subscription { leaderboardUpdated(period: ALL_TIME) { computedAt entries { rank handle points } } }';
/** The server's pubsub topic `leaderboardUpdated` with id ALL_TIME (createPubSub joins them with ':'). */
// The server's channel: its REDIS_PREFIX (default 'verdict:'), then events:, then the topic and its id.
const CHANNEL = 'verdict:events:leaderboardUpdated:ALL_TIME';
const WORKERS = 2;
const EVENTS = Math.max(3, Number(process.env.FANOUT_EVENTS ?? 5));
const AFTER_SECONDS = Number(process.env.FANOUT_AFTER_SECONDS ?? 60);
const EVENT_TIMEOUT_MS = 60_000;

const now = () => performance.timeOrigin + performance.now();
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
const median = (values: number[]) => quantile([...values].sort((a, b) => a - b), 0.5);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 100 realistic leaderboard entries, as the leaderboard job publishes them. */
const entries = Array.from({ length: 100 }, (_, i) => ({
  rank: i + 1,
  points: 250_000 - i * 1_337,
  userId: randomUUID(),
  handle: `player_${(i * 7919 + 12345).toString(36)}_${i}`,
}));

/** The clients, spread over child processes; each command goes to every one. */
class Clients {
  private readonly workers: ChildProcess[];
  private waiters: { match: (r: ClientReply) => boolean; replies: ClientReply[]; resolve: (r: ClientReply[]) => void }[] = [];

  constructor() {
    this.workers = Array.from({ length: WORKERS }, (_, index) => {
      const worker = fork(new URL('./support/fanout-clients.ts', import.meta.url), {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, FANOUT_CLIENT_INDEX: String(index) },
      });
      worker.on('message', (reply: ClientReply) => {
        for (const w of this.waiters) {
          if (w.match(reply)) {
            w.replies.push(reply);
            if (w.replies.length === WORKERS) {
              this.waiters = this.waiters.filter((x) => x !== w);
              w.resolve(w.replies);
            }
            return;
          }
        }
      });
      worker.on('exit', (code) => {
        if (code !== 0 && code !== null) console.error(`client process ${index} exited with ${code}`);
      });
      return worker;
    });
  }

  /** Sends a command to every worker; resolves with one matching reply per worker. */
  ask(command: (i: number) => ClientCommand, match: (r: ClientReply) => boolean, timeoutMs = 600_000): Promise<ClientReply[]> {
    return new Promise((resolve, reject) => {
      const waiter = { match, replies: [] as ClientReply[], resolve: (r: ClientReply[]) => (clearTimeout(timer), resolve(r)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== waiter);
        reject(new Error('client workers did not answer in time'));
      }, timeoutMs);
      this.waiters.push(waiter);
      this.workers.forEach((w, i) => w.send(command(i)));
    });
  }

  async open(count: number, url: string): Promise<void> {
    const replies = await this.ask(
      (i) => ({ type: 'open', count: Math.floor(count / WORKERS) + (i < count % WORKERS ? 1 : 0), url, query: FANOUT_QUERY, concurrency: 50 }),
      (r) => r.type === 'opened',
    );
    const failed = replies.reduce((n, r) => n + (r.type === 'opened' ? r.failed : 0), 0);
    if (failed > 0) throw new Error(`${failed} of ${count} clients could not connect`);
  }

  /** Resolves true once every client has the event with this `computedAt`, false after timeoutMs. */
  async allReceived(marker: string, timeoutMs: number): Promise<boolean> {
    return this.ask(() => ({ type: 'expect', marker }), (r) => r.type === 'progress' && r.marker === marker, timeoutMs).then(
      () => true,
      () => false,
    );
  }

  async collect(marker: string): Promise<{ times: number[]; errors: number }> {
    const replies = await this.ask(() => ({ type: 'collect', marker }), (r) => r.type === 'collected' && r.marker === marker);
    const times: number[] = [];
    let errors = 0;
    for (const r of replies) if (r.type === 'collected') (times.push(...r.times), (errors += r.errors));
    return { times, errors };
  }

  async closeAll(): Promise<void> {
    await this.ask(() => ({ type: 'close' }), (r) => r.type === 'closed');
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map((w) => (w.exitCode !== null ? null : new Promise((resolve) => (w.once('exit', resolve), w.kill())))),
    );
  }
}

/** A `computedAt` not used before (the clients tell events apart by it). */
let lastStamp = 0;
function stamp(): { at: number; iso: string } {
  const at = Math.max(Math.ceil(now()), lastStamp + 1);
  lastStamp = at;
  return { at, iso: new Date(at).toISOString() };
}

async function publish(redis: Redis, iso: string) {
  await redis.publish(CHANNEL, JSON.stringify({ period: 'ALL_TIME', computedAt: iso, entries }));
}

/** RSS once it settled: two readings a second apart within 2 % (at most 20 s). */
async function settledRss(server: ServerProcess): Promise<number> {
  let previous = server.rssMb();
  for (let i = 0; i < 20; i++) {
    await sleep(1000);
    const current = server.rssMb();
    if (Math.abs(current - previous) / previous < 0.02) return current;
    previous = current;
  }
  return previous;
}

interface SizeResult {
  clients: number;
  p50: number[];
  p99: number[];
  max: number[];
  rssBefore: number;
  rssConnected: number;
  rssAfter: number;
  rssAfterAtSecond: number;
}

const PROFILE_DIR = process.env.FANOUT_PROFILE_DIR;

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)}`;

/** With FANOUT_PROFILE_DIR: the server's process.memoryUsage(), without forcing a GC. */
async function memoryUsage(inspector: Inspector | null, label: string, log: (line: string) => void) {
  if (!inspector) return;
  const { result } = await inspector.send<{ result: { value: string } }>('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
  const m = JSON.parse(result.value) as NodeJS.MemoryUsage;
  log(`    [${label}] rss ${mb(m.rss)} MB, heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} MB, external ${mb(m.external)} MB, array buffers ${mb(m.arrayBuffers)} MB`);
  // V8's spaces, size/used: which one keeps memory committed after the clients left.
  const spaces = await inspector.send<{ result: { value: string } }>('Runtime.evaluate', {
    expression: "JSON.stringify(require('node:v8').getHeapSpaceStatistics().filter((s) => s.space_size > 0).map((s) => [s.space_name, s.space_size, s.space_used_size]))",
    includeCommandLineAPI: true,
    returnByValue: true,
  });
  const bySpace = JSON.parse(spaces.result.value) as [string, number, number][];
  log(`    [${label}] V8 spaces (size/used MB): ${bySpace.map(([name, size, used]) => `${name.replace(/_space$/, '')} ${mb(size)}/${mb(used)}`).join(', ')}`);
}

/** With FANOUT_HEAP_SNAPSHOTS too: a GC, the heap after it, and a heap snapshot, named `label`. */
async function inspectHeap(inspector: Inspector | null, server: ServerProcess, label: string, log: (line: string) => void) {
  if (!inspector || !process.env.FANOUT_HEAP_SNAPSHOTS) return;
  await inspector.send('HeapProfiler.collectGarbage');
  const heap = await inspector.send<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage');
  log(`    [${label}] after a GC: heap used ${(heap.usedSize / 2 ** 20).toFixed(0)} MB of ${(heap.totalSize / 2 ** 20).toFixed(0)} MB, RSS ${server.rssMb().toFixed(0)} MB`);
  await heapSnapshot(inspector, path.join(PROFILE_DIR!, `${label}.heapsnapshot`));
}

async function runSize(clientsCount: number, serverEnv: Record<string, string>, redisUrl: string, log: (line: string) => void): Promise<SizeResult> {
  const inspectPort = 9500 + Math.floor(Math.random() * 400);
  const server = await startServer({
    JOB_CASE_GENERATION: 'off',
    JOB_CASE_CLOSURE: 'off',
    JOB_TX_MONITOR: 'off',
    JOB_VERDICT_CHECK: 'off',
    JOB_LEADERBOARD: 'off',
    JOB_BADGES: 'off',
    ...serverEnv,
    ...(PROFILE_DIR ? { NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPort}` } : {}),
    REDIS_URL: redisUrl,
  });
  const redis = new Redis(redisUrl);
  const clients = new Clients();
  let inspector: Inspector | null = null;
  try {
    if (PROFILE_DIR) {
      fs.mkdirSync(PROFILE_DIR, { recursive: true });
      inspector = await connectInspector(inspectPort);
    }
    const rssBefore = await settledRss(server);
    await memoryUsage(inspector, 'before', log);
    await inspectHeap(inspector, server, `c${clientsCount}-before`, log);
    log(`  ${clientsCount} clients: server RSS before ${rssBefore.toFixed(0)} MB; connecting…`);
    const connectStarted = now();
    await clients.open(clientsCount, `${server.origin.replace('http', 'ws')}/graphql`);
    log(`  connected in ${((now() - connectStarted) / 1000).toFixed(1)} s; warming up…`);

    // Warm-up: until one event reached every client, so every subscription is in place.
    let warm = false;
    for (let i = 0; i < 60 && !warm; i++) {
      const { iso } = stamp();
      const done = clients.allReceived(iso, 10_000);
      await publish(redis, iso);
      warm = await done;
      await clients.collect(iso);
    }
    if (!warm) throw new Error('warm-up: some clients never received an event');

    const result: SizeResult = { clients: clientsCount, p50: [], p99: [], max: [], rssBefore, rssConnected: 0, rssAfter: 0, rssAfterAtSecond: 0 };
    if (inspector) {
      await inspector.send('Profiler.enable');
      await inspector.send('Profiler.setSamplingInterval', { interval: 200 });
      await inspector.send('Profiler.start');
    }
    for (let e = 0; e < EVENTS; e++) {
      await sleep(1000);
      const { iso } = stamp();
      const done = clients.allReceived(iso, EVENT_TIMEOUT_MS);
      // The publish time is taken as late as possible: just before the command leaves for Redis.
      const publishedAt = now();
      await publish(redis, iso);
      if (!(await done)) throw new Error(`event ${e}: not every client received it within ${EVENT_TIMEOUT_MS} ms`);
      const { times, errors } = await clients.collect(iso);
      if (errors > 0) throw new Error(`${errors} error frames received`);
      const latencies = times.map((t) => t - publishedAt).sort((a, b) => a - b);
      result.p50.push(quantile(latencies, 0.5));
      result.p99.push(quantile(latencies, 0.99));
      result.max.push(latencies.at(-1)!);
      log(`    event ${e + 1}: p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms (${latencies.length} clients)`);
    }
    result.rssConnected = server.rssMb();
    log(`  RSS with ${clientsCount} connected: ${result.rssConnected.toFixed(0)} MB; disconnecting…`);
    await memoryUsage(inspector, 'connected', log);
    if (inspector) {
      const { profile } = await inspector.send<{ profile: CpuProfile }>('Profiler.stop');
      fs.writeFileSync(path.join(PROFILE_DIR!, `c${clientsCount}-events.cpuprofile`), JSON.stringify(profile));
      const total = (profile.endTime - profile.startTime) / 1000;
      log(`    server CPU profile of the ${EVENTS} events (${total.toFixed(0)} ms sampled), self time by area:`);
      for (const { area, ms } of selfTimesByArea(profile).slice(0, 16)) log(`      ${ms.toFixed(0).padStart(7)} ms  ${area}`);
      log(`    self time by function:`);
      for (const { fn, ms } of selfTimes(profile, 30)) log(`      ${ms.toFixed(0).padStart(7)} ms  ${fn}`);
      await inspectHeap(inspector, server, `c${clientsCount}-connected`, log);
    }
    await clients.closeAll();
    const closedAt = now();
    if (inspector && process.env.FANOUT_GC_AFTER) await inspector.send('HeapProfiler.collectGarbage');
    result.rssAfter = server.rssMb();
    for (let s = 1; s <= AFTER_SECONDS; s++) {
      await sleep(Math.max(0, closedAt + s * 1000 - now()));
      const rss = server.rssMb();
      if (rss < result.rssAfter) (result.rssAfter = rss), (result.rssAfterAtSecond = s);
      if (s % 10 === 0) await memoryUsage(inspector, `${s} s after`, log);
    }
    log(`  RSS after they left: min ${result.rssAfter.toFixed(0)} MB within ${AFTER_SECONDS} s (reached at ${result.rssAfterAtSecond} s)`);
    await inspectHeap(inspector, server, `c${clientsCount}-after`, log);
    return result;
  } finally {
    inspector?.close();
    await clients.stop();
    redis.disconnect();
    await server.stop();
  }
}

/** The fan-out benchmark: 2,000 and 10,000 clients, each on a fresh server. */
export async function benchFanout(serverEnv: Record<string, string>, log: (line: string) => void = console.log): Promise<FanoutResult> {
  const redisUrl = process.env.FANOUT_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const sizes = (process.env.FANOUT_SIZES ?? '2000,10000').split(',').map(Number);
  const results = new Map<number, SizeResult>();
  for (const size of sizes) {
    log(`fan-out to ${size} graphql-ws clients (${EVENTS} events):`);
    results.set(size, await runSize(size, serverEnv, redisUrl, log));
  }
  const of = (size: number) => results.get(size);
  const big = of(10_000);
  for (const r of results.values()) {
    log(
      `c${r.clients}: p50 ${median(r.p50).toFixed(0)} ms, p99 ${median(r.p99).toFixed(0)} ms (median of ${r.p99.length}), ` +
        `RSS before ${r.rssBefore.toFixed(0)} MB, connected ${r.rssConnected.toFixed(0)} MB, after ${r.rssAfter.toFixed(0)} MB`,
    );
  }
  return {
    'c2000.p99_ms': of(2000) ? median(of(2000)!.p99) : NaN,
    'c10000.p99_ms': big ? median(big.p99) : NaN,
    'c10000.rss_mb_connected': big?.rssConnected ?? NaN,
    'c10000.rss_mb_after': big?.rssAfter ?? NaN,
    rss_mb_before: big?.rssBefore ?? of(2000)?.rssBefore ?? NaN,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.BENCH_DATABASE_URL;
  const result = await benchFanout(url ? { DATABASE_URL: url } : {});
  console.log(JSON.stringify(result, null, 2));
}
