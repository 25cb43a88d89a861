import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '../src/db.js';
import { deployMigrations } from '../src/db/migrations.js';
import { createScheduler, schedulesFromConfig } from '../src/jobs/scheduler.js';
import type { Job, JobName } from '../src/jobs/types.js';
import { loadConfig } from '../src/config.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { postgresServerUrl } from './support/env.js';
import { adminQuery, databaseUrl } from './support/pg-admin.js';

const log = pino({ level: 'silent' });
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

/** A job whose runs the test controls: each run waits until released. */
function controlledJob(name: JobName, body: () => Promise<{ items: number; successes: number; failures: number; summary?: Record<string, unknown> }>): Job<unknown> {
  return { name, defaultSchedule: '0 0 * * * *', run: () => body() };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const scheduler = (db: Db, jobs: Job<unknown>[], extra: Partial<Parameters<typeof createScheduler>[0]> = {}) =>
  createScheduler({ db, log, jobs, deps: {}, ...extra });

describe('a job run', () => {
  it('is recorded with its counts and summary, and announced after the record is written', async () => {
    const announced: string[] = [];
    const s = scheduler(database.prisma, [controlledJob('leaderboard', async () => ({ items: 3, successes: 2, failures: 1, summary: { periods: 3 } }))], {
      onRunFinished: (run) => announced.push(run.id),
    });
    const run = await s.runNow('leaderboard');
    expect(run).toMatchObject({ job: 'leaderboard', status: 'SUCCEEDED', items: 3, successes: 2, failures: 1, result: { periods: 3 }, trigger: 'manual' });
    if ('skipped' in run) throw new Error('unexpected');
    expect(run.finishedAt).not.toBeNull();
    expect(announced).toEqual([run.id]);
    expect(await database.prisma.jobRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: 'SUCCEEDED' });
    expect(await database.prisma.jobLock.count()).toBe(0);
  });

  it('records a failure and keeps the scheduler working', async () => {
    let fail = true;
    const s = scheduler(database.prisma, [
      controlledJob('badges', async () => {
        if (fail) throw new Error('badge table on fire');
        return { items: 1, successes: 1, failures: 0 };
      }),
    ]);
    expect(await s.runNow('badges')).toMatchObject({ status: 'FAILED', error: 'badge table on fire' });
    fail = false;
    expect(await s.runNow('badges')).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('never overlaps with itself', async () => {
    const gate = deferred();
    let calls = 0;
    const s = scheduler(database.prisma, [
      controlledJob('tx-monitor', async () => {
        calls += 1;
        await gate.promise;
        return { items: 0, successes: 0, failures: 0 };
      }),
    ]);
    const first = s.runNow('tx-monitor');
    await waitFor(() => calls === 1);
    expect(await s.runNow('tx-monitor')).toEqual({ skipped: 'busy' });
    gate.resolve();
    expect(await first).toMatchObject({ status: 'SUCCEEDED' });
    expect(calls).toBe(1);
  });

  it('is skipped while another server holds the claim, and takes over a lapsed one', async () => {
    const s = scheduler(database.prisma, [controlledJob('case-closure', async () => ({ items: 0, successes: 0, failures: 0 }))]);
    await database.prisma.jobLock.create({ data: { job: 'case-closure', holder: 'other-server', lockedUntil: new Date(Date.now() + 60_000) } });
    expect(await s.runNow('case-closure')).toEqual({ skipped: 'busy' });
    await database.prisma.jobLock.update({ where: { job: 'case-closure' }, data: { lockedUntil: new Date(Date.now() - 1000) } });
    expect(await s.runNow('case-closure')).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('marks ABANDONED, with when and by whom, a run whose server died holding the claim', async () => {
    // What a SIGKILL leaves: a RUNNING record and a claim that is no longer renewed.
    const dead = await database.prisma.jobRun.create({ data: { job: 'badges', trigger: 'schedule', holder: 'dead-server:1:abc' } });
    await database.prisma.jobLock.create({ data: { job: 'badges', holder: 'dead-server:1:abc', lockedUntil: new Date(Date.now() - 1000) } });
    const s = scheduler(database.prisma, [controlledJob('badges', async () => ({ items: 0, successes: 0, failures: 0 }))], { holder: 'next-server:2:def' });
    const before = new Date();
    expect(await s.runNow('badges')).toMatchObject({ status: 'SUCCEEDED', holder: 'next-server:2:def' });
    const abandoned = await database.prisma.jobRun.findUniqueOrThrow({ where: { id: dead.id } });
    expect(abandoned).toMatchObject({ status: 'ABANDONED', abandonedBy: 'next-server:2:def' });
    expect(abandoned.finishedAt!.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    expect(abandoned.error).toMatch(/died or lost the database/);
  });

  it('takes back at once its own claim left by a run that lost the database, and abandons that run', async () => {
    const s = scheduler(database.prisma, [controlledJob('leaderboard', async () => ({ items: 0, successes: 0, failures: 0 }))], { holder: 'this-server:3:aaa' });
    // What a database outage mid-run leaves: the record never finished, the claim never let go.
    const lost = await database.prisma.jobRun.create({ data: { job: 'leaderboard', trigger: 'schedule', holder: 'this-server:3:aaa' } });
    await database.prisma.jobLock.create({ data: { job: 'leaderboard', holder: 'this-server:3:aaa', lockedUntil: new Date(Date.now() + 300_000) } });
    expect(await s.runNow('leaderboard')).toMatchObject({ status: 'SUCCEEDED' });
    expect(await database.prisma.jobRun.findUniqueOrThrow({ where: { id: lost.id } })).toMatchObject({ status: 'ABANDONED', abandonedBy: 'this-server:3:aaa' });
  });

  it('records ABANDONED at start the runs of dead servers, of any job, and leaves those under a live claim', async () => {
    const dead = await database.prisma.jobRun.create({ data: { job: 'cleanup', trigger: 'schedule', holder: 'killed-server:5:ccc' } });
    const lapsed = await database.prisma.jobRun.create({ data: { job: 'analytics', trigger: 'schedule', holder: 'killed-server:5:ccc' } });
    await database.prisma.jobLock.create({ data: { job: 'analytics', holder: 'killed-server:5:ccc', lockedUntil: new Date(Date.now() - 1000) } });
    const live = await database.prisma.jobRun.create({ data: { job: 'topic-scan', trigger: 'schedule', holder: 'live-server:6:ddd' } });
    await database.prisma.jobLock.create({ data: { job: 'topic-scan', holder: 'live-server:6:ddd', lockedUntil: new Date(Date.now() + 300_000) } });
    // This server runs none of those jobs: it still looks, once, as it starts.
    const s = scheduler(database.prisma, [controlledJob('leaderboard', async () => ({ items: 0, successes: 0, failures: 0 }))], { holder: 'restarted:7:eee' });
    await s.start();
    await s.stop();
    const status = async (id: string) => (await database.prisma.jobRun.findUniqueOrThrow({ where: { id } })).status;
    expect(await database.prisma.jobRun.findUniqueOrThrow({ where: { id: dead.id } })).toMatchObject({ status: 'ABANDONED', abandonedBy: 'restarted:7:eee' });
    expect(await status(lapsed.id)).toBe('ABANDONED');
    expect(await status(live.id)).toBe('RUNNING');
    await database.prisma.jobLock.deleteMany({ where: { holder: { in: ['killed-server:5:ccc', 'live-server:6:ddd'] } } });
    await database.prisma.jobRun.deleteMany({ where: { id: { in: [dead.id, lapsed.id, live.id] } } });
  });

  it('records FAILED a run in which every item failed (a dependency down), SUCCEEDED one in which some did', async () => {
    const s = scheduler(database.prisma, [
      controlledJob('tx-monitor', async () => ({ items: 3, successes: 0, failures: 3 })),
      controlledJob('case-closure', async () => ({ items: 3, successes: 1, failures: 2 })),
    ]);
    expect(await s.runNow('tx-monitor')).toMatchObject({ status: 'FAILED', error: 'every item failed (3 of 3); see the result' });
    expect(await s.runNow('case-closure')).toMatchObject({ status: 'SUCCEEDED', failures: 2 });
  });

  it('makes stop() wait for a running job', async () => {
    const gate = deferred();
    let started = false;
    const s = scheduler(database.prisma, [
      controlledJob('verdict-check', async () => {
        started = true;
        await gate.promise;
        return { items: 1, successes: 1, failures: 0 };
      }),
    ]);
    const run = s.runNow('verdict-check');
    await waitFor(() => started);
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(await run).toMatchObject({ status: 'SUCCEEDED' });
    expect(await s.runNow('verdict-check')).toEqual({ skipped: 'busy' });
  });

  it('records the end of a run once the database answers again, and never leaves it RUNNING', async () => {
    // The run's last write fails as it does while PostgreSQL is unreachable; the next one works.
    let refusals = 1;
    const flaky = database.prisma.$extends({
      query: {
        jobRun: {
          update({ args, query }) {
            if (refusals-- > 0) return Promise.reject(new Error("Can't reach database server at 127.0.0.1:5432"));
            return query(args);
          },
        },
      },
    }) as unknown as Db;
    const announced: string[] = [];
    const s = scheduler(flaky, [controlledJob('analytics', async () => ({ items: 2, successes: 2, failures: 0 }))], { onRunFinished: (run) => announced.push(run.status) });
    const run = await s.runNow('analytics');
    expect(run).toMatchObject({ status: 'SUCCEEDED', items: 2 });
    if ('skipped' in run) throw new Error('unexpected');
    expect(refusals).toBe(-1); // refused once, then written
    expect(announced).toEqual(['SUCCEEDED']);
    expect(await database.prisma.jobRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ status: 'SUCCEEDED', items: 2 });
  });

  it('makes stop() record ABANDONED a run still going when its bounded wait ends', async () => {
    const gate = deferred();
    let runId: string | undefined;
    const s = scheduler(database.prisma, [
      { name: 'topic-scan', defaultSchedule: '0 0 * * * *', run: async (_deps, context) => ((runId = context.runId), await gate.promise, { items: 0, successes: 0, failures: 0 }) },
    ], { stopTimeoutMs: 100, holder: 'stopping-server:4:bbb' });
    const run = s.runNow('topic-scan');
    await waitFor(() => runId !== undefined);
    await s.stop();
    expect(await database.prisma.jobRun.findUniqueOrThrow({ where: { id: runId! } })).toMatchObject({
      status: 'ABANDONED',
      abandonedBy: 'stopping-server:4:bbb',
      error: 'abandoned: the server stopped before the run ended',
    });
    // The run itself ends later; what it did is still recorded.
    gate.resolve();
    expect(await run).toMatchObject({ status: 'SUCCEEDED' });
  });
});

describe('schedules', () => {
  it('come from JOB_* settings: defaults, overrides and off', async () => {
    const config = loadConfig({ JOB_LEADERBOARD: '*/10 * * * * *', JOB_BADGES: 'off' });
    const s = scheduler(
      database.prisma,
      [controlledJob('leaderboard', async () => ({ items: 0, successes: 0, failures: 0 })), controlledJob('badges', async () => ({ items: 0, successes: 0, failures: 0 })), controlledJob('case-generation', async () => ({ items: 0, successes: 0, failures: 0 }))],
      { schedules: schedulesFromConfig(config) },
    );
    void s.start();
    try {
      const jobs = await s.describe();
      const byName = Object.fromEntries(jobs.map((j) => [j.name, j]));
      expect(byName.leaderboard).toMatchObject({ schedule: '*/10 * * * * *', running: false });
      expect(byName.leaderboard!.nextRunAt!.getTime() - Date.now()).toBeLessThanOrEqual(10_000);
      expect(byName.badges).toMatchObject({ schedule: null, nextRunAt: null });
      expect(byName['case-generation']!.schedule).toBe('0 0 * * * *');
      expect(byName['case-generation']!.nextRunAt).toBeInstanceOf(Date);
    } finally {
      await s.stop();
    }
  });

  it('refuse an invalid pattern, naming the job and its variable', () => {
    expect(() =>
      scheduler(database.prisma, [controlledJob('case-closure', async () => ({ items: 0, successes: 0, failures: 0 }))], { schedules: { 'case-closure': 'every now and then' } }),
    ).toThrow(/case-closure.*JOB_CASE_CLOSURE/);
  });
});

describe.skipIf(!postgresServerUrl)('two servers on one PostgreSQL database (skipped: set TEST_DATABASE_URL)', () => {
  it('never run the same job at the same time', async () => {
    const url = postgresServerUrl!;
    const name = `verdict_sched_${randomBytes(4).toString('hex')}`;
    await adminQuery(url, `CREATE DATABASE "${name}"`);
    const poolConfig = { connectionString: databaseUrl(url, name) };
    const clients = [createPrismaClient(poolConfig, { embedded: false }), createPrismaClient(poolConfig, { embedded: false })];
    try {
      await deployMigrations(poolConfig);
      let active = 0;
      let maxActive = 0;
      let bodies = 0;
      const slowJob = controlledJob('leaderboard', async () => {
        active += 1;
        bodies += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 20));
        active -= 1;
        return { items: 1, successes: 1, failures: 0 };
      });
      const servers = clients.map((db, i) => scheduler(db, [slowJob], { holder: `server-${i}` }));
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          await new Promise((r) => setTimeout(r, (i % 15) * 15));
          return servers[i % 2]!.runNow('leaderboard');
        }),
      );
      const ran = outcomes.filter((o) => !('skipped' in o));
      expect(maxActive).toBe(1);
      expect(ran.length).toBe(bodies);
      expect(ran.length).toBeGreaterThan(1);
      expect(await clients[0]!.jobRun.count({ where: { job: 'leaderboard', status: 'SUCCEEDED' } })).toBe(bodies);
      expect(new Set(ran.map((o) => ('skipped' in o ? null : o.id))).size).toBe(bodies);
    } finally {
      await Promise.all(clients.map((c) => c.$disconnect()));
      await adminQuery(url, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
  });
});

async function waitFor(condition: () => boolean) {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error('condition not reached');
}
