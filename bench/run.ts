// npm run bench -- --users N [--json FILE] [--database-url URL] [--skip-seed] [--only a,b]
// Every pair side by side in one run: Verdict's way and its hand-written floor (bench/floors.ts),
// at least 3 repetitions each, min and median printed. It asserts nothing; the figures issue #9
// names go to FILE (exactly those keys), the other lines' figures beside it, to FILE.more.json.
// Each section starts once the machine is quiet again (support/quiet.ts).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPubSub } from 'graphql-yoga';
import { createPrismaClient, type Db } from '../src/db.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { deployMigrations } from '../src/db/migrations.js';
import { addDays, computeDays, dayOf, RECOMPUTE_DAYS } from '../src/domain/analytics.js';
import { awardBadges } from '../src/domain/badges-award.js';
import { PERIODS, rankOf } from '../src/domain/leaderboard.js';
import { notifyClosedCase } from '../src/domain/notifications.js';
import { recordLedger } from '../src/domain/reveal.js';
import { closeCase } from '../src/domain/settlement.js';
import type { Topics } from '../src/events.js';
import type { LeaderboardPeriod } from '../src/generated/prisma/enums.js';
import { analyticsJob } from '../src/jobs/analytics.js';
import { leaderboardJob } from '../src/jobs/leaderboard.js';
import {
  analyticsFloor,
  badgesFloor,
  closureFloor,
  createDueCase,
  dropCase,
  earnPoints,
  keepHistogram,
  leaderboardFloor,
  leaderboardNaive,
  reopenCase,
  resetBadges,
  vacuum,
} from './floors.js';
import { seed } from './seed.js';
import { untilQuiet } from './support/quiet.js';

const { values: opts } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    json: { type: 'string' },
    'database-url': { type: 'string' },
    'data-dir': { type: 'string', default: '.tmp/bench-pglite' },
    'skip-seed': { type: 'boolean', default: false },
    reps: { type: 'string', default: '3' },
    only: { type: 'string', default: 'leaderboard,rank,badges,closure,analytics,http,fanout,start' },
  },
});
const USERS = Number(opts.users);
const REPS = Math.max(3, Number(opts.reps));
const sections = new Set(opts.only!.split(','));
const url = opts['database-url'] ?? process.env.BENCH_DATABASE_URL;
const dataDir = path.resolve(opts['data-dir']!);
const figures: Record<string, number> = { users: USERS };
/** The figures file's keys (issue #9, point 5), in its order; any other figure goes to FILE.more.json. */
const FILE_KEYS = [
  'users',
  'leaderboard.project_ms', 'leaderboard.floor_ms', 'leaderboard.naive_ms',
  'badges.first_full_ms', 'badges.full_ms', 'badges.full_floor_ms', 'badges.incremental_ms',
  ...['ALL_TIME', 'WEEKLY', 'DAILY'].flatMap((p) => ['top', 'middle', 'none'].map((w) => `rank.${p}.${w}_ms`)),
  'closure.project_ms', 'closure.floor_ms',
  'http.leaderboard_rps', 'http.bare_rps', 'http.typename_rps', 'http.bare_yoga_rps', 'http.leaderboard_p99_ms',
  'fanout.c2000.p99_ms', 'fanout.c10000.p99_ms', 'fanout.c10000.rss_mb_connected', 'fanout.c10000.rss_mb_after', 'fanout.rss_mb_before',
  'start.healthz_ms', 'start.ready_ms', 'start.idle_rss_mb',
];
const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);

interface Timed {
  min: number;
  median: number;
}

/** Runs `fn` `reps` times, each after an untimed `before`; prints and returns min and median. */
async function time(name: string, fn: () => Promise<unknown>, options: { reps?: number; before?: () => Promise<unknown> } = {}): Promise<Timed> {
  const runs: number[] = [];
  for (let i = 0; i < (options.reps ?? REPS); i++) {
    await options.before?.();
    const started = performance.now();
    await fn();
    runs.push(performance.now() - started);
  }
  runs.sort((a, b) => a - b);
  const result = { min: runs[0]!, median: runs[Math.floor(runs.length / 2)]! };
  console.log(`  ${name.padEnd(44)} min ${result.min.toFixed(1).padStart(10)} ms   median ${result.median.toFixed(1).padStart(10)} ms`);
  return result;
}

const ratio = (label: string, a: Timed, b: Timed) => console.log(`  ${label}: ${(a.median / b.median).toFixed(2)}x`);

let clock = Date.now();
/** A fresh instant per run, so snapshots of repeated runs never collide. */
const tick = (stepMs = 1000) => new Date((clock += stepMs));
/** The leaderboard job runs every 15 minutes: what it finds new is what happened since. */
const QUARTER_HOUR = 15 * 60_000;

