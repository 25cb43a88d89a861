import pino from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db.js';
import { DataDirLockedError } from './db/embedded.js';
import { startRuntime } from './runtime.js';

const SHUTDOWN_GRACE_MS = 10_000;

async function main() {
  const config = loadConfig();
  const log = pino({ level: config.LOG_LEVEL });
  const database = await openDatabase(config, log);
  const runtime = await startRuntime(config, database.db, log);
  const app = buildApp(runtime.deps);
  const port = await app.start(config.PORT, config.HOST);
  runtime.deps.scheduler.start();
  // A fresh server has nothing to vote on for up to 12 hours: write the first case now.
  if ((await database.db.case.count({ where: { status: { in: ['OPEN', 'PENDING'] } } })) === 0) {
    void runtime.deps.scheduler.runNow('case-generation', 'schedule').catch((error: unknown) => log.warn({ err: error }, 'first case failed'));
  }
  log.info({ port, database: database.embedded ? 'embedded' : 'server' }, 'Verdict is listening');
  console.log(`GraphiQL: http://localhost:${port}${config.GRAPHQL_PATH}`);
  console.log(`Live page: http://localhost:${port}/live`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    await app.stop();
    await runtime.close();
    await database.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DataDirLockedError) {
    console.error(error.message);
  } else {
    console.error('Verdict failed to start:', error);
  }
  process.exit(1);
});
