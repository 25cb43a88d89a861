import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { startEmbeddedPostgres } from './db/embedded.js';
import { deployMigrations } from './db/migrations.js';
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

/** The PostgreSQL server at DATABASE_URL, or else PGlite under DATA_DIR; migrated either way. */
export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (config.DATABASE_URL) {
    const poolConfig: pg.PoolConfig = { connectionString: config.DATABASE_URL, max: 10 };
    logApplied(log, await deployMigrations(poolConfig));
    const db = createPrismaClient(poolConfig, { embedded: false });
    return { db, embedded: false, close: () => db.$disconnect() };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.DATA_DIR });
  try {
    logApplied(log, await deployMigrations(embedded.poolConfig));
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

function logApplied(log: Logger, applied: string[]) {
  if (applied.length > 0) log.info({ applied }, 'applied database migrations');
}
