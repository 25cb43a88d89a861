// npm run bench:seed -- --users N [--database-url URL] [--data-dir DIR] [--reward-pool P]
// Migrates the database, replaces its data with a community of N users (bench/seed.ts), and
// prints what was written and how long it took. Without a URL (flag or BENCH_DATABASE_URL) it
// fills an embedded PGlite under --data-dir.
import { parseArgs } from 'node:util';
import { createPrismaClient } from '../src/db.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { deployMigrations } from '../src/db/migrations.js';
import { seed } from './seed.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    'database-url': { type: 'string' },
    'data-dir': { type: 'string', default: './.tmp/bench-pglite' },
    'reward-pool': { type: 'string' },
  },
});

const positiveInteger = (flag: string, text: string): number => {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer, not ${JSON.stringify(text)}`);
  return n;
};
const users = positiveInteger('users', values.users);
const rewardPool = values['reward-pool'] === undefined ? undefined : positiveInteger('reward-pool', values['reward-pool']);

const url = values['database-url'] ?? process.env.BENCH_DATABASE_URL;
const embedded = url ? null : await startEmbeddedPostgres({ dataDir: values['data-dir'] });
const poolConfig = url ? { connectionString: url } : embedded!.poolConfig;
const db = createPrismaClient(poolConfig, { embedded: !url });
try {
  await deployMigrations(poolConfig);
  console.log(`seeding ${users.toLocaleString('en-US')} users into ${url ? 'PostgreSQL' : `PGlite at ${values['data-dir']}`}…`);
  const summary = await seed(db, { users, rewardPool, log: (line) => console.log(line) });
  const [size] = await db.$queryRaw<{ size: string }[]>`SELECT pg_size_pretty(pg_database_size(current_database())) AS size`;
  const { ms, ...counts } = summary;
  for (const [name, count] of Object.entries(counts)) console.log(`${name.padEnd(10)} ${count.toLocaleString('en-US').padStart(10)}`);
  console.log(`database   ${size!.size.padStart(10)}`);
  console.log(`elapsed    ${(ms / 1000).toFixed(1).padStart(8)} s`);
} finally {
  await db.$disconnect();
  await embedded?.stop();
}
