import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { JOB_ENV } from '../../src/jobs/scheduler.js';
import { redisUrl as configuredRedisUrl } from '../support/env.js';
import { chainProblems, delivery, expectedItems, jobRuns, jobTable, overlaps, pointsProblems, stuckDiagnosis, type Delivery } from './soak-support/checks.js';
import { Stats, Subscriber, uuidOf, type Endpoint } from './soak-support/client.js';
import {
  createSoakDatabase,
  isExpectedPlainLine,
  rssKb,
  spawnServer,
  startSoakChain,
  stopServer,
  waitFor,
  waitReady,
  type ServerProcess,
  type SoakChain,
  type SoakDatabase,
} from './soak-support/cluster.js';
import { Load } from './soak-support/load.js';

// A bounded soak: three real server processes (`node --import tsx src/main.ts`) on one
// PostgreSQL database, one Redis, one session secret and one chain key (one Ganache in this
// process, contracts deployed once and passed as CHAIN_REGISTRY_ADDRESS / CHAIN_TOKEN_ADDRESS),
// every job of the scheduler on a seconds schedule and cases open for 40 s, under a mixed load
// spread over the three for SOAK_SECONDS (default 120). Afterwards, from the servers' logs, the
// database and the chain: no unexpected answer or error log line, no job overlapping itself,
// every event delivered exactly once to every subscriber on every server (each event is matched
// to the job run that produced it, see soak-support/checks.ts), flat memory, points conserved,
// every payout on chain once and no transaction left on file that the node never received.
// Everything is measured first and asserted at the end, after the report is printed.

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
const WARMUP_SECONDS = Math.max(5, Math.min(20, Math.round(SOAK_SECONDS / 6)));
const SERVER_COUNT = 3;
const USERS = 24;
const WALLET_USERS = 6;
const WORKERS = 6;
const MUTATION_LIMIT = 120;
const BURST = MUTATION_LIMIT + 10;
const RSS_GROWTH_LIMIT = 1.5;
const CASE_SECONDS = 40;
/** Every job of the scheduler on a seconds schedule: these, and any other every 10 s. */
const SHORT_SCHEDULES: Record<string, string> = {
  JOB_CASE_GENERATION: '*/12 * * * * *',
  JOB_CASE_CLOSURE: '*/4 * * * * *',
  JOB_TX_MONITOR: '*/3 * * * * *',
  JOB_VERDICT_CHECK: '*/10 * * * * *',
  JOB_LEADERBOARD: '*/5 * * * * *',
  JOB_BADGES: '*/7 * * * * *',
  JOB_NOTIFICATIONS: '*/5 * * * * *',
  JOB_CLEANUP: '*/15 * * * * *',
};
const SCHEDULES = Object.fromEntries(Object.values(JOB_ENV).map((variable) => [variable, SHORT_SCHEDULES[variable] ?? '*/10 * * * * *']));

const postgresUrl = process.env.TEST_DATABASE_URL!;
const redisUrl = configuredRedisUrl ?? 'redis://127.0.0.1:6379';

const SUB = {
  leaderboardAll: 'subscription LbAll { leaderboardUpdated(period: ALL_TIME) { period computedAt entries { rank handle points } } }',
  leaderboardDaily: 'subscription LbDaily { leaderboardUpdated(period: DAILY) { period computedAt } }',
  leaderboardWeekly: 'subscription LbWeekly { leaderboardUpdated(period: WEEKLY) { period computedAt } }',
  caseOpened: 'subscription Opened { caseOpened { id title status closesAt } }',
  caseClosed: 'subscription Closed { caseClosed { id status ruling { side } settlement { pool paid treasury } } }',
  badgeAwarded: 'subscription Badges { badgeAwarded { handle awardedAt badge { key } } }',
  jobCompleted: 'subscription Jobs { jobCompleted { id job status } }',
  myRewards: 'subscription Rewards { myRewardUpdated { kind amount status } }',
  notifications: 'subscription Notes { notificationAdded { id kind } }',
  invalid: 'subscription Bad { leaderboardUpdated(period: NOT_A_PERIOD) { period } }',
};

