import type { Logger } from 'pino';
import { createJudge, type Judge } from './ai/judge.js';
import { openChain, type Chain } from './chain/index.js';
import type { Config } from './config.js';
import type { AppDeps } from './context.js';
import type { Db } from './db.js';
import { createMailer } from './domain/mail.js';
import { createSealer, type SealingDeps } from './domain/sealing.js';
import { loadSessionKeys } from './domain/sessions.js';
import { createEvents } from './events.js';
import { allJobs, type JobDeps } from './jobs/index.js';
import { createScheduler, schedulesFromConfig } from './jobs/scheduler.js';
import { createMetrics } from './metrics.js';

export interface Runtime {
  deps: AppDeps;
  sealing: SealingDeps;
  judge: Judge;
  /** Stops background work and the chain; the database belongs to the caller. */
  close(): Promise<void>;
}

/** Everything a server needs around its database: chain, judge, events, sessions, jobs (not started). */
export async function startRuntime(
  config: Config,
  db: Db,
  log: Logger,
  /** `chain`: one opened already (e.g. while the database opened); the runtime closes it. */
  options: { inMemoryChain?: boolean; chain?: Chain } = {},
): Promise<Runtime> {
  const chain = options.chain ?? (await openChain(config, log, { inMemory: options.inMemoryChain ?? false }));
  if (config.DATABASE_URL) {
    // Servers sharing the database share the chain key: one send at a time across all of them,
    // under a transaction-scoped advisory lock (the embedded database has one server only).
    const key = `verdict:chain-send:${chain.chainId}:${chain.receiptSigner.toLowerCase()}`;
    chain.useSendLock((send) =>
      db.$transaction(
        async (tx) => {
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${key}))`;
          return send();
        },
        { maxWait: 4 * config.CHAIN_RPC_TIMEOUT_MS, timeout: 4 * config.CHAIN_RPC_TIMEOUT_MS },
      ),
    );
  }
  const judge = createJudge(config, log);
  const events = createEvents(config.REDIS_URL, { prefix: config.REDIS_PREFIX, log });
  const pubsub = events.pubsub;
  const sealing: SealingDeps = {
    db,
    chain,
    judge,
    pubsub,
    log,
    settings: { rewardPool: config.CASE_REWARD_POOL, durationHours: config.CASE_DURATION_HOURS, confirmations: config.CHAIN_CONFIRMATIONS },
  };
  const sealer = createSealer(sealing);
  const mailer = createMailer(config);
  const sessions = loadSessionKeys(config);
  const metrics = createMetrics(db);
  const scheduler = createScheduler<JobDeps>({
    db,
    log,
    jobs: allJobs,
    deps: { db, chain, log, pubsub, config, sealing, mailer, sessions },
    schedules: schedulesFromConfig(config),
    onRunFinished: (run) => {
      metrics.jobRun(run);
      pubsub.publish('jobCompleted', { runId: run.id });
    },
  });
  return {
    deps: { config, db, log, pubsub, chain, sealer, scheduler, sessions, mailer, metrics },
    sealing,
    judge,
    async close() {
      await scheduler.stop();
      await sealer.stop();
      mailer?.close();
      await chain.close();
      await events.close();
    },
  };
}
