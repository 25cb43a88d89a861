import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { loggerOptions } from '../../src/log.js';
import { startRuntime } from '../../src/runtime.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface GqlOptions {
  token?: string | undefined;
  headers?: Record<string, string>;
}

/** The whole server on a fresh database, spoken to through yoga.fetch (no port) or start(). */
export interface TestAppOptions {
  /** Sees every SQL statement the app sends. */
  onQuery?: (sql: string) => void;
  /** Receives the app's log lines (JSON), at LOG_LEVEL (default info). */
  logStream?: { write(line: string): void };
  /** A database made by the test itself (closed with the app); default: createTestDatabase(). */
  database?: TestDatabase;
}

export async function createTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}) {
  const database = options.database ?? (await createTestDatabase({ onQuery: options.onQuery }));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-test-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    SESSION_SECRET: 'test-secret-that-is-long-enough',
    RATE_LIMIT_MUTATIONS_PER_MINUTE: '100000',
    RATE_LIMIT_SIGN_IN_PER_MINUTE: '100000',
    ...env,
  });
  const log = options.logStream ? pino(loggerOptions(env.LOG_LEVEL ?? 'info'), options.logStream) : pino({ level: 'silent' });
  const runtime = await startRuntime(config, database.prisma, log, { inMemoryChain: true });
  const app = buildApp(runtime.deps);
  const { pubsub, sessions, chain, scheduler } = runtime.deps;

  async function gql<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables?: TVariables,
    options: GqlOptions = {},
  ): Promise<ExecutionResult<TResult>> {
    const response = await app.yoga.fetch(`http://verdict.test${config.GRAPHQL_PATH}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      body: JSON.stringify({ query: print(document), variables }),
    });
    return (await response.json()) as ExecutionResult<TResult>;
  }

  /** A document written as text (no codegen), POSTed; the whole JSON answer (data and errors). */
  async function query(text: string, token?: string) {
    const response = await app.yoga.fetch(`http://verdict.test${config.GRAPHQL_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: text }),
    });
    // Untyped, as tests read whatever they asked for.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return (await response.json()) as any;
  }

  return {
    app,
    db: database.prisma,
    query,
    embedded: database.embedded,
    config,
    pubsub,
    sessions,
    chain,
    scheduler,
    sealing: runtime.sealing,
    /** What buildApp was given (to build another app on the same runtime). */
    runtimeDeps: runtime.deps,
    gql,
    async close() {
      await app.stop();
      await runtime.close();
      await database.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/** The code of the first error, for assertions. */
export const errorCode = (result: ExecutionResult) => result.errors?.[0]?.extensions?.code;