async function benchLeaderboard(db: Db) {
  // Between two runs (15 min) points reach users as payouts confirm and badges pay bonuses: about
  // 0.3 % of a community of this size. A case closing pays ~1 % at once, twice a day (shown too).
  const changed = Math.max(1, Math.round(USERS * 0.003));
  console.log(`leaderboard job (three periods; before each run, ${changed} users earned points):`);
  const pubsub = createPubSub<Topics>();
  const ctx = () => ({ now: tick(QUARTER_HOUR / 2), signal: new AbortController().signal, trigger: 'manual' as const });
  const earned: string[] = [];
  const before = async () => earned.push(await earnPoints(db, changed, tick(QUARTER_HOUR / 2)));
  // The job's first run on a database counts everyone; later runs recount only who changed.
  await time('Verdict, first run (counts everyone)', () => leaderboardJob.run({ db, pubsub }, ctx()), { reps: 1 });
  // What autovacuum would have done by the next run (this machine's PostgreSQL runs without it):
  // the first run wrote every counted row, and an earlier bench on this database left dead ones.
  await vacuum(db, ['users', 'rewards', 'leaderboard_points', 'leaderboard_histogram']);
  const project = await time('Verdict (the job)', () => leaderboardJob.run({ db, pubsub }, ctx()), { before });
  const restoreHistogram = await keepHistogram(db);
  const floor = await time('floor (one statement per period)', async () => {
    const now = tick();
    for (const period of PERIODS) await leaderboardFloor(db, period, now);
  }, { before });
  const naive = await time('naive (rows into the process)', async () => {
    const now = tick();
    for (const period of PERIODS) await leaderboardNaive(db, period, now);
  }, { before });
  await restoreHistogram();
  const closing = Math.max(1, Math.round(USERS / 100));
  await time(`Verdict after a case paid ${closing} users`, () => leaderboardJob.run({ db, pubsub }, ctx()), {
    before: async () => earned.push(await earnPoints(db, closing, tick(QUARTER_HOUR / 2))),
  });
  await time('Verdict with nothing new', () => leaderboardJob.run({ db, pubsub }, ctx()), { before: async () => tick(QUARTER_HOUR / 2) });
  for (const caseId of earned) await dropCase(db, caseId);
  // Those points were taken back behind the job's back (Verdict never deletes a completed reward):
  // its next run recounts everyone, so the counted points and ranks are exact again.
  await db.leaderboardSync.deleteMany();
  ratio('Verdict / floor', project, floor);
  ratio('naive / Verdict', naive, project);
  Object.assign(figures, { 'leaderboard.project_ms': project.median, 'leaderboard.floor_ms': floor.median, 'leaderboard.naive_ms': naive.median });
}

async function benchRank(db: Db) {
  console.log('User.rank(period), from a fresh snapshot:');
  const now = tick();
  await leaderboardJob.run({ db, pubsub: createPubSub<Topics>() }, { now, signal: new AbortController().signal, trigger: 'manual' });
  const asked = new Date(now.getTime() + 1000);
  for (const period of PERIODS) {
    const [top] = await db.$queryRaw<{ id: string }[]>`SELECT user_id AS id FROM leaderboard_cache
      WHERE period = ${period}::"LeaderboardPeriod" AND computed_at = ${now} ORDER BY rank LIMIT 1`;
    const users = { top: top?.id, middle: await middleUser(db, period, now), none: await pointlessUser(db, period, now) };
    for (const [which, id] of Object.entries(users)) {
      if (!id) continue;
      const answer = await rankOf(db, id, period, asked);
      const t = await time(`${period} ${which} (rank ${answer ?? 'null'}), 10 calls`, async () => {
        for (let i = 0; i < 10; i++) await rankOf(db, id, period, asked);
      }, { reps: 5 });
      figures[`rank.${period}.${which}_ms`] = t.median / 10;
    }
  }
}

/** A user in the middle of the period's ranking. */
async function middleUser(db: Db, period: LeaderboardPeriod, now: Date): Promise<string | undefined> {
  if (period === 'ALL_TIME') {
    const [row] = await db.$queryRaw<{ id: string }[]>`SELECT id FROM users WHERE total_points > 0
      ORDER BY total_points DESC OFFSET (SELECT count(*) / 2 FROM users WHERE total_points > 0) LIMIT 1`;
    return row?.id;
  }
  const since = new Date(now.getTime() - (period === 'WEEKLY' ? 7 : 1) * 24 * 3600_000);
  const [row] = await db.$queryRaw<{ id: string }[]>`WITH p AS (SELECT user_id, sum(amount) AS points FROM rewards
      WHERE status = 'COMPLETED' AND completed_at > ${since} AND completed_at <= ${now} GROUP BY user_id)
    SELECT user_id AS id FROM p ORDER BY points DESC OFFSET (SELECT count(*) / 2 FROM p) LIMIT 1`;
  return row?.id;
}

