import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { deployMigrations } from '../../src/db/migrations.js';
import { adminQuery, databaseUrl } from './pg-admin.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A `dumpDataDir()` tarball of a migrated PGlite database. */
    pgliteTemplateFile: string;
    /** A migrated database on TEST_DATABASE_URL's server to copy with CREATE DATABASE … TEMPLATE. */
    pgTemplateDatabase: string | null;
  }
}

/** Migrate once per run; every test file then starts from a copy. */
async function buildPgliteTemplate(dir: string): Promise<string> {
  const started = Date.now();
  const db = await startEmbeddedPostgres({});
  try {
    await deployMigrations(db.poolConfig);
    const dump = await db.pglite.dumpDataDir('none');
    const file = path.join(dir, 'pglite-template.tar');
    fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
    if (process.env.VERDICT_TEST_TIMINGS) console.log(`PGlite template built in ${Date.now() - started} ms`);
    return file;
  } finally {
    await db.stop();
  }
}

async function buildPgTemplate(url: string, name: string): Promise<void> {
  const started = Date.now();
  await adminQuery(url, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await adminQuery(url, `CREATE DATABASE "${name}"`);
  // deployMigrations closes its connections, as CREATE DATABASE … TEMPLATE requires.
  await deployMigrations({ connectionString: databaseUrl(url, name) });
  if (process.env.VERDICT_TEST_TIMINGS) console.log(`PostgreSQL template built in ${Date.now() - started} ms`);
}

export default async function setup(project: TestProject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-test-'));
  const url = process.env.TEST_DATABASE_URL || undefined;
  const pgTemplate = url ? `verdict_tpl_${process.pid}` : null;
  const [pgliteTemplateFile] = await Promise.all([
    buildPgliteTemplate(dir),
    url && pgTemplate ? buildPgTemplate(url, pgTemplate) : undefined,
  ]);
  project.provide('pgliteTemplateFile', pgliteTemplateFile);
  project.provide('pgTemplateDatabase', pgTemplate);

  return async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (url && pgTemplate) await adminQuery(url, `DROP DATABASE IF EXISTS "${pgTemplate}" WITH (FORCE)`);
  };
}
