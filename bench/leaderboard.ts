// npm run bench: the leaderboard computed set-based in the database (what Verdict does) against
// the seed notes' way (load every row, aggregate and sort in application memory), side by side on
// the same data in one run. Prints the times and their ratio; it asserts nothing.
import { randomUUID } from 'node:crypto';
import { createPrismaClient } from '../src/db.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { deployMigrations } from '../src/db/migrations.js';
import { leaderboard, liveLeaderboard, rankOf, refreshLeaderboard } from '../src/domain/leaderboard.js';

const USERS = Number(process.env.BENCH_USERS ?? 50_000);
const REWARDS_PER_USER = 4;
const DAY = 24 * 3600_000;

const url = process.env.BENCH_DATABASE_URL;
const embedded = url ? null : await startEmbeddedPostgres({});
const poolConfig = url ? { connectionString: url } : embedded!.poolConfig;
await deployMigrations(poolConfig);
const db = createPrismaClient(poolConfig, { embedded: !url });

console.log(`seeding ${USERS} users and ${USERS * REWARDS_PER_USER} completed rewards (${url ? 'PostgreSQL' : 'PGlite'})…`);
const caseId = randomUUID();
await db.$executeRaw`TRUNCATE users, cases, rewards, leaderboard_cache CASCADE`;
await db.$executeRaw`INSERT INTO users (handle, password_hash, total_points)
  SELECT 'user_' || g, 'x', 0 FROM generate_series(1, ${USERS}) g`;
await db.$executeRaw`INSERT INTO cases (id, title, dilemma, side_a_label, side_b_label, source, status, opens_at, closes_at, closed_at, reward_pool, commitment, commitment_status)
  VALUES (${caseId}::uuid, 'Bench', repeat('x', 200), 'A', 'B', 'AI', 'CLOSED', now() - interval '2 days', now() - interval '1 day', now(), 1000, '0x' || repeat('ab', 32), 'SENT')`;
await db.$executeRaw`INSERT INTO rewards (user_id, case_id, kind, amount, status, completed_at)
  SELECT u.id, ${caseId}::uuid, (ARRAY['WINNING_VOTE','TOP_ARGUMENT','PARTICIPATION','CREATOR'])[k]::"RewardKind",
    1 + floor(random() * 500)::int, 'COMPLETED', now() - random() * interval '30 days'
  FROM users u CROSS JOIN generate_series(1, ${REWARDS_PER_USER}) k`;
await db.$executeRaw`UPDATE users u SET total_points = s.p FROM (SELECT user_id, sum(amount)::int p FROM rewards GROUP BY user_id) s WHERE u.id = s.user_id`;

async function time<T>(label: string, fn: () => Promise<T>, runs = 3): Promise<number> {
  await fn();
  const started = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  const ms = (performance.now() - started) / runs;
  console.log(`  ${label.padEnd(48)} ${ms.toFixed(1).padStart(9)} ms`);
  return ms;
}

/** The seed notes' approach: every completed reward of the week into memory, summed and sorted. */
async function weeklyInMemory() {
  const since = new Date(Date.now() - 7 * DAY);
  const rows = await db.reward.findMany({ where: { status: 'COMPLETED', completedAt: { gt: since } }, select: { userId: true, amount: true } });
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.userId, (totals.get(r.userId) ?? 0) + r.amount);
  return [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 100);
}

async function rankInMemory(userId: string) {
  const users = await db.user.findMany({ select: { id: true, totalPoints: true } });
  const mine = users.find((u) => u.id === userId)!.totalPoints;
  return users.filter((u) => u.totalPoints > mine).length + 1;
}

const someone = (await db.user.findFirstOrThrow({ where: { handle: `user_${Math.ceil(USERS / 2)}` } })).id;
const now = new Date();

console.log('weekly top 100:');
const setWeekly = await time('set-based (one statement, window functions)', () => liveLeaderboard(db, 'WEEKLY', 100));
const memWeekly = await time('in application memory', weeklyInMemory);
console.log(`  ratio: in memory / set-based = ${(memWeekly / setWeekly).toFixed(1)}×`);
await time('job step: rank and cache the top 100', () => refreshLeaderboard(db, 'WEEKLY', new Date()));

console.log('one user’s all-time rank:');
await db.$executeRaw`DELETE FROM leaderboard_cache`;
const setRank = await time('live set-based count', () => rankOf(db, someone, 'ALL_TIME', now));
const memRank = await time('in application memory', () => rankInMemory(someone));
console.log(`  ratio: in memory / set-based = ${(memRank / setRank).toFixed(1)}×`);

console.log('reading the cached top 20:');
await refreshLeaderboard(db, 'ALL_TIME', now);
await time('leaderboard(ALL_TIME, 20) from the cache', () => leaderboard(db, 'ALL_TIME', 20));

await db.$disconnect();
await embedded?.stop();
