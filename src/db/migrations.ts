import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MigrationList, SchemaFilter } from '@prisma/schema-engine-wasm';
import pg from 'pg';
import { withSchemaEngine } from './schema-engine.js';

const PRISMA_DIR = fileURLToPath(new URL('../../prisma/', import.meta.url));

export interface MigrationPaths {
  /** Default: prisma/migrations. */
  migrationsDir?: string;
  /** Default: prisma/schema.prisma. */
  schemaPath?: string;
}

const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };
const LOCKFILE = 'migration_lock.toml';

function paths(opts: MigrationPaths = {}) {
  return {
    migrationsDir: path.resolve(opts.migrationsDir ?? path.join(PRISMA_DIR, 'migrations')),
    schemaPath: path.resolve(opts.schemaPath ?? path.join(PRISMA_DIR, 'schema.prisma')),
  };
}

function localMigrationNames(migrationsDir: string): string[] {
  if (!fs.existsSync(migrationsDir)) return [];
  return fs
    .readdirSync(migrationsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** The migrations directory as the engine wants it: files already read. */
function readMigrationsList(migrationsDir: string): MigrationList {
  const lockfile = path.join(migrationsDir, LOCKFILE);
  return {
    baseDir: migrationsDir,
    lockfile: { path: LOCKFILE, content: fs.existsSync(lockfile) ? fs.readFileSync(lockfile, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: localMigrationNames(migrationsDir).map((name) => {
      const file = path.join(migrationsDir, name, 'migration.sql');
      let content: MigrationList['migrationDirectories'][number]['migrationFile']['content'];
      try {
        content = { tag: 'ok', value: fs.readFileSync(file, 'utf8') };
      } catch (err) {
        content = { tag: 'error', value: (err as Error).message };
      }
      return { path: name, migrationFile: { path: 'migration.sql', content } };
    }),
  };
}

function schemaFiles(schemaPath: string): [string, string][] {
  return [[schemaPath, fs.readFileSync(schemaPath, 'utf8')]];
}

/**
 * Applies pending migrations like `prisma migrate deploy`: records them in `_prisma_migrations`
 * (checksum = sha256 of migration.sql) so the official CLI accepts the database later. Throws
 * when a migration fails; that migration is then recorded as failed, as Prisma does.
 */
export async function deployMigrations(poolConfig: pg.PoolConfig, opts?: MigrationPaths): Promise<string[]> {
  const { migrationsDir, schemaPath } = paths(opts);
  return withSchemaEngine({ poolConfig, datamodels: schemaFiles(schemaPath) }, async (engine) => {
    const out = await engine.applyMigrations({ migrationsList: readMigrationsList(migrationsDir), filters: NO_FILTER });
    return out.appliedMigrationNames;
  });
}

/** Names applied (finished, not rolled back) in the database and local ones not applied yet. */
export async function migrationStatus(
  poolConfig: pg.PoolConfig,
  opts?: MigrationPaths,
): Promise<{ applied: string[]; pending: string[] }> {
  const { migrationsDir } = paths(opts);
  const client = new pg.Client(poolConfig);
  await client.connect();
  let applied: string[];
  try {
    const res = await client.query<{ migration_name: string }>(
      `SELECT migration_name FROM _prisma_migrations
        WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL
        ORDER BY started_at, migration_name`,
    );
    applied = res.rows.map((r) => r.migration_name);
  } catch (err) {
    // 42P01 undefined_table: a fresh database, nothing applied yet (Prisma's P1014).
    if ((err as { code?: string }).code !== '42P01') throw err;
    applied = [];
  } finally {
    await client.end();
  }
  const done = new Set(applied);
  return { applied, pending: localMigrationNames(migrationsDir).filter((n) => !done.has(n)) };
}

/** `yyyymmddhhmmss` in UTC, as Prisma names migration directories. */
function timestamp(d = new Date()): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/**
 * Diffs the migrations directory (replayed on a throwaway in-memory PGlite shadow) against the
 * Prisma schema. `changed` comes from the engine's exit code, not from parsing the script.
 */
async function diffToSchema(migrationsDir: string, schemaPath: string): Promise<{ script: string; changed: boolean }> {
  const files = schemaFiles(schemaPath);
  const migrations = readMigrationsList(migrationsDir);
  const out = await withSchemaEngine({ datamodels: files }, (engine) =>
    engine.diff({
      // The engine learns the provider from migration_lock.toml, absent before the first migration.
      from: migrations.migrationDirectories.length ? { tag: 'migrations', ...migrations } : { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files: files.map(([p, content]) => ({ path: p, content })) },
      script: true,
      exitCode: true,
      filters: NO_FILTER,
    }),
  );
  return { script: out.stdout ?? '', changed: out.exitCode === 2 };
}

/**
 * Like `prisma migrate dev --create-only`: writes the SQL that takes the migrations to the Prisma
 * schema as a new migration. Returns its directory, or null when the schema needs no change.
 * (The WASM engine's own createMigration cannot use a driver-adapter shadow database; diff can.)
 */
export async function createMigration(name: string, opts?: MigrationPaths): Promise<string | null> {
  const { migrationsDir, schemaPath } = paths(opts);
  const slug = name.trim().toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (!slug) throw new Error(`Invalid migration name: ${JSON.stringify(name)}`);
  const { script, changed } = await diffToSchema(migrationsDir, schemaPath);
  if (!changed) return null;
  const dir = path.join(migrationsDir, `${timestamp()}_${slug}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'migration.sql'), script);
  const lockfile = path.join(migrationsDir, LOCKFILE);
  if (!fs.existsSync(lockfile)) {
    fs.writeFileSync(
      lockfile,
      '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n',
    );
  }
  return dir;
}

/**
 * SQL that would still be needed to bring a database built from the migrations up to the
 * Prisma schema: empty (or comments only) when they agree. The drift check.
 */
export async function diffMigrationsToSchema(opts?: MigrationPaths): Promise<string> {
  const { migrationsDir, schemaPath } = paths(opts);
  const { script, changed } = await diffToSchema(migrationsDir, schemaPath);
  return changed ? script : '';
}