/** A user without points in the period. */
async function pointlessUser(db: Db, period: LeaderboardPeriod, now: Date): Promise<string | undefined> {
  const since = period === 'ALL_TIME' ? new Date(0) : new Date(now.getTime() - (period === 'WEEKLY' ? 7 : 1) * 24 * 3600_000);
  const [row] = await db.$queryRaw<{ id: string }[]>`SELECT id FROM users u WHERE NOT EXISTS (
    SELECT 1 FROM rewards r WHERE r.user_id = u.id AND r.status = 'COMPLETED' AND r.completed_at > ${since}) LIMIT 1`;
  return row?.id;
}

async function benchBadges(db: Db) {
  console.log('badge job:');
  const pubsub = createPubSub<Topics>();
  const publish = (awards: Topics['badgeAwarded'][0][]) => {
    for (const award of awards) pubsub.publish('badgeAwarded', award);
  };
  let peakGrowth = 0;
  const first = await time('first full pass (everything new)', async () => {
    const before = rssMb();
    const sampler = setInterval(() => (peakGrowth = Math.max(peakGrowth, rssMb() - before)), 100);
    try {
      const result = await awardBadges(db, { since: null, now: tick(), onAwarded: publish });
      console.log(`    ${result.awarded} awards in ${result.chunks} chunks`);
    } finally {
      clearInterval(sampler);
    }
  }, { before: async () => {
    await resetBadges(db);
    await vacuum(db, ['users', 'rewards', 'badge_awards']);
  } });
  console.log(`    process RSS growth during a first pass: at most ${peakGrowth} MB`);
  await vacuum(db, ['users', 'rewards', 'badge_awards']);
  const full = await time('full pass (nothing new)', () => awardBadges(db, { since: null, now: tick(), onAwarded: publish }));
  const floor = await time('floor (one statement, whole tables)', () => badgesFloor(db, tick()));
  ratio('Verdict / floor', full, floor);

  // 1 % of users active: each casts a vote on an open case after the last pass.
  const since = tick();
  const caseId = await createDueCase(db, { voters: Math.max(1, Math.round(USERS / 100)), arguments: 0, upvotes: 0 }, since);
  await db.$executeRaw`UPDATE votes SET created_at = ${new Date(since.getTime() + 500)} WHERE case_id = ${caseId}::uuid`;
  await vacuum(db, ['users', 'rewards', 'badge_awards', 'votes']);
  const incremental = await time('scheduled pass, 1 % of users active', () => awardBadges(db, { since, now: tick(), onAwarded: publish }));
  await dropCase(db, caseId);
  // The passes' million notifications were never published here (no job ran them): marked so, or
  // the next server this bench starts would spend minutes publishing them before anything else.
  await db.$executeRaw`UPDATE notifications SET published_at = now() WHERE published_at IS NULL`;
  console.log(`  scheduled / full: ${((incremental.median / full.median) * 100).toFixed(1)} %`);
  Object.assign(figures, {
    'badges.first_full_ms': first.median,
    'badges.full_ms': full.median,
    'badges.full_floor_ms': floor.median,
    'badges.incremental_ms': incremental.median,
  });
}

async function benchClosure(db: Db) {
  const shape = { voters: Math.min(10_000, USERS), arguments: Math.min(2_000, Math.round(USERS / 5)), upvotes: 20_000 };
  console.log(`closure of one case (${shape.voters} voters, ${shape.arguments} arguments, ~${shape.upvotes} upvotes):`);
  const caseId = await createDueCase(db, shape, new Date());
  const project = await time('Verdict (one transaction, set-based)', () => closeCase(db, caseId, new Date()), { before: () => reopenCase(db, caseId) });
  const floor = await time('floor (two statements)', () => closureFloor(db, caseId, new Date()), { before: () => reopenCase(db, caseId) });
  ratio('Verdict / floor', project, floor);
  // After the closing transaction: its participants told (their own transaction), and the case's
  // Merkle ledger over every vote and reward line.
  await closeCase(db, caseId, new Date());
  const told = await time(`participants told (${shape.voters} notifications)`, () => notifyClosedCase(db, caseId), {
    before: () => db.$transaction([
      db.$executeRaw`DELETE FROM notifications WHERE kind = 'CASE_CLOSED' AND subject_id = ${caseId}::uuid`,
      db.$executeRaw`UPDATE case_settlements SET notified_at = NULL WHERE case_id = ${caseId}::uuid`,
    ]),
  });
  const leaves = await db.$queryRaw<{ n: number }[]>`SELECT ((SELECT count(*) FROM votes WHERE case_id = ${caseId}::uuid) + (SELECT count(*) FROM rewards WHERE case_id = ${caseId}::uuid))::int AS n`;
  const ledger = await time(`ledger (${leaves[0]!.n} leaves: read, build, store)`, () => recordLedger(db, caseId), {
    before: () => db.caseLedger.deleteMany({ where: { caseId } }),
  });
  await dropCase(db, caseId);
  Object.assign(figures, { 'closure.project_ms': project.median, 'closure.floor_ms': floor.median, 'closure.notify_ms': told.median, 'closure.ledger_ms': ledger.median });
}

