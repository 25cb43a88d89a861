import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type ErrorRegistry,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
  type SqlQueryable,
  type SqlResultSet,
} from '@prisma/driver-adapter-utils';
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import type pg from 'pg';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded.js';

export type { SchemaEngine };

/**
 * The native schema engine (behind `prisma migrate`) cannot be downloaded here; the WASM build
 * can run migrations through a JS driver adapter. Its package entry imports the .wasm file as an
 * ES module, which Node cannot do, so the module is instantiated by hand around the glue code.
 */
let loaded = false;
function loadWasm(): void {
  if (loaded) return;
  // The glue writes Rust panic messages into this global, so it must exist before any call.
  const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { message: string; set_message(m: string): void } };
  g.PRISMA_WASM_PANIC_REGISTRY ??= {
    message: '',
    set_message(m: string) {
      this.message = `RuntimeError: ${m}`;
    },
  };
  // The .wasm file is not in the package's exports: find it beside the exported glue.
  const gluePath = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const wasmPath = path.join(path.dirname(gluePath), 'schema_engine_bg.wasm');
  const module = new WebAssembly.Module(fs.readFileSync(wasmPath));
  const instance = new WebAssembly.Instance(module, { './schema_engine_bg.js': glue as unknown as WebAssembly.ModuleImports });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  loaded = true;
}

const CHAR_OID = 18;
const TEXT_OID = 25;

type PgQueryableInternals = { performIO(query: SqlQuery): Promise<pg.QueryArrayResult> };

/**
 * adapter-pg rejects catalog columns of type `"char"` (OID 18, e.g. pg_constraint.contype) that
 * the engine reads. Report them as Character: as Text the engine panics on PostgreSQL 18's NOT
 * NULL constraints (contype 'n'). The SqlQuery object travels from queryRaw to performIO, so it
 * keys which columns were `"char"`.
 */
function reportCharColumns<T extends SqlQueryable>(queryable: T): T {
  const internals = queryable as unknown as PgQueryableInternals;
  const performIO = internals.performIO.bind(queryable);
  const queryRaw = queryable.queryRaw.bind(queryable);
  const charColumns = new WeakMap<SqlQuery, number[]>();
  internals.performIO = async (query) => {
    const result = await performIO(query);
    // A multi-statement script (see executeScriptWhole) yields an array of results: no columns.
    if (Array.isArray(result)) return result;
    const columns: number[] = [];
    result.fields.forEach((field, i) => {
      if (field.dataTypeID === CHAR_OID) {
        field.dataTypeID = TEXT_OID;
        columns.push(i);
      }
    });
    charColumns.set(query, columns);
    return result;
  };
  queryable.queryRaw = async (query: SqlQuery): Promise<SqlResultSet> => {
    const result = await queryRaw(query);
    for (const i of charColumns.get(query) ?? []) result.columnTypes[i] = ColumnTypeEnum.Character;
    return result;
  };
  return queryable;
}

/**
 * adapter-pg's executeScript splits the script on every `;` (breaking strings and function
 * bodies) and runs the pieces one by one. Send it whole as one simple query instead, as the
 * native engine does: PostgreSQL runs a multi-statement simple query as one transaction, so a
 * failing migration leaves nothing half-applied.
 */
function executeScriptWhole(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const executeRaw = adapter.executeRaw.bind(adapter);
  adapter.executeScript = async (script: string) => {
    // Through executeRaw so driver errors come back as the adapter's own error type.
    await executeRaw({ sql: script, args: [], argTypes: [] });
  };
  return adapter;
}

async function connectAdapter(poolConfig: pg.PoolConfig, onDispose?: () => Promise<void>): Promise<SqlDriverAdapter> {
  const adapter = await new PrismaPg(poolConfig).connect();
  reportCharColumns(adapter);
  executeScriptWhole(adapter);
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => reportCharColumns(await startTransaction(isolationLevel));
  // The engine may or may not dispose what it opened; closing twice must be harmless.
  const dispose = adapter.dispose.bind(adapter);
  let disposing: Promise<void> | undefined;
  adapter.dispose = () =>
    (disposing ??= (async () => {
      try {
        await dispose();
      } finally {
        await onDispose?.();
      }
    })());
  return adapter;
}

