import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The child beside this module: TypeScript under tsx or vitest, JavaScript once built (dist/). */
const BUILT = import.meta.url.endsWith('.js');
const CHILD = fileURLToPath(new URL(`./fresh-data-dir-child.${BUILT ? 'js' : 'ts'}`, import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MIGRATIONS_DIR = path.join(ROOT, 'prisma', 'migrations');
/** Where migrated databases are kept to copy from (beside other tools' caches; `npm ci` clears it). */
export const TEMPLATE_CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'verdict');

/** Resident memory for the server's own embedded database (see EmbeddedOptions.sharedBuffers). */
export const SERVER_SHARED_BUFFERS = '8MB';

export interface CreatedDatabase {
  /** Migrations applied while creating it (those of the template, when copied from one). */
  applied: string[];
  /** 'existing': nothing to do; 'template': copied from the cache; 'initdb': made by a child process. */
  how: 'existing' | 'template' | 'initdb';
}

/**
 * A data directory without a database gets one, migrated, without the server process ever running
 * initdb: initdb's WASM heaps stay resident long after it finished (~150 MB), and initdb plus
 * every migration costs several seconds of CPU.
 * - From the template cache: a copy of a database made earlier by the same PGlite version with
 *   the same migrations (one directory copy, ~0.2 s).
 * - Else a child process runs initdb and the migrations in a directory of its own; the result is
 *   kept as the template for the next fresh data directory.
 * Either way the database is moved into place with one rename, so a crash midway leaves none.
 * The caller holds the data directory's lock.
 */
export async function createEmbeddedDatabaseIfMissing(dataDir: string): Promise<CreatedDatabase> {
  const pgdata = path.join(dataDir, 'pgdata');
  if (fs.existsSync(pgdata)) return { applied: [], how: 'existing' };
  const work = fs.mkdtempSync(path.join(dataDir, '.pgdata-new-'));
  try {
    const template = templatePath();
    let created: CreatedDatabase;
    if (fs.existsSync(path.join(template, 'pgdata', 'PG_VERSION'))) {
      fs.cpSync(path.join(template, 'pgdata'), path.join(work, 'pgdata'), { recursive: true });
      created = { applied: readApplied(template), how: 'template' };
    } else {
      created = { applied: await runChild(work), how: 'initdb' };
      saveTemplate(path.join(work, 'pgdata'), template, created.applied);
    }
    fs.renameSync(path.join(work, 'pgdata'), pgdata);
    return created;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Builds the template now if it is missing (e.g. at install time), so a first start is fast too. */
export async function prepareTemplate(): Promise<string> {
  const template = templatePath();
  if (fs.existsSync(path.join(template, 'pgdata', 'PG_VERSION'))) return template;
  fs.mkdirSync(TEMPLATE_CACHE_DIR, { recursive: true });
  const work = fs.mkdtempSync(path.join(TEMPLATE_CACHE_DIR, '.new-'));
  try {
    const applied = await runChild(work);
    saveTemplate(path.join(work, 'pgdata'), template, applied);
    return template;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The template's place: one per PGlite version and set of migrations (names and contents). */
function templatePath(): string {
  const hash = createHash('sha256').update(`pglite ${pgliteVersion()}\n`);
  const names = fs.existsSync(MIGRATIONS_DIR) ? fs.readdirSync(MIGRATIONS_DIR).sort() : [];
  for (const name of names) {
    const file = path.join(MIGRATIONS_DIR, name, 'migration.sql');
    if (fs.existsSync(file)) hash.update(`${name}\n`).update(fs.readFileSync(file));
  }
  return path.join(TEMPLATE_CACHE_DIR, `pgdata-${hash.digest('hex').slice(0, 16)}`);
}

function pgliteVersion(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

const readApplied = (template: string): string[] => {
  try {
    return JSON.parse(fs.readFileSync(path.join(template, 'applied.json'), 'utf8')) as string[];
  } catch {
    return [];
  }
};

/** Copies a fresh database into the cache (best effort: a read-only node_modules just means no cache). */
function saveTemplate(pgdata: string, template: string, applied: string[]): void {
  try {
    fs.mkdirSync(TEMPLATE_CACHE_DIR, { recursive: true });
    const staging = fs.mkdtempSync(path.join(TEMPLATE_CACHE_DIR, '.staging-'));
    try {
      fs.cpSync(pgdata, path.join(staging, 'pgdata'), { recursive: true });
      fs.writeFileSync(path.join(staging, 'applied.json'), JSON.stringify(applied));
      fs.renameSync(staging, template); // fails if another process saved one first: theirs is as good
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  } catch {
    // No cache this time.
  }
}

function runChild(work: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(BUILT ? [] : ['--import', import.meta.resolve('tsx')]), CHILD, work], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve((JSON.parse(stdout) as { applied: string[] }).applied);
      else reject(new Error(`Creating the embedded database failed (${signal ?? `exit ${code}`}):\n${stderr.trim()}`));
    });
  });
}