async function benchAnalytics(db: Db) {
  console.log('analytics job:');
  const now = new Date();
  const [first, last] = [addDays(dayOf(now), -RECOMPUTE_DAYS), addDays(dayOf(now), -1)];
  const backfill = await time('backfill, every day since the first user', () => analyticsJob.run({ db }, { now, signal: new AbortController().signal, trigger: 'manual' }), {
    reps: 1,
    before: () => db.dailyStat.deleteMany(),
  });
  const daily = await time(`daily run (the last ${RECOMPUTE_DAYS} days again)`, () => computeDays(db, first, last, now, null));
  const floor = await time('floor (one hand-written statement)', () => analyticsFloor(db, first, last, now));
  ratio('Verdict / floor', daily, floor);
  Object.assign(figures, { 'analytics.backfill_ms': backfill.median, 'analytics.daily_ms': daily.median, 'analytics.daily_floor_ms': floor.median });
}

async function main() {
  const embedded = url ? null : await startEmbeddedPostgres({ dataDir });
  const poolConfig = url ? { connectionString: url } : embedded!.poolConfig;
  await deployMigrations(poolConfig);
  const db = createPrismaClient(poolConfig, { embedded: !url });
  console.log(`database: ${url ? 'PostgreSQL server' : `PGlite under ${dataDir}`}; ${USERS} users; ${REPS} repetitions`);
  if (!opts['skip-seed']) {
    const summary = await seed(db, { users: USERS, log: (line) => console.log(`  ${line}`) });
    console.log(`seeded in ${(summary.ms / 1000).toFixed(1)} s: ${JSON.stringify(summary)}`);
  }
  // The bench's clock runs ahead of the wall clock (a tick per run): start it after anything an
  // earlier run on this database dated, so a rerun's jobs never find that run's future as news.
  const [latest] = await db.$queryRaw<{ at: Date | null }[]>`SELECT greatest(max(completed_at), max(created_at)) AS at FROM rewards`;
  if (latest?.at) clock = Math.max(clock, latest.at.getTime() + QUARTER_HOUR);
  if (sections.has('leaderboard')) await untilQuiet().then(() => benchLeaderboard(db));
  if (sections.has('rank')) await untilQuiet().then(() => benchRank(db));
  if (sections.has('badges')) await untilQuiet().then(() => benchBadges(db));
  if (sections.has('closure')) await untilQuiet().then(() => benchClosure(db));
  if (sections.has('analytics')) await untilQuiet().then(() => benchAnalytics(db));
  await db.$disconnect();
  await embedded?.stop();

  const serverEnv: Record<string, string> = url ? { DATABASE_URL: url } : { DATA_DIR: dataDir };
  if (sections.has('http')) {
    await untilQuiet();
    const { benchHttp } = await import('./http.js');
    for (const [key, value] of Object.entries(await benchHttp(serverEnv))) figures[`http.${key}`] = value;
  }
  if (sections.has('fanout')) {
    await untilQuiet();
    const { benchFanout } = await import('./fanout.js');
    for (const [key, value] of Object.entries(await benchFanout(serverEnv))) figures[`fanout.${key}`] = value;
  }
  if (sections.has('start')) {
    await untilQuiet();
    const { benchStart } = await import('./start.js');
    for (const [key, value] of Object.entries(await benchStart())) figures[`start.${key}`] = value;
  }

  const round = (v: number) => Math.round(v * 100) / 100;
  const named = Object.fromEntries(FILE_KEYS.filter((k) => k in figures).map((k) => [k, round(figures[k]!)]));
  const more = Object.fromEntries(Object.entries(figures).filter(([k]) => !FILE_KEYS.includes(k)).map(([k, v]) => [k, round(v)]));
  console.log(JSON.stringify({ ...named, ...more }, null, 2));
  if (opts.json) {
    fs.writeFileSync(opts.json, `${JSON.stringify(named, null, 2)}\n`);
    fs.writeFileSync(opts.json.replace(/(\.json)?$/, '.more.json'), `${JSON.stringify({ users: USERS, ...more }, null, 2)}\n`);
  }
}

await main();
