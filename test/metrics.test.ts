// Operators' view (issue #13): /metrics in Prometheus's text format, request ids, readable logs.
import { Writable } from 'node:stream';
import { createClient } from 'graphql-ws';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger, logFormat } from '../src/log.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase } from './support/fixtures.js';
import { publishUntil } from './support/subscriptions.js';

interface Family {
  name: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string; count?: string; buckets?: Record<string, string> }[];
}

const TOKEN = 'metrics-token-for-the-tests';

async function scrape(base: string, token: string | null = TOKEN): Promise<Map<string, Family>> {
  const response = await fetch(`${base}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusTextFormat(await response.text()) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

const sample = (families: Map<string, Family>, name: string, labels: Record<string, string>) =>
  families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));

describe('metrics', () => {
  let t: TestApp;
  let base: string;
  const lines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    const logStream = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };
    t = await createTestApp({ METRICS_TOKEN: TOKEN, LOG_LEVEL: 'debug', JOB_LEADERBOARD: 'off' }, { logStream });
    base = `http://127.0.0.1:${await t.app.start(0, '127.0.0.1')}`;
  });
  afterAll(() => t?.close());

  it('asks for the bearer token and refuses a wrong one without counting anything', async () => {
    const none = await fetch(`${base}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await none.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401);
  });

  it('counts operations by name, type and result, and errors by code', async () => {
    const post = (body: unknown) =>
      fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (let i = 0; i < 3; i++) await post({ query: 'query OpenCases { cases(first: 5) { edges { node { id } } } }' });
    await post({ query: 'query Broken { noSuchField }' });
    await post({ query: 'query Unparsable {' });
    await post({ query: 'mutation NotSignedIn { castVote(caseId: "00000000-0000-0000-0000-000000000000", side: A) { side } }' });

    const families = await scrape(base);
    const ok = sample(families, 'verdict_graphql_operations_total', { operation: 'OpenCases', type: 'query', result: 'ok' });
    expect(Number(ok?.value)).toBe(3);
    expect(families.get('verdict_graphql_operation_duration_seconds')!.type).toBe('HISTOGRAM');
    const failed = sample(families, 'verdict_graphql_operations_total', { operation: 'NotSignedIn', type: 'mutation', result: 'error' });
    expect(Number(failed?.value)).toBe(1);
    expect(Number(sample(families, 'verdict_graphql_errors_total', { code: 'UNAUTHENTICATED' })?.value)).toBe(1);
    expect(Number(sample(families, 'verdict_graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED' })?.value)).toBeGreaterThanOrEqual(1);
    expect(Number(sample(families, 'verdict_graphql_errors_total', { code: 'GRAPHQL_PARSE_FAILED' })?.value)).toBeGreaterThanOrEqual(1);
  });

  it('counts open WebSockets and active subscriptions by field, down again when they end', async () => {
    const client = createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const c = await createCase(t.db, { title: 'Watched' });
      const events = client.iterate({ query: 'subscription Opened { caseOpened { title } }' });
      await publishUntil(events.next(), () => t.pubsub.publish('caseOpened', { caseId: c.id }));
      let families = await scrape(base);
      expect(Number(sample(families, 'verdict_websocket_connections', {})?.value)).toBe(1);
      expect(Number(sample(families, 'verdict_subscriptions_active', { field: 'caseOpened' })?.value)).toBe(1);
      expect(Number(sample(families, 'verdict_graphql_operations_total', { operation: 'Opened', type: 'subscription', result: 'ok' })?.value)).toBe(1);
      await events.return?.();
      await expect.poll(async () => Number(sample(await scrape(base), 'verdict_subscriptions_active', { field: 'caseOpened' })?.value)).toBe(0);
      families = await scrape(base);
      expect(Number(sample(families, 'verdict_websocket_connections', {})?.value)).toBe(1);
    } finally {
      await client.dispose();
    }
    await expect.poll(async () => Number(sample(await scrape(base), 'verdict_websocket_connections', {})?.value)).toBe(0);
  });

  it('reports job runs, chain transactions, pending rewards, event-loop lag and memory', async () => {
    const run = await t.scheduler.runNow('leaderboard', 'manual');
    expect('status' in run && run.status).toBe('SUCCEEDED');
    const families = await scrape(base);
    expect(Number(sample(families, 'verdict_job_runs_total', { job: 'leaderboard', status: 'SUCCEEDED' })?.value)).toBe(1);
    expect(families.get('verdict_job_run_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(sample(families, 'verdict_job_items_total', { job: 'leaderboard', outcome: 'success' })).toBeDefined();
    // The chain's own commitments of the test database's cases are whatever the fixtures made;
    // every kind and status is reported, zero included.
    for (const kind of ['COMMIT', 'REVEAL', 'PAYOUT']) {
      expect(sample(families, 'verdict_chain_transactions', { kind, status: 'SENT' })).toBeDefined();
      expect(sample(families, 'verdict_chain_transaction_oldest_pending_seconds', { kind })).toBeDefined();
    }
    expect(sample(families, 'verdict_rewards_pending', { status: 'PENDING' })).toBeDefined();
    expect(Number(sample(families, 'verdict_metrics_database_up', {})?.value)).toBe(1);
    expect(families.get('nodejs_eventloop_lag_seconds')).toBeDefined();
    expect(Number(sample(families, 'process_resident_memory_bytes', {})?.value)).toBeGreaterThan(10 * 2 ** 20);
  });

  it('gives every request an id, returned as a header and carried by every log line of that request', async () => {
    const own = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'client-chosen-42' },
      body: JSON.stringify({ query: 'query Traced { cases(first: 1) { edges { node { id } } } }' }),
    });
    expect(own.headers.get('x-request-id')).toBe('client-chosen-42');
    const line = lines.find((l) => l.msg === 'operation' && l.operation === 'Traced');
    expect(line).toMatchObject({ level: 20, reqId: 'client-chosen-42', type: 'query', code: null });
    expect(typeof line!.ms).toBe('number');

    const made = await fetch(`${base}/graphql?query=${encodeURIComponent('query Refused { nope }')}`, { headers: { 'x-request-id': 'not a usable id!' } });
    const id = made.headers.get('x-request-id')!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const refused = lines.filter((l) => l.reqId === id);
    expect(refused.length).toBeGreaterThan(0);
  });
});

describe('metrics on their own port', () => {
  let t: TestApp;
  afterAll(() => t?.close());

  it('serves /metrics on METRICS_PORT only', async () => {
    t = await createTestApp({ METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' });
    const main = `http://127.0.0.1:${await t.app.start(0, '127.0.0.1')}`;
    const port = await t.app.startMetrics();
    expect(port).toBeGreaterThan(0);
    const families = await scrape(`http://127.0.0.1:${port}`, null);
    expect(families.get('verdict_graphql_operations_total')).toBeDefined();
    expect((await fetch(`${main}/metrics`)).status).toBe(404);
  });
});

describe('log format', () => {
  it('is readable on a terminal and JSON otherwise, unless LOG_FORMAT says', () => {
    expect(logFormat({ LOG_FORMAT: undefined }, true)).toBe('pretty');
    expect(logFormat({ LOG_FORMAT: undefined }, false)).toBe('json');
    expect(logFormat({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
  });

  it('writes pretty lines or JSON lines', () => {
    const written = (format: 'json' | 'pretty') => {
      let text = '';
      const destination = new Writable({ write: (chunk: Buffer, _encoding, done) => ((text += chunk.toString()), done()) });
      createLogger({ LOG_FORMAT: format, LOG_LEVEL: 'info' }, destination).info({ job: 'leaderboard' }, 'job run finished');
      return text;
    };
    const json = JSON.parse(written('json')) as Record<string, unknown>;
    expect(json).toMatchObject({ level: 30, msg: 'job run finished', job: 'leaderboard' });
    const pretty = written('pretty');
    expect(pretty).toMatch(/INFO.*job run finished/);
    expect(pretty).toMatch(/job: "leaderboard"/);
    expect(() => JSON.parse(pretty)).toThrow();
  });
});
