// `npm start`. The port opens first (only the configuration and the HTTP front are loaded before
// it), so /healthz answers within a second; the database (and its migrations), the chain and the
// app's modules then load side by side, and /readyz turns 200 once the first case exists too.
import type { App } from './app.js';
import type { Chain } from './chain/index.js';
import { ConfigError, loadConfig } from './config.js';
import type { Database } from './db.js';
import { listenEarly } from './http/front.js';
import { createLogger } from './log.js';
import type { Runtime } from './runtime.js';

const SHUTDOWN_GRACE_MS = 10_000;

async function main() {
  const config = loadConfig();
  const log = createLogger(config);
  const front = await listenEarly(config.PORT, config.HOST);
  console.log(`GraphiQL: http://localhost:${front.port}${config.GRAPHQL_PATH}`);
  console.log(`Live page: http://localhost:${front.port}/live`);

  // What is open so far; shutdown closes it in reverse order of opening.
  let database: Database | undefined;
  let chain: Chain | undefined;
  let runtime: Runtime | undefined;
  let app: App | undefined;
  let closeControl: (() => Promise<void>) | undefined;
  let opened: Promise<unknown> = Promise.resolve();

  let stopping = false;
  const shutdown = async (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    await opened.catch(() => undefined); // what is still opening is closed too
    const steps = [
      () => (app ? app.stop() : front.close()),
      () => closeControl?.(),
      () => (runtime ? runtime.close() : chain?.close()), // the runtime owns the chain once made
      () => database?.close(),
    ];
    for (const step of steps) await Promise.resolve(step()).catch((error: unknown) => log.error({ err: error }, 'error while shutting down'));
    log.info('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  // Start-up timeline at LOG_LEVEL=debug: milliseconds since the process started.
  const done = (part: string) => <T>(value: T) => {
    log.debug({ part, ms: Math.round(performance.now()) }, 'start-up step done');
    return value;
  };
  try {
    done('listening')(0);
    const [{ openDatabase }, { openChain }] = await Promise.all([import('./db.js'), import('./chain/index.js')]);
    // The slow parts side by side: the database (a fresh one comes from a template or a child
    // process), the chain (the dev chain deploys its contracts on first start), the app's modules.
    // The dev chain lives in DATA_DIR too: it starts once the data directory is ours.
    let dataDirLocked!: () => void;
    const locked = new Promise<void>((resolve) => (dataDirLocked = resolve));
    const openingDatabase = openDatabase(config, log, { onDataDirLocked: () => dataDirLocked() });
    const parts = [
      openingDatabase.then((d) => (database = d)).then(done('database')),
      Promise.race([locked, openingDatabase]).then(() => openChain(config, log).then((c) => (chain = c))).then(done('chain')),
      import('./runtime.js').then(done('runtime module')),
      import('./app.js').then(done('app module')),
      import('./control.js'),
    ] as const;
    opened = Promise.allSettled(parts);
    const [, , { startRuntime }, { buildApp }, { startControlSocket }] = await Promise.all(parts);
    if (stopping) return;
    runtime = await startRuntime(config, database!.db, log, { chain });
    // `npm run job` on this DATA_DIR asks this server (see control.ts).
    closeControl = await startControlSocket(config.DATA_DIR, runtime.deps.scheduler, log);

    // A fresh server has nothing to vote on for up to 12 hours: the first case is written before
    // the server says it is ready.
    if ((await database!.db.case.count({ where: { status: { in: ['OPEN', 'PENDING'] } } })) === 0) {
      await runtime.deps.scheduler.runNow('case-generation', 'schedule').catch((error: unknown) => log.warn({ err: error }, 'first case failed'));
    }
    if (stopping) return;
    done('first case')(0);

    // Both in the same tick: no request falls between the front's handlers and the app's.
    app = buildApp(runtime.deps, { server: front.server });
    front.handOver();
    const metricsPort = await app.startMetrics();
    if (metricsPort !== null) log.info({ port: metricsPort, host: config.METRICS_HOST }, 'metrics served on their own port');
    void runtime.deps.scheduler.start(); // never rejects; resolves after its look for dead runs
    log.info({ port: front.port, database: database!.embedded ? 'embedded' : 'server' }, 'Verdict is ready');
  } catch (error) {
    reportStartFailure(error);
    await shutdown('start-up failed', 1);
  }
}

function reportStartFailure(error: unknown) {
  // DataDirLockedError by name: importing its module here would load PGlite before the port opens.
  if (error instanceof ConfigError || (error instanceof Error && error.name === 'DataDirLockedError')) {
    console.error(error.message);
  } else {
    console.error('Verdict failed to start:', error);
  }
}

main().catch((error: unknown) => {
  reportStartFailure(error);
  process.exit(1);
});
