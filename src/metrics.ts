import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from './db.js';
import type { JobRun } from './generated/prisma/client.js';

/** Operation names kept as label values; any further distinct name is counted as "other". */
const MAX_OPERATION_NAMES = 200;
/** The database-derived gauges are read at most this often, however many scrapers ask. */
const DATABASE_READ_EVERY_MS = 10_000;

const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.01, 0.05, 0.25, 1, 5, 15, 60, 300, 900];

/**
 * The server's Prometheus metrics (prom-client), one registry per server: GraphQL operations,
 * errors by code, WebSockets and subscriptions, job runs, chain transactions, pending rewards,
 * and Node's own (event-loop lag, memory, GC).
 */
export function createMetrics(db: Db) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const operations = new Counter({
    name: 'verdict_graphql_operations_total',
    help: 'GraphQL operations (queries, mutations, subscriptions started) by name, type and result (ok or error)',
    labelNames: ['operation', 'type', 'result'] as const,
    registers,
  });
  const durations = new Histogram({
    name: 'verdict_graphql_operation_duration_seconds',
    help: 'Duration of GraphQL operations (for a subscription: until it started) by name, type and result',
    labelNames: ['operation', 'type', 'result'] as const,
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const errors = new Counter({
    name: 'verdict_graphql_errors_total',
    help: 'Errors in GraphQL results by extensions.code',
    labelNames: ['code'] as const,
    registers,
  });
  const jobRuns = new Counter({ name: 'verdict_job_runs_total', help: 'Finished job runs by job and status', labelNames: ['job', 'status'] as const, registers });
  const jobDuration = new Histogram({
    name: 'verdict_job_run_duration_seconds',
    help: 'Duration of finished job runs by job and status',
    labelNames: ['job', 'status'] as const,
    buckets: JOB_BUCKETS,
    registers,
  });
  const jobItems = new Counter({
    name: 'verdict_job_items_total',
    help: 'Items handled by job runs, by job and outcome (success or failure)',
    labelNames: ['job', 'outcome'] as const,
    registers,
  });

  let sockets = () => 0;
  new Gauge({
    name: 'verdict_websocket_connections',
    help: 'Open graphql-ws connections',
    registers,
    collect() {
      this.set(sockets());
    },
  });
  const subscriptions = new Gauge({
    name: 'verdict_subscriptions_active',
    help: 'Active GraphQL subscriptions (WebSocket and SSE) by root field',
    labelNames: ['field'] as const,
    registers,
  });

  const fromDatabase = databaseGauges(db, registers);

  const names = new Set<string>();
  const operationLabel = (name: string | undefined) => {
    if (!name) return 'anonymous';
    if (names.has(name)) return name;
    if (names.size >= MAX_OPERATION_NAMES) return 'other';
    names.add(name);
    return name;
  };

  return {
    registry,
    /** One finished operation; `codes` are its errors' extensions.code (empty when it succeeded). */
    operation(name: string | undefined, type: string, seconds: number, codes: readonly string[]) {
      const labels = { operation: operationLabel(name), type, result: codes.length ? 'error' : 'ok' };
      operations.inc(labels);
      durations.observe(labels, seconds);
      for (const code of codes) errors.inc({ code });
    },
    /** Errors refused before any operation ran (a body that does not parse, a bad request). */
    error(code: string) {
      errors.inc({ code });
    },
    jobRun(run: JobRun) {
      const labels = { job: run.job, status: run.status };
      jobRuns.inc(labels);
      if (run.finishedAt) jobDuration.observe(labels, (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000);
      jobItems.inc({ job: run.job, outcome: 'success' }, run.successes);
      jobItems.inc({ job: run.job, outcome: 'failure' }, run.failures);
    },
    /** Where the open WebSockets are counted (the app's WebSocket server). */
    countSockets(count: () => number) {
      sockets = count;
    },
    /** A subscription to these root fields started (+1) or ended (-1). */
    subscriptions(fields: readonly string[], change: 1 | -1) {
      for (const field of fields) subscriptions.inc({ field }, change);
    },
    async text(): Promise<string> {
      await fromDatabase.refresh();
      return registry.metrics();
    },
    contentType: registry.contentType,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * What the database knows: chain transactions by kind and status with the age of the oldest
 * still pending, commitments by status, rewards waiting for a payout. Read with one statement at
 * most every 10 s; every server reports the same values (aggregate them with max()).
 */
function databaseGauges(db: Db, registers: Registry[]) {
  const transactions = new Gauge({
    name: 'verdict_chain_transactions',
    help: 'Chain transactions (COMMIT, REVEAL, PAYOUT) by status (SENT = pending, CONFIRMED, FAILED)',
    labelNames: ['kind', 'status'] as const,
    registers,
  });
  const oldestPending = new Gauge({
    name: 'verdict_chain_transaction_oldest_pending_seconds',
    help: 'Age of the oldest chain transaction still pending (SENT), by kind; 0 when none is',
    labelNames: ['kind'] as const,
    registers,
  });
  const commitments = new Gauge({
    name: 'verdict_case_commitments',
    help: "Cases by the status of their ruling's commitment on chain (UNSENT, SENT, VERIFIED, MISMATCH)",
    labelNames: ['status'] as const,
    registers,
  });
  const rewards = new Gauge({
    name: 'verdict_rewards_pending',
    help: 'Rewards not yet paid, by status (PENDING: queued, PROCESSING: in a payout transaction)',
    labelNames: ['status'] as const,
    registers,
  });
  const rewardPoints = new Gauge({
    name: 'verdict_rewards_pending_points',
    help: 'Points of the rewards not yet paid, by status',
    labelNames: ['status'] as const,
    registers,
  });
  const healthy = new Gauge({ name: 'verdict_metrics_database_up', help: '1 when the last read of the database gauges succeeded', registers });

  let readAt = 0;
  let reading: Promise<void> | null = null;
  const read = async () => {
    const rows = await db.$queryRaw<{ metric: string; a: string; b: string; n: number; extra: number | null }[]>`
      SELECT 'tx' AS metric, kind::text AS a, status::text AS b, count(*)::int AS n,
        extract(epoch FROM now() - min(sent_at) FILTER (WHERE status = 'SENT'))::float8 AS extra
      FROM chain_transactions GROUP BY kind, status
      UNION ALL
      SELECT 'commitment', commitment_status::text, '', count(*)::int, NULL FROM cases GROUP BY commitment_status
      UNION ALL
      SELECT 'reward', status::text, '', count(*)::int, sum(amount)::float8 FROM rewards
      WHERE status IN ('PENDING', 'PROCESSING') GROUP BY status`;
    for (const gauge of [transactions, oldestPending, commitments, rewards, rewardPoints]) gauge.reset();
    for (const kind of ['COMMIT', 'REVEAL', 'PAYOUT']) {
      oldestPending.set({ kind }, 0);
      for (const status of ['SENT', 'CONFIRMED', 'FAILED']) transactions.set({ kind, status }, 0);
    }
    for (const status of ['PENDING', 'PROCESSING']) rewards.set({ status }, 0), rewardPoints.set({ status }, 0);
    for (const row of rows) {
      if (row.metric === 'tx') {
        transactions.set({ kind: row.a, status: row.b }, row.n);
        if (row.extra !== null) oldestPending.set({ kind: row.a }, row.extra);
      } else if (row.metric === 'commitment') {
        commitments.set({ status: row.a }, row.n);
      } else {
        rewards.set({ status: row.a }, row.n);
        rewardPoints.set({ status: row.a }, row.extra ?? 0);
      }
    }
  };
  return {
    async refresh() {
      if (Date.now() - readAt < DATABASE_READ_EVERY_MS) return;
      reading ??= read()
        .then(() => healthy.set(1), () => healthy.set(0))
        .finally(() => {
          readAt = Date.now();
          reading = null;
        });
      await reading;
    },
  };
}
