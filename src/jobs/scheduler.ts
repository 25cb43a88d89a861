import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { Db } from '../db.js';
import { Prisma, type JobRun } from '../generated/prisma/client.js';
import { JOB_NAMES, type Job, type JobName, type JobRunContext } from './types.js';

export const JOB_ENV: Record<JobName, keyof Config> = {
  'case-generation': 'JOB_CASE_GENERATION',
  'case-closure': 'JOB_CASE_CLOSURE',
  'tx-monitor': 'JOB_TX_MONITOR',
  'verdict-check': 'JOB_VERDICT_CHECK',
  leaderboard: 'JOB_LEADERBOARD',
  badges: 'JOB_BADGES',
  'topic-scan': 'JOB_TOPIC_SCAN',
  analytics: 'JOB_ANALYTICS',
  cleanup: 'JOB_CLEANUP',
  notifications: 'JOB_NOTIFICATIONS',
};

/** Cron patterns from JOB_* variables: unset keeps the default, `off` disables the job. */
export function schedulesFromConfig(config: Config): Partial<Record<JobName, string>> {
  const schedules: Partial<Record<JobName, string>> = {};
  for (const name of JOB_NAMES) {
    const value = config[JOB_ENV[name]];
    if (typeof value === 'string') schedules[name] = value;
  }
  return schedules;
}

export interface SchedulerOptions<Deps> {
  db: Db;
  log: Logger;
  jobs: Job<Deps>[];
  deps: Deps;
  schedules?: Partial<Record<JobName, string>>;
  /** Names this server in job_locks; unique per process by default. */
  holder?: string;
  /** How long a claim lasts without renewal; renewed every third of it while the job runs. */
  leaseMs?: number;
  /** How long stop() waits for running jobs. */
  stopTimeoutMs?: number;
  /** Called after a run's record is committed. */
  onRunFinished?: (run: JobRun) => void;
}

export type RunOutcome = JobRun | { skipped: 'busy' };

/**
 * Runs jobs on their croner schedules or on demand. A run first claims the job's row in
 * job_locks (one statement, so two servers cannot both win), records itself in job_runs, and
 * releases the claim at the end; a crashed server's claim lapses with its lease.
 */
