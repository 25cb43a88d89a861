// Start-up of `npm start` with zero configuration on a fresh data directory: how long until
// /healthz answers, until /readyz says ready, and the resident memory once idle. Each start is a
// child process on a new temporary DATA_DIR; polled every 20 ms from spawn; median of STARTS.
//
//   node --import tsx bench/start.ts
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startArgs } from './support/server.js';

export interface StartBenchResult {
  healthz_ms: number;
  ready_ms: number;
  idle_rss_mb: number;
}

/** One start, with the CPU time spent until ready: on a busy machine, wall time says little. */
interface StartRun extends StartBenchResult {
  ready_cpu_s: number;
}

const root = path.resolve(import.meta.dirname, '..');
const STARTS = Number(process.env.BENCH_START_RUNS ?? 3);
const POLL_MS = 20;
const IDLE_AFTER_READY_MS = 5_000;
const TIMEOUT_MS = 120_000;

/** A port nobody listens on right now (the OS picks it). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function status(url: string): Promise<number | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return null; // not listening yet
  }
}

/** CPU seconds (user + system) the process and its waited-for children used so far. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime, stime, cutime, cstime are fields 14–17 of stat(5); here offset by the two skipped.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return ticks / 100; // USER_HZ
}

function rssMb(pid: number): number {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(text.match(/VmRSS:\s+(\d+)/)![1]) / 1024;
}

/** One zero-configuration start: only the port, the loopback interface and a fresh DATA_DIR are set. */
export async function measureStart(): Promise<StartRun> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-bench-start-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, startArgs(), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    let healthzMs: number | null = null;
    let readyMs: number | null = null;
    let readyCpu = 0;
    while (readyMs === null) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
      if (performance.now() - started > TIMEOUT_MS) throw new Error(`not ready within ${TIMEOUT_MS} ms:\n${output}`);
      const tick = performance.now();
      // Both probes every tick (until each succeeds), so neither waits for the other.
      const [health, ready] = await Promise.all([
        healthzMs === null ? status(`${origin}/healthz`) : 200,
        status(`${origin}/readyz`),
      ]);
      const at = performance.now() - started;
      if (healthzMs === null && health === 200) healthzMs = at;
      if (ready === 200) {
        readyMs = at;
        readyCpu = cpuSeconds(child.pid!);
      }
      else await sleep(Math.max(0, POLL_MS - (performance.now() - tick)));
    }
    await sleep(IDLE_AFTER_READY_MS);
    return {
      healthz_ms: Math.round(healthzMs ?? readyMs),
      ready_ms: Math.round(readyMs),
      idle_rss_mb: Math.round(rssMb(child.pid!)),
      ready_cpu_s: readyCpu,
    };
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchStart(): Promise<StartBenchResult> {
  const runs: StartRun[] = [];
  for (let i = 0; i < STARTS; i++) {
    const run = await measureStart();
    if (process.env.BENCH_VERBOSE) console.log(`  start ${i + 1}: healthz ${run.healthz_ms} ms, ready ${run.ready_ms} ms (${run.ready_cpu_s.toFixed(1)} CPU s), idle RSS ${run.idle_rss_mb} MB`);
    runs.push(run);
  }
  return {
    healthz_ms: median(runs.map((r) => r.healthz_ms)),
    ready_ms: median(runs.map((r) => r.ready_ms)),
    idle_rss_mb: median(runs.map((r) => r.idle_rss_mb)),
  };
}

if (import.meta.filename === process.argv[1]) {
  process.env.BENCH_VERBOSE ??= '1';
  const r = await benchStart();
  console.log(`healthz ${r.healthz_ms} ms · ready ${r.ready_ms} ms · idle RSS ${r.idle_rss_mb} MB (median of ${STARTS})`);
}