async function connectThrowaway(): Promise<SqlDriverAdapter> {
  const db = await throwawayPostgres();
  try {
    return await connectAdapter(db.poolConfig, db.stop);
  } catch (err) {
    await db.stop();
    throw err;
  }
}

/**
 * Main database: the given pool config, or a throwaway for pure diffs. Shadow database: always a
 * throwaway in-memory PGlite. adapter-pg's own connectToShadowDb connects to the main database
 * when built from a URL, and PGlite's socket ignores database names anyway.
 */
function adapterFactory(poolConfig: pg.PoolConfig | undefined) {
  const open = new Set<SqlDriverAdapter>();
  const track = (adapter: SqlDriverAdapter) => (open.add(adapter), adapter);
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: async () => {
      // Diff commands never change the main database, but the engine probes it on start.
      if (!poolConfig) return track(await connectThrowaway());
      return track(await connectAdapter(poolConfig));
    },
    connectToShadowDb: async () => track(await connectThrowaway()),
  };
  // The embedded server takes one connection: release ours before anyone else connects.
  const closeAll = async () => {
    await Promise.all([...open].map((a) => a.dispose()));
    open.clear();
  };
  return { factory, closeAll };
}

/**
 * Throwaway in-memory databases for the engine. initdb costs ≈ 3 s (5 s with the first WASM
 * compile); loading a dump of a pristine cluster ≈ 0.8 s, so keep one dump per process.
 */
let pristineCluster: Promise<Blob> | undefined;
async function throwawayPostgres(): Promise<EmbeddedPostgres> {
  if (pristineCluster) return startEmbeddedPostgres({ loadDataDir: await pristineCluster });
  const db = await startEmbeddedPostgres({});
  pristineCluster = db.pglite.dumpDataDir('none');
  pristineCluster.catch(() => (pristineCluster = undefined));
  await pristineCluster;
  return db;
}

export interface EngineOptions {
  /** The database to migrate; omit for commands that only diff (they use a shadow database). */
  poolConfig?: pg.PoolConfig;
  /** Prisma schema files as [path, content]. */
  datamodels?: [string, string][];
}

/** An error from the engine, with Prisma's error code (e.g. P3009, P3018) when it has one. */
export class SchemaEngineError extends Error {
  override name = 'SchemaEngineError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

function toEngineError(err: unknown, registry: ErrorRegistry): SchemaEngineError {
  const e = err as { message?: unknown; code?: unknown } | undefined;
  let message = typeof e?.message === 'string' ? e.message : String(err);
  // Errors thrown by our adapter code reach us only as an id into the factory's registry.
  message = message.replace(/External error id#(\d+)/g, (text, id: string) => {
    const cause = registry.consumeError(Number(id))?.error as { message?: string } | undefined;
    return cause?.message ?? text;
  });
  const panic = (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { message: string } }).PRISMA_WASM_PANIC_REGISTRY;
  if (err instanceof WebAssembly.RuntimeError && panic?.message) message = `${panic.message}\n${message}`;
  return new SchemaEngineError(message, typeof e?.code === 'string' ? e.code : undefined);
}

/** Runs `fn` with a fresh engine and frees it afterwards; engine errors become SchemaEngineError. */
export async function withSchemaEngine<T>(opts: EngineOptions, fn: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  loadWasm();
  const log = (line: string) => {
    if (process.env.DEBUG_SCHEMA_ENGINE) process.stderr.write(`[schema-engine] ${line}\n`);
  };
  const { factory, closeAll } = adapterFactory(opts.poolConfig);
  const bound = bindMigrationAwareSqlAdapterFactory(factory);
  let engine: SchemaEngine | undefined;
  try {
    engine = await glue.SchemaEngine.new({ datamodels: opts.datamodels }, log, bound);
    return await fn(engine);
  } catch (err) {
    throw toEngineError(err, bound.errorRegistry);
  } finally {
    engine?.free();
    await closeAll();
  }
}