const fmt = (rows: Record<string, unknown>[]) => {
  if (rows.length === 0) return '  (none)';
  const keys = Object.keys(rows[0]!);
  const width = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k] ?? '').length)));
  const line = (values: string[]) => `  ${values.map((v, i) => v.padEnd(width[i]!)).join('  ')}`;
  return [line(keys), ...rows.map((r) => line(keys.map((k) => String(r[k] ?? ''))))].join('\n');
};

describe(`soak: ${SERVER_COUNT} servers, one PostgreSQL, one Redis, one chain key, ${SOAK_SECONDS} s of mixed load`, () => {
  let database: SoakDatabase | undefined;
  let chain: SoakChain | undefined;
  let db: pg.Client | undefined;
  const servers: ServerProcess[] = [];
  const subscribers: Subscriber[] = [];
  const redisPrefix = `verdict_soak_${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
    const started = Date.now();
    [database, chain] = await Promise.all([createSoakDatabase(postgresUrl, inject('pgTemplateDatabase')), startSoakChain()]);
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: redisPrefix,
      SESSION_SECRET: randomBytes(24).toString('hex'),
      CHAIN_RPC_URL: chain.rpcUrl,
      CHAIN_PRIVATE_KEY: chain.ownerKey,
      CHAIN_REGISTRY_ADDRESS: chain.registry,
      CHAIN_TOKEN_ADDRESS: chain.token,
      LOG_LEVEL: 'info',
      ADMIN_HANDLES: 'soak_admin',
      CASE_DURATION_HOURS: String(CASE_SECONDS / 3600),
      RATE_LIMIT_MUTATIONS_PER_MINUTE: String(MUTATION_LIMIT),
      RATE_LIMIT_SIGN_IN_PER_MINUTE: '100000',
      // cleanup archives the votes of cases closed a minute ago, while the load reads them.
      ARCHIVE_AFTER_DAYS: String(60 / 86_400),
      ...SCHEDULES,
    };
    const spawned = await Promise.allSettled(Array.from({ length: SERVER_COUNT }, (_, i) => spawnServer(`s${i + 1}`, env)));
    for (const s of spawned) if (s.status === 'fulfilled') servers.push(s.value);
    for (const s of spawned) if (s.status === 'rejected') throw s.reason;
    await Promise.all(servers.map((s) => waitReady(s, 90_000)));
    console.log(`soak: ${SERVER_COUNT} servers ready in ${Date.now() - started} ms (database ${database.name}, Redis prefix ${redisPrefix}, chain ${chain.rpcUrl})`);
  }, 150_000);

  afterAll(async () => {
    await Promise.allSettled(subscribers.map((s) => s.close()));
    await Promise.allSettled(servers.map((s) => stopServer(s, 12_000)));
    await db?.end().catch(() => undefined);
    await chain?.stop().catch(() => undefined);
    await database?.drop();
    for (const s of servers) fs.rmSync(s.dataDir, { recursive: true, force: true });
  }, 60_000);

  it('serves a mixed load without an error, a job overlap, a lost or repeated event, memory growth or a lost point', async () => {
    const soakStarted = Date.now();
    const failures: string[] = [];
    const stats = new Stats();
    const endpoints: Endpoint[] = servers.map((s) => ({ name: s.name, http: s.http, ws: s.ws }));
    const load = new Load({ servers: endpoints, stats, signer: chain!.owner, mutationLimit: MUTATION_LIMIT });

    // ---- users (spread over the servers), wallets, subscribers on every server ----
    const admin = (await load.signUp('soak_admin'))!;
    const spammer = (await load.signUp('soak_spammer'))!;
    for (let i = 0; i < USERS; i += 6) {
      const batch = await Promise.all(Array.from({ length: Math.min(6, USERS - i) }, (_, j) => load.signUp(`soak_user_${i + j}`)));
      for (const u of batch) if (u) load.users.push(u);
    }
    expect(load.users.length, 'every sign-up worked').toBe(USERS);
    for (const u of load.users.slice(0, WALLET_USERS)) await load.connectWallet(u);
    const walletUsers = load.users.filter((u) => u.wallet);
    expect(walletUsers.length, 'every wallet connected').toBe(WALLET_USERS);

    const publicSubs: Subscriber[] = [];
    const adminSubs: Subscriber[] = [];
    const rewardSubs: Subscriber[] = [];
    servers.forEach((server, i) => {
      const endpoint = endpoints[i]!;
      for (const n of [1, 2]) {
        // Two anonymous subscribers with the same documents on each server: one shared group each.
        const sub = new Subscriber(`${server.name}/public${n}`, endpoint);
        sub.subscribe('leaderboardAll', SUB.leaderboardAll);
        sub.subscribe('leaderboardDaily', SUB.leaderboardDaily);
        sub.subscribe('caseOpened', SUB.caseOpened);
        sub.subscribe('caseClosed', SUB.caseClosed);
        sub.subscribe('badgeAwarded', SUB.badgeAwarded);
        if (n === 1) sub.subscribe('invalid', SUB.invalid, {}, 'GRAPHQL_VALIDATION_FAILED');
        publicSubs.push(sub);
      }
      const adminSub = new Subscriber(`${server.name}/admin`, endpoint, admin.token);
      adminSub.subscribe('jobCompleted', SUB.jobCompleted);
      adminSub.subscribe('leaderboardWeekly', SUB.leaderboardWeekly);
      adminSubs.push(adminSub);
      const rewardSub = new Subscriber(`${server.name}/rewards`, endpoint, walletUsers[i]!.token);
      rewardSub.subscribe('myRewards', SUB.myRewards);
      rewardSub.subscribe('notifications', SUB.notifications);
      rewardSubs.push(rewardSub);
    });
    subscribers.push(...publicSubs, ...adminSubs, ...rewardSubs);
    const walletUserIds = walletUsers.slice(0, SERVER_COUNT).map((u) => uuidOf(u.gid, 'User'));
    // Subscriptions start asynchronously: each is listening once it heard its first job event.
    await waitFor(
      'every subscriber to hear a first event',
      () => publicSubs.every((s) => s.count('leaderboardAll') > 0 && s.count('leaderboardDaily') > 0) && adminSubs.every((s) => s.count('jobCompleted') > 0 && s.count('leaderboardWeekly') > 0),
      30_000,
    );
    const from = Date.now() + 2_000; // items produced from here on must reach everyone
    console.log(`soak: ${load.users.length + 2} users, ${walletUsers.length} wallets, ${subscribers.length} WebSocket subscribers listening after ${Date.now() - soakStarted} ms`);

    // ---- the load ----
    const loadStarted = Date.now();
    const deadline = loadStarted + SOAK_SECONDS * 1000;
    const rssSamples: { at: number; rss: number[] }[] = [];
    const sampleRss = () => rssSamples.push({ at: Date.now() - loadStarted, rss: servers.map((s) => rssKb(s.pid)) });
    sampleRss();
    const sampler = setInterval(sampleRss, 5_000);
    let rssStart: number[] = [];
    const warm = setTimeout(() => {
      rssStart = servers.map((s) => rssKb(s.pid));
    }, WARMUP_SECONDS * 1000);

    const signUps = { next: 0 };
    const workers = Array.from({ length: WORKERS }, (_, w) => load.worker(load.users.filter((_, j) => j % WORKERS === w), deadline, 20, signUps));
    const adminLoop = (async () => {
      while (Date.now() < deadline - 8_000) {
        await load.admin(admin);
        await new Promise((resolve) => setTimeout(resolve, 8_000)); // pacing: a manual run every 8 s
      }
    })();
    // The burst goes once past the middle of the soak, early in a rate-limit window (so it fits in one).
    const burst = (async () => {
      await waitFor('the middle of the soak', () => Date.now() > loadStarted + (SOAK_SECONDS * 1000) / 3, SOAK_SECONDS * 1000, 250);
      const fits = await waitFor('the start of a rate-limit window', () => Date.now() % 60_000 < 45_000 || Date.now() > deadline - 10_000, 20_000, 100);
      return fits && Date.now() < deadline - 10_000 ? load.rateLimitBurst(spammer, BURST) : null;
    })();
    await Promise.all([...workers, adminLoop]);
    const burstResult = await burst;
    clearTimeout(warm);
    clearInterval(sampler);
    const rssEnd = servers.map((s) => rssKb(s.pid));
    if (rssStart.length === 0) rssStart = rssSamples[0]!.rss;
    const loadEnded = Date.now();

    // ---- drain: the payouts of every reward made during the load are mined and confirmed ----
    const drained = await waitFor(
      'the payouts of the load to settle',
      async () => {
        const { rows } = await db!.query<{ open: string }>(
          `SELECT count(*) AS open FROM rewards r JOIN users u ON u.id = r.user_id
           WHERE u.wallet_address IS NOT NULL AND r.created_at <= $1 AND r.status <> 'COMPLETED'`,
          [new Date(loadEnded)],
        );
        return Number(rows[0]!.open) === 0;
      },
      45_000,
      500,
    ).then(
      () => true,
      () => false,
    );
    if (!drained) failures.push('payouts of rewards made during the load did not all complete within 45 s of its end');
    const stuck = await stuckDiagnosis(db!, chain!.provider, chain!.owner, 30_000, chain!.watch.waiting(5_000));
    if (stuck) failures.push(`job runs RUNNING for over 30 s at the end of the load:\n  ${stuck}`);

    // ---- the end of the delivery window: everything produced by then must have arrived ----
    const to = Date.now();
    await waitFor(
      'a leaderboard run after the window, and every required event',
      async () => {
        const runs = await jobRuns(db!);
        if (!runs.some((r) => r.job === 'leaderboard' && r.finished_at && r.started_at.getTime() > to)) return false;
        const items = await expectedItems(db!, runs);
        const complete = (sub: Subscriber, key: string, topic: { items: Map<string, { start: number; end: number; key: string }>; keyOf: (d: Record<string, unknown>) => string }) =>
          delivery(sub.events.get(key) ?? [], topic.items, topic.keyOf, from, to).missing.length === 0;
        return (
          publicSubs.every(
            (s) =>
              complete(s, 'leaderboardAll', items.leaderboard) &&
              complete(s, 'leaderboardDaily', items.leaderboard) &&
              complete(s, 'caseOpened', items.caseOpened) &&
              complete(s, 'caseClosed', items.caseClosed) &&
              complete(s, 'badgeAwarded', items.badgeAwarded),
          ) &&
          adminSubs.every((s) => complete(s, 'jobCompleted', items.jobCompleted) && complete(s, 'leaderboardWeekly', items.leaderboard)) &&
          rewardSubs.every((s, i) => complete(s, 'notifications', items.notificationsOf(walletUserIds[i]!)))
        );
      },
      20_000,
      300,
    ).catch((error: Error) => failures.push(error.message));
    await Promise.all(subscribers.map((s) => s.close()));

    // ---- stop the servers cleanly, then read what they left ----
    const stoppedAt = Date.now();
    const exits = await Promise.all(servers.map((s) => stopServer(s, 15_000)));
    exits.forEach((exit, i) => {
      if (exit.code !== 0) failures.push(`${servers[i]!.name} exited with ${exit.code ?? exit.signal} on SIGTERM`);
    });

    const runs = await jobRuns(db!);
    const holderNames = new Map<string, string>();
    for (const r of runs) {
      const pid = Number(r.holder?.split(':')[1]);
      const server = servers.find((s) => s.pid === pid);
      if (r.holder && server) holderNames.set(r.holder, server.name);
    }
    for (const problem of overlaps(runs)) failures.push(`job overlap: ${problem}`);
    for (const r of runs) {
      if (r.status !== 'SUCCEEDED') failures.push(`job run ${r.job} ${r.id} on ${holderNames.get(r.holder ?? '') ?? r.holder}: ${r.status} ${r.error ?? ''}`);
    }

    // Errors a run met and left for its next run (counted in `failures`, recorded in its summary).
    const runErrors = new Map<string, number>();
    for (const r of runs) {
      const summary = (r.result ?? {}) as Record<string, unknown>;
      const nested = [summary, summary.commitments, summary.reveals].flatMap((part) => {
        const errors = (part as { errors?: unknown } | undefined)?.errors;
        return Array.isArray(errors) ? (errors as string[]) : [];
      });
      if (typeof summary.sendError === 'string') nested.push(`sendError: ${summary.sendError}`);
      for (const e of nested) {
        const key = `${r.job}: ${e.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<case>').replace(/0x[0-9a-f]{64}/gi, '<hash>').slice(0, 200)}`;
        runErrors.set(key, (runErrors.get(key) ?? 0) + 1);
      }
    }

    const items = await expectedItems(db!, runs);
    for (const award of items.unplacedAwards) failures.push(`badge award outside every badges run: ${award}`);
    const deliveries: { subscriber: string; topic: string; d: Delivery }[] = [];
    for (const s of publicSubs) {
      deliveries.push({ subscriber: s.name, topic: 'leaderboardUpdated(ALL_TIME)', d: delivery(s.events.get('leaderboardAll')!, items.leaderboard.items, items.leaderboard.keyOf, from, to) });
      deliveries.push({ subscriber: s.name, topic: 'leaderboardUpdated(DAILY)', d: delivery(s.events.get('leaderboardDaily')!, items.leaderboard.items, items.leaderboard.keyOf, from, to) });
      deliveries.push({ subscriber: s.name, topic: 'caseOpened', d: delivery(s.events.get('caseOpened')!, items.caseOpened.items, items.caseOpened.keyOf, from, to) });
      deliveries.push({ subscriber: s.name, topic: 'caseClosed', d: delivery(s.events.get('caseClosed')!, items.caseClosed.items, items.caseClosed.keyOf, from, to) });
      deliveries.push({ subscriber: s.name, topic: 'badgeAwarded', d: delivery(s.events.get('badgeAwarded')!, items.badgeAwarded.items, items.badgeAwarded.keyOf, from, to) });
      const invalid = s.expectedErrors.get('invalid');
      if (invalid && (invalid.length !== 1 || invalid[0] !== 'GRAPHQL_VALIDATION_FAILED')) failures.push(`${s.name}: the invalid subscription answered ${JSON.stringify(invalid)}`);
    }
    rewardSubs.forEach((s, i) => {
      const notes = items.notificationsOf(walletUserIds[i]!);
      deliveries.push({ subscriber: s.name, topic: 'notificationAdded', d: delivery(s.events.get('notifications')!, notes.items, notes.keyOf, from, to) });
    });
    for (const s of adminSubs) {
      deliveries.push({ subscriber: s.name, topic: 'jobCompleted', d: delivery(s.events.get('jobCompleted')!, items.jobCompleted.items, items.jobCompleted.keyOf, from, to) });
      deliveries.push({ subscriber: s.name, topic: 'leaderboardUpdated(WEEKLY)', d: delivery(s.events.get('leaderboardWeekly')!, items.leaderboard.items, items.leaderboard.keyOf, from, to) });
    }
    for (const { subscriber, topic, d } of deliveries) {
      if (d.duplicates.length) failures.push(`${subscriber} ${topic}: delivered more than once: ${d.duplicates.slice(0, 5).join(', ')}`);
      if (d.missing.length) failures.push(`${subscriber} ${topic}: never delivered (${d.missing.length}): ${d.missing.slice(0, 5).join(', ')}`);
      if (d.unknown.length) failures.push(`${subscriber} ${topic}: events this installation never produced: ${d.unknown.slice(0, 5).join(', ')}`);
    }
    // A soak long enough to close cases inside the window checks something on every topic.
    const topicsToCover = ['leaderboardUpdated(ALL_TIME)', 'jobCompleted', 'caseOpened', ...(SOAK_SECONDS >= 90 ? ['caseClosed', 'badgeAwarded', 'notificationAdded'] : [])];
    for (const topic of topicsToCover) {
      if (!deliveries.some((x) => x.topic === topic && x.d.required > 0)) failures.push(`nothing to check for ${topic}: no item inside the window`);
    }
    for (const s of subscribers) for (const p of s.problems) failures.push(`subscription: ${p}`);

    // Logs: nothing at error level or above; nothing unexpected outside the JSON log.
    const logRows = servers.map((s) => {
      const byLevel = (min: number, max = 100) => s.logs.filter((l) => l.level >= min && l.level < max).length;
      return { server: s.name, pid: s.pid, lines: s.logs.length, info: byLevel(30, 40), warn: byLevel(40, 50), error: byLevel(50, 60), fatal: byLevel(60), stderr: s.stderr.length };
    });
    for (const s of servers) {
      for (const l of s.logs.filter((x) => x.level >= 50).slice(0, 10)) failures.push(`${s.name} logged at ${l.level}: ${JSON.stringify(l).slice(0, 600)}`);
      for (const line of s.stderr.slice(0, 10)) failures.push(`${s.name} stderr: ${line.slice(0, 300)}`);
      for (const line of s.plainStdout.filter((x) => !isExpectedPlainLine(x)).slice(0, 10)) failures.push(`${s.name} stdout (not JSON): ${line.slice(0, 300)}`);
      if (!s.logs.some((l) => l.msg === 'stopped')) failures.push(`${s.name} never logged "stopped"`);
    }
    const warnings = new Map<string, number>();
    for (const s of servers) {
      for (const l of s.logs.filter((x) => x.level === 40)) {
        const err = (l.err as { message?: string } | undefined)?.message;
        const key = `${l.msg}${err ? ` (${err.replace(/\s+/g, ' ').slice(0, 160)})` : ''}`;
        warnings.set(key, (warnings.get(key) ?? 0) + 1);
      }
    }

    // Memory.
    const rssRows = servers.map((s, i) => ({
      server: s.name,
      pid: s.pid,
      startMiB: (rssStart[i]! / 1024).toFixed(1),
      endMiB: (rssEnd[i]! / 1024).toFixed(1),
      ratio: (rssEnd[i]! / rssStart[i]!).toFixed(2),
      maxMiB: (Math.max(...rssSamples.map((x) => x.rss[i]!)) / 1024).toFixed(1),
    }));
    servers.forEach((s, i) => {
      if (!(rssEnd[i]! < rssStart[i]! * RSS_GROWTH_LIMIT)) failures.push(`${s.name} RSS grew from ${rssStart[i]} kB to ${rssEnd[i]} kB (limit ×${RSS_GROWTH_LIMIT})`);
    });

    // Points and the chain.
    const points = await pointsProblems(db!);
    for (const p of points.problems) failures.push(`points: ${p}`);
    const onChain = await chainProblems(db!, chain!.provider, chain!, stoppedAt);
    for (const p of onChain.problems) failures.push(`chain: ${p}`);
    const { rows: rewardRows } = await db!.query<{ kind: string; status: string; n: string; points: string }>(
      'SELECT kind, status, count(*) AS n, sum(amount) AS points FROM rewards GROUP BY kind, status ORDER BY kind, status',
    );
    const { rows: caseRows } = await db!.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM cases GROUP BY status ORDER BY status');
    // cleanup moves the votes and upvotes of old closed cases to archive tables (votes_all reads both).
    const archived = (await db!.query(`SELECT to_regclass('votes_all') AS t`)).rows[0]?.t !== null;
    const { rows: activity } = await db!.query<{ votes: string; arguments: string; upvotes: string; archived: string }>(
      archived
        ? `SELECT (SELECT count(*) FROM votes_all) AS votes, (SELECT count(*) FROM arguments) AS arguments,
             (SELECT count(*) FROM argument_upvotes_all) AS upvotes, (SELECT count(*) FROM votes_archive) AS archived`
        : `SELECT (SELECT count(*) FROM votes) AS votes, (SELECT count(*) FROM arguments) AS arguments, (SELECT count(*) FROM argument_upvotes) AS upvotes, 0 AS archived`,
    );

    // Requests.
    if (stats.unexpectedCount > 0) failures.push(`${stats.unexpectedCount} unexpected answers or problems:\n    ${stats.unexpected.join('\n    ')}`);
    for (const [status, n] of stats.httpStatus) if (status >= 500) failures.push(`${n} answers with HTTP ${status}`);
    if (burstResult?.sameWindow && (burstResult.notFound !== MUTATION_LIMIT || burstResult.rateLimited !== BURST - MUTATION_LIMIT)) {
      failures.push(`rate limit shared in Redis: ${burstResult.notFound} of ${BURST} mutations passed in one window, limit ${MUTATION_LIMIT} (${burstResult.rateLimited} refused)`);
    }
    const done = (kind: string) => stats.kinds.get(kind)?.ok ?? 0;
    for (const kind of ['castVote', 'submitArgument', 'upvoteArgument', 'signIn', 'signUp', 'read:cases', 'read:leaderboard', 'read:node']) {
      if (done(kind) === 0) failures.push(`the load never completed a ${kind}`);
    }
    if (onChain.figures.mintTransactions === 0) failures.push('no payout was mined: the on-chain check checked nothing');

    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      [
        '',
        `=== soak report: ${SERVER_COUNT} servers, ${seconds(loadEnded - loadStarted)} of load (warm-up ${WARMUP_SECONDS} s), whole test ${seconds(Date.now() - soakStarted)} ===`,
        `operations: ${stats.total()} (${(stats.total() / ((loadEnded - loadStarted) / 1000)).toFixed(1)}/s); per server: ${[...stats.perServer].map(([k, v]) => `${k}=${v}`).join(' ')}; HTTP statuses: ${[...stats.httpStatus].map(([k, v]) => `${k}×${v}`).join(' ')}`,
        fmt(stats.table()),
        `rate-limit burst (${BURST} mutations by one user over ${SERVER_COUNT} servers, limit ${MUTATION_LIMIT}/min): ${burstResult ? `${burstResult.notFound} passed, ${burstResult.rateLimited} RATE_LIMITED${burstResult.sameWindow ? '' : ' (straddled two windows: not compared)'}` : 'not run (no window fitted)'}`,
        'RSS (VmRSS) per server, start after warm-up and end of load:',
        fmt(rssRows),
        `RSS samples every 5 s (MiB): ${rssSamples.map((x) => `${Math.round(x.at / 1000)}s:${x.rss.map((r) => (r / 1024).toFixed(0)).join('/')}`).join(' ')}`,
        'job runs (job_runs):',
        fmt(jobTable(runs, holderNames)),
        `event delivery window ${new Date(from).toISOString()} – ${new Date(to).toISOString()}:`,
        fmt(
          deliveries.map(({ subscriber, topic, d }) => ({
            subscriber,
            topic,
            received: d.received,
            required: d.required,
            duplicates: d.duplicates.length,
            missing: d.missing.length,
            unknown: d.unknown.length,
          })),
        ),
        `myRewardUpdated events: ${rewardSubs.map((s) => `${s.name}=${s.count('myRewards')}`).join(' ')}`,
        `cases: ${caseRows.map((r) => `${r.status}=${r.n}`).join(' ')}; votes ${activity[0]!.votes} (${activity[0]!.archived} archived by cleanup), arguments ${activity[0]!.arguments}, upvotes ${activity[0]!.upvotes}`,
        `points: ${JSON.stringify(points.figures)}`,
        'rewards by kind and status:',
        fmt(rewardRows),
        `chain: ${JSON.stringify(onChain.figures)}; payouts drained: ${drained}`,
        `chain JSON-RPC calls of the servers (through the watch): ${chain!.watch.stats().map((m) => `${m.method}×${m.calls} (max ${m.maxMs} ms)`).join(', ')}`,
        'log lines per server:',
        fmt(logRows),
        `errors left to a job's next run: ${[...runErrors].map(([m, n]) => `${n}× "${m}"`).join('; ') || 'none'}`,
        `warnings: ${[...warnings].map(([m, n]) => `${n}× "${m}"`).join('; ') || 'none'}`,
        failures.length ? `FAILURES (${failures.length}):\n  - ${failures.join('\n  - ')}` : 'no failures',
        '',
      ].join('\n'),
    );
    if (failures.length) {
      // The servers' whole logs, for whoever looks into a failure.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-soak-logs-'));
      for (const s of servers) {
        fs.writeFileSync(path.join(dir, `${s.name}.jsonl`), s.logs.map((l) => JSON.stringify(l)).join('\n'));
        fs.writeFileSync(path.join(dir, `${s.name}.stderr`), s.stderr.join('\n'));
      }
      console.log(`soak: the servers' logs are in ${dir}`);
    }
    expect(failures).toEqual([]);
  }, (SOAK_SECONDS + 180) * 1000);
});

