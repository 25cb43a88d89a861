import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { lockDataDir, startEmbeddedPostgres } from './db/embedded.js';
import { SERVER_SHARED_BUFFERS, createEmbeddedDatabaseIfMissing } from './db/fresh-data-dir.js';
import { deployMigrations, migrationStatus } from './db/migrations.js';
import { PrismaClient } from './generated/prisma/client.js';

export type Db = PrismaClient;

/**
 * A Prisma client over node-postgres. The embedded database serves one connection at a time
 * (pool of 1) and runs transactions one after another, so waiting for the connection can take
 * longer than Prisma's 2 s default: the embedded timeouts are generous.
 */
export function createPrismaClient(
  poolConfig: pg.PoolConfig,
  opts: { embedded: boolean; onQuery?: (sql: string) => void },
): Db {
  const client = new PrismaClient({
    adapter: new PrismaPg(poolConfig),
    transactionOptions: opts.embedded ? { maxWait: 30_000, timeout: 60_000 } : { maxWait: 5_000, timeout: 15_000 },
    log: opts.onQuery ? [{ emit: 'event', level: 'query' }] : [],
  });
  if (opts.onQuery) {
    const onQuery = opts.onQuery;
    (client as PrismaClient<'query'>).$on('query', (event) => onQuery(event.query));
  }
  return client;
}

export interface Database {
  db: Db;
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * The PostgreSQL server at DATABASE_URL, or else PGlite under DATA_DIR; migrated either way.
 * `onDataDirLocked` runs once this process owns DATA_DIR (at once with DATABASE_URL): from then
 * on other users of DATA_DIR (the dev chain) may start, while the database still opens.
 */
export async function openDatabase(config: Config, log: Logger, hooks: { onDataDirLocked?: () => void } = {}): Promise<Database> {
  if (config.DATABASE_URL) {
    hooks.onDataDirLocked?.();
    // A server that stops answering fails each query after 5 s (/readyz says 503) instead of hanging.
    const poolConfig: pg.PoolConfig = { connectionString: config.DATABASE_URL, max: 10, connectionTimeoutMillis: 5_000 };
    logApplied(log, await migrateIfPending(poolConfig));
    const db = createPrismaClient(poolConfig, { embedded: false });
    return { db, embedded: false, close: () => db.$disconnect() };
  }
  const releaseLock = lockDataDir(config.DATA_DIR);
  hooks.onDataDirLocked?.();
  let embedded;
  try {
    const created = await createEmbeddedDatabaseIfMissing(config.DATA_DIR);
    if (created.how !== 'existing') log.info({ dataDir: config.DATA_DIR, from: created.how, migrations: created.applied }, 'created the embedded database');
    embedded = await startEmbeddedPostgres({ dataDir: config.DATA_DIR, sharedBuffers: SERVER_SHARED_BUFFERS, heldLock: releaseLock });
  } catch (error) {
    releaseLock();
    throw error;
  }
  try {
    logApplied(log, await migrateIfPending(embedded.poolConfig));
  } catch (error) {
    await embedded.stop();
    throw error;
  }
  const db = createPrismaClient(embedded.poolConfig, { embedded: true });
  log.info({ dataDir: config.DATA_DIR }, 'embedded PostgreSQL (PGlite) ready');
  return {
    db,
    embedded: true,
    async close() {
      await db.$disconnect();
      await embedded.stop();
    },
  };
}

/**
 * Applies pending migrations; when none is pending (every restart but the first after an
 * upgrade) one query says so and the schema engine (WASM, ~45 MB resident) is never loaded.
 */
async function migrateIfPending(poolConfig: pg.PoolConfig): Promise<string[]> {
  const { pending } = await migrationStatus(poolConfig);
  return pending.length > 0 ? deployMigrations(poolConfig) : [];
}

function logApplied(log: Logger, applied: string[]) {
  if (applied.length > 0) log.info({ applied }, 'applied database migrations');
}
