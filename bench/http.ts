// HTTP throughput of Verdict against two references, side by side in one run:
//  - the leaderboard (`leaderboard(period: ALL_TIME, first: 100) { rank handle points }`) against a
//    bare node:http server sending the very same bytes;
//  - `{ __typename }` against a bare graphql-yoga server (createYoga, a one-field schema, no plugins).
// Every server is a child process; autocannon (50 connections) runs here. A warm-up, then RUNS
// rounds of RUN_SECONDS each (the four targets one after another in every round); medians reported.
//
//   BENCH_DATABASE_URL=postgresql://… node --import tsx bench/http.ts
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { startServer } from './support/server.js';

export interface HttpBenchResult {
  leaderboard_rps: number;
  bare_rps: number;
  typename_rps: number;
  bare_yoga_rps: number;
  leaderboard_p99_ms: number;
}

const root = path.resolve(import.meta.dirname, '..');
const CONNECTIONS = 50;
const WARMUP_SECONDS = Number(process.env.BENCH_HTTP_WARMUP_SECONDS ?? 3);
const RUN_SECONDS = Number(process.env.BENCH_HTTP_RUN_SECONDS ?? 5);
const RUNS = Math.max(3, Number(process.env.BENCH_HTTP_RUNS ?? 3));

export const LEADERBOARD_QUERY = '{ leaderboard(period: ALL_TIME, first: 100) { rank handle points } }';
export const TYPENAME_QUERY = '{ __typename }';

// autocannon ships no types; this is the part of its documented API used here.
interface AutocannonResult {
  requests: { average: number };
  latency: { p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const postHeaders = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
const body = (query: string) => JSON.stringify({ query });

/** A bare node:http server answering every request with `bytes` (the body is read first). */
const BARE_HTTP = `
import http from 'node:http';
const bytes = Buffer.from(process.env.BENCH_BODY_B64, 'base64');
const headers = { 'content-type': process.env.BENCH_CONTENT_TYPE, 'content-length': String(bytes.length) };
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, headers); res.end(bytes); });
});
server.listen(0, '127.0.0.1', () => console.log('listening on ' + server.address().port));
`;

/**
 * A bare graphql-yoga server: createYoga with a one-field schema and no plugins. With
 * BENCH_BARE_YOGA_NO_BODY_LIMIT=1 it also drops yoga's default streaming body-size limit (as
 * Verdict does, which bounds bodies by their declared length before yoga): a stricter reference.
 */
const BARE_YOGA = `
import http from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
const yoga = createYoga({
  schema: createSchema({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } }),
  logging: false,
  ...(process.env.BENCH_BARE_YOGA_NO_BODY_LIMIT === '1' ? { maxRequestBodySize: false } : {}),
});
const server = http.createServer(yoga);
server.listen(0, '127.0.0.1', () => console.log('listening on ' + server.address().port));
`;

interface Child {
  origin: string;
  stop(): Promise<void>;
}

async function startScript(source: string, env: Record<string, string> = {}): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/listening on (\d+)/);
      if (match) resolve(Number(match[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`reference server exited with ${code}:\n${output}`)));
  });
  return {
    origin: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function load(url: string, query: string, seconds: number): Promise<AutocannonResult> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: postHeaders,
    body: body(query),
    connections: CONNECTIONS,
    duration: seconds,
  });
  if (result.errors || result.non2xx || result.timeouts) {
    throw new Error(`${url} ${query}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx responses`);
  }
  return result;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Runs the leaderboard job (so the leaderboard is served from its cache table, as in production),
 * starts Verdict with `serverEnv` and the two reference servers, and measures all four targets.
 */