export function createScheduler<Deps>(options: SchedulerOptions<Deps>) {
  const { db, log, deps } = options;
  const holder = options.holder ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const leaseMs = options.leaseMs ?? 5 * 60_000;
  const jobs = new Map(options.jobs.map((job) => [job.name, job]));
  /** This server's runs in progress; `runId` once the run is recorded. */
  const running = new Map<JobName, { done: Promise<unknown>; abort: AbortController; runId?: string }>();
  const crons = new Map<JobName, Cron>();
  let stopped = false;

  const patternOf = (job: Job<Deps>) => {
    const configured = options.schedules?.[job.name];
    return configured === 'off' ? null : (configured ?? job.defaultSchedule);
  };
  for (const job of jobs.values()) {
    const pattern = patternOf(job);
    if (!pattern) continue;
    try {
      crons.set(
        job.name,
        new Cron(pattern, { paused: true, protect: true, catch: true }, async () => {
          await runNow(job.name, 'schedule');
        }),
      );
    } catch (error) {
      throw new Error(`Invalid schedule for job ${job.name} (${JOB_ENV[job.name]}="${pattern}"): ${(error as Error).message}`);
    }
  }

  const DIED = 'abandoned: the server running it died or lost the database before the run ended';
  /** Records ABANDONED (by this server, with `why`) the RUNNING runs that `which` selects from job_runs r. */
  const abandonRuns = (which: Prisma.Sql, why: string) =>
    db.$executeRaw`UPDATE job_runs r SET status = 'ABANDONED', finished_at = now(), abandoned_by = ${holder}, error = ${why}
      WHERE r.status = 'RUNNING' AND ${which}`;

  async function claim(name: JobName): Promise<boolean> {
    const rows = await db.$queryRaw<{ holder: string }[]>`
      INSERT INTO job_locks (job, holder, locked_until)
      VALUES (${name}, ${holder}, now() + ${leaseMs} * interval '1 millisecond')
      ON CONFLICT (job) DO UPDATE SET holder = EXCLUDED.holder, locked_until = EXCLUDED.locked_until
      WHERE job_locks.locked_until < now() OR job_locks.holder = EXCLUDED.holder
      RETURNING holder`;
    if (rows.length !== 1) return false;
    // The claim was free, lapsed, or ours (this server runs a job once at a time, so a claim of
    // ours left over is from a run that lost the database before it could let go): any run
    // still RUNNING is dead, on another server or here.
    await abandonRuns(Prisma.sql`r.job = ${name}`, DIED);
    return true;
  }

  /**
   * Records ABANDONED every run still RUNNING whose job nobody holds a live claim on: its server
   * died (or lost the database) mid-run. claim() does it for its own job; this, at start, does it
   * for every job, so a restarted server leaves none RUNNING even of jobs it does not run soon.
   */
  const abandonDeadRuns = () =>
    abandonRuns(Prisma.sql`NOT EXISTS (SELECT 1 FROM job_locks l WHERE l.job = r.job AND l.locked_until >= now())`, DIED);

  const renew = (name: JobName) =>
    db.$executeRaw`UPDATE job_locks SET locked_until = now() + ${leaseMs} * interval '1 millisecond'
      WHERE job = ${name} AND holder = ${holder}`;
  const release = (name: JobName) => db.$executeRaw`DELETE FROM job_locks WHERE job = ${name} AND holder = ${holder}`;

  async function execute(job: Job<Deps>, trigger: JobRunContext['trigger'], entry: { abort: AbortController; runId?: string }): Promise<RunOutcome> {
    if (!(await claim(job.name))) return { skipped: 'busy' };
    const heartbeat = setInterval(() => void renew(job.name).catch(() => undefined), leaseMs / 3);
    try {
      const record = await db.jobRun.create({ data: { job: job.name, trigger, holder } });
      entry.runId = record.id;
      let end: Prisma.JobRunUpdateInput;
      try {
        const result = await job.run(deps, { now: new Date(), runId: record.id, signal: entry.abort.signal, trigger });
        // A run that got nothing done (every item failed: a dependency is down) failed.
        const error =
          result.error ?? (result.failures > 0 && result.successes === 0 ? `every item failed (${result.failures} of ${result.items}); see the result` : undefined);
        end = {
          status: error ? 'FAILED' : 'SUCCEEDED',
          error: error ?? null,
          finishedAt: new Date(),
          items: result.items,
          successes: result.successes,
          failures: result.failures,
          result: (result.summary ?? undefined) as never,
        };
        if (error) log.error({ job: job.name, error }, 'job run found a problem');
      } catch (error) {
        log.error({ err: error, job: job.name }, 'job failed');
        end = { status: 'FAILED', finishedAt: new Date(), error: error instanceof Error ? error.message : String(error) };
      }
      const finished = await recordEnd(job.name, record.id, end, entry.abort.signal);
      log.info({ job: job.name, status: finished.status, items: finished.items, failures: finished.failures }, 'job run finished');
      options.onRunFinished?.(finished);
      return finished;
    } finally {
      clearInterval(heartbeat);
      await release(job.name).catch(() => undefined);
    }
  }

  /**
   * Writes how a run ended. When the database cannot be reached (the run itself may have lost it),
   * tries again, 1 s then up to 15 s apart, until written; once the scheduler stops, one last try.
   * A run whose end is never written stays RUNNING until the job's next claim abandons it.
   */
  async function recordEnd(name: JobName, runId: string, end: Prisma.JobRunUpdateInput, stopping: AbortSignal): Promise<JobRun> {
    for (let delay = 1000; ; delay = Math.min(delay * 2, 15_000)) {
      const lastTry = stopping.aborted;
      try {
        return await db.jobRun.update({ where: { id: runId }, data: end });
      } catch (error) {
        if (lastTry) throw error;
        log.warn({ err: error, job: name, runId, retryInMs: delay }, 'could not record the end of a job run; trying again');
        await sleep(delay, undefined, { signal: stopping }).catch(() => undefined);
      }
    }
  }

  /** Runs a job now unless it is already running here or on another server. */
  async function runNow(name: JobName, trigger: JobRunContext['trigger'] = 'manual'): Promise<RunOutcome> {
    const job = jobs.get(name);
    if (!job) throw new AppError('NOT_FOUND', `The job ${name} is not available on this server`);
    if (stopped || running.has(name)) return { skipped: 'busy' };
    const entry: { done?: Promise<RunOutcome>; abort: AbortController; runId?: string } = { abort: new AbortController() };
    const done = execute(job, trigger, entry);
    running.set(name, Object.assign(entry, { done }));
    try {
      return await done;
    } finally {
      running.delete(name);
    }
  }

  return {
    holder,
    runNow,
    /** Starts the schedules; resolves once the runs of dead servers are recorded ABANDONED. */
    async start() {
      for (const cron of crons.values()) cron.resume();
      await abandonDeadRuns().catch((error: unknown) => log.warn({ err: error }, 'could not look for job runs of dead servers; each job\'s next claim will'));
    },
    /**
     * Stops the schedules and waits (bounded) for running jobs. Runs still going when the wait
     * ends are recorded ABANDONED, so a stopped server leaves no run RUNNING.
     */
    async stop() {
      stopped = true;
      for (const cron of crons.values()) cron.stop();
      const waiting = [...running.values()];
      for (const { abort } of waiting) abort.abort();
      const ended = Promise.allSettled(waiting.map((r) => r.done)).then(() => true);
      const timedOut = new Promise<false>((resolve) => setTimeout(() => resolve(false), options.stopTimeoutMs ?? 10_000).unref());
      if (await Promise.race([ended, timedOut])) return;
      const unfinished = [...running.values()].flatMap((r) => (r.runId ? [r.runId] : []));
      if (unfinished.length === 0) return;
      log.warn({ runs: unfinished }, 'stopping with job runs still going; recording them abandoned');
      await abandonRuns(Prisma.sql`r.id = ANY(${unfinished}::uuid[])`, 'abandoned: the server stopped before the run ended').catch((error: unknown) =>
        log.warn({ err: error, runs: unfinished }, 'could not record the unfinished job runs; the next claim will'),
      );
    },
    async describe() {
      return Promise.all(
        [...jobs.values()].map(async (job) => ({
          name: job.name,
          schedule: patternOf(job),
          running: running.has(job.name),
          nextRunAt: crons.get(job.name)?.nextRun() ?? null,
          lastRun: await db.jobRun.findFirst({ where: { job: job.name }, orderBy: { startedAt: 'desc' } }),
        })),
      );
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
