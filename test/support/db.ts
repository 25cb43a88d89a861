import crypto from 'node:crypto';
import fs from 'node:fs';
import type pg from 'pg';
import { inject } from 'vitest';
import { createPrismaClient, type Db } from '../../src/db.js';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { adminQuery, databaseUrl } from './pg-admin.js';

export interface TestDatabase {
  prisma: Db;
  poolConfig: pg.PoolConfig;
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * A fresh, migrated database for the calling test file: a copy of the run's template, on the
 * PostgreSQL server of TEST_DATABASE_URL when set (dropped on close), else an in-memory PGlite.
 */
export async function createTestDatabase(options: { onQuery?: (sql: string) => void } = {}): Promise<TestDatabase> {
  const started = Date.now();
  const db = await create(options.onQuery);
  if (process.env.VERDICT_TEST_TIMINGS) {
    console.log(`createTestDatabase (${db.embedded ? 'PGlite' : 'PostgreSQL'}): ${Date.now() - started} ms`);
  }
  return db;
}

async function create(onQuery?: (sql: string) => void): Promise<TestDatabase> {
  const url = process.env.TEST_DATABASE_URL || undefined;
  const template = inject('pgTemplateDatabase');
  if (url && template) {
    const name = `verdict_t_${crypto.randomBytes(6).toString('hex')}`;
    await adminQuery(url, `CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    const poolConfig: pg.PoolConfig = { connectionString: databaseUrl(url, name) };
    const prisma = createPrismaClient(poolConfig, { embedded: false, onQuery });
    return {
      prisma,
      poolConfig,
      embedded: false,
      close: async () => {
        await prisma.$disconnect();
        await adminQuery(url, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      },
    };
  }

  const db = await startEmbeddedPostgres({ loadDataDir: await fs.openAsBlob(inject('pgliteTemplateFile')) });
  const prisma = createPrismaClient(db.poolConfig, { embedded: true, onQuery });
  return {
    prisma,
    poolConfig: db.poolConfig,
    embedded: true,
    close: async () => {
      await prisma.$disconnect();
      await db.stop();
    },
  };
}