export async function benchHttp(serverEnv: Record<string, string>): Promise<HttpBenchResult> {
  const dataDir = serverEnv.DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-bench-http-'));
  const env = { LOG_LEVEL: 'warn', ...serverEnv, DATA_DIR: dataDir };
  const children: Child[] = [];
  try {
    const job = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/job.ts', 'leaderboard'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      encoding: 'utf8',
    });
    if (job.status !== 0) throw new Error(`leaderboard job failed (${job.status}):\n${job.stdout}${job.stderr}`);

    const server = await startServer(env);
    children.push(server);
    const endpoint = `${server.origin}/graphql`;
    const response = await fetch(endpoint, { method: 'POST', headers: postHeaders, body: body(LEADERBOARD_QUERY) });
    const bytes = Buffer.from(await response.arrayBuffer());
    const payload = JSON.parse(bytes.toString()) as { data?: { leaderboard: unknown[] }; errors?: unknown };
    if (response.status !== 200 || !payload.data || payload.errors) throw new Error(`leaderboard query failed: ${bytes.toString()}`);
    console.log(`leaderboard: ${payload.data.leaderboard.length} entries, ${bytes.length} bytes`);

    const bare = await startScript(BARE_HTTP, {
      BENCH_BODY_B64: bytes.toString('base64'),
      BENCH_CONTENT_TYPE: response.headers.get('content-type') ?? 'application/json',
    });
    children.push(bare);
    const bareYoga = await startScript(BARE_YOGA, { BENCH_BARE_YOGA_NO_BODY_LIMIT: process.env.BENCH_BARE_YOGA_NO_BODY_LIMIT ?? '' });
    children.push(bareYoga);

    const targets = {
      bare: [bare.origin, LEADERBOARD_QUERY],
      leaderboard: [endpoint, LEADERBOARD_QUERY],
      bare_yoga: [`${bareYoga.origin}/graphql`, TYPENAME_QUERY],
      typename: [endpoint, TYPENAME_QUERY],
    } as const;
    type Target = keyof typeof targets;
    for (const [url, query] of Object.values(targets)) await load(url, query, WARMUP_SECONDS);

    const rps: Record<Target, number[]> = { bare: [], leaderboard: [], bare_yoga: [], typename: [] };
    const p99: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      for (const name of Object.keys(targets) as Target[]) {
        const [url, query] = targets[name];
        const result = await load(url, query, RUN_SECONDS);
        rps[name].push(result.requests.average);
        if (name === 'leaderboard') p99.push(result.latency.p99);
        console.log(`  run ${run + 1} ${name.padEnd(12)} ${result.requests.average.toFixed(0).padStart(7)} req/s  p99 ${result.latency.p99} ms`);
      }
    }
    return {
      leaderboard_rps: median(rps.leaderboard),
      bare_rps: median(rps.bare),
      typename_rps: median(rps.typename),
      bare_yoga_rps: median(rps.bare_yoga),
      leaderboard_p99_ms: median(p99),
    };
  } finally {
    for (const child of children.reverse()) await child.stop();
    if (!serverEnv.DATA_DIR) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.filename === process.argv[1]) {
  const url = process.env.BENCH_DATABASE_URL;
  if (!url) {
    console.error('Set BENCH_DATABASE_URL=postgresql://… (a seeded database; the leaderboard job runs on it).');
    process.exit(2);
  }
  const r = await benchHttp({ DATABASE_URL: url });
  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)} %`;
  console.log(`leaderboard   ${r.leaderboard_rps.toFixed(0).padStart(7)} req/s   p99 ${r.leaderboard_p99_ms} ms`);
  console.log(`bare node:http ${r.bare_rps.toFixed(0).padStart(6)} req/s   leaderboard / bare = ${pct(r.leaderboard_rps, r.bare_rps)}`);
  console.log(`{ __typename } ${r.typename_rps.toFixed(0).padStart(6)} req/s`);
  console.log(`bare yoga      ${r.bare_yoga_rps.toFixed(0).padStart(6)} req/s   __typename / bare yoga = ${pct(r.typename_rps, r.bare_yoga_rps)}`);
}
