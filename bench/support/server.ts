// A Verdict server in a child process, as `npm start` runs it, for the benchmarks that measure
// it from outside (HTTP throughput, subscription fan-out, start-up).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ServerProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port> */
  origin: string;
  /** Milliseconds from spawn to the first line naming the port. */
  listeningAfterMs: number;
  /** Milliseconds from spawn to the first 200 from /readyz (the server listens before it is ready). */
  readyAfterMs: number;
  /** Resident set size of the server process, in MB (from /proc). */
  rssMb(): number;
  stop(): Promise<void>;
}

const root = path.resolve(import.meta.dirname, '..', '..');

let built: boolean | undefined;

/**
 * The arguments `npm start` gives node (package.json's start script, e.g. its V8 flags), so a
 * benchmark measures the server users run. BENCH_NODE_FLAGS adds node flags, for experiments.
 */
export function startArgs(): string[] {
  // What `npm start` does first (its prestart script): src/ built into dist/.
  built ??= spawnSync(process.execPath, ['scripts/build.mjs', '--quiet'], { cwd: root, stdio: 'inherit' }).status === 0;
  if (!built) throw new Error('npm run build failed');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [node, ...args] = pkg.scripts.start.trim().split(/\s+/);
  if (node !== 'node') throw new Error(`the start script should run node: ${pkg.scripts.start}`);
  return [...(process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean), ...args];
}

/** Starts the server as `npm start` does (startArgs) with `env` on a free port; resolves once /readyz says ready. */
export async function startServer(env: Record<string, string>, timeoutMs = 120_000): Promise<ServerProcess> {
  const dataDir = env.DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-bench-'));
  const started = performance.now();
  const child = spawn(process.execPath, startArgs(), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', WS_MAX_SOCKETS_PER_ADDRESS: '20000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/GraphiQL: http:\/\/[^:]+:(\d+)\//);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  const listeningAfterMs = performance.now() - started;
  const origin = `http://127.0.0.1:${port}`;
  // It listens at once and answers 503 until the database, the chain and the first case are done.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    if (performance.now() - started > timeoutMs) throw new Error(`server not ready within ${timeoutMs} ms:\n${output}`);
    const status = await fetch(`${origin}/readyz`).then(async (r) => (await r.arrayBuffer(), r.status), () => 0);
    if (status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const readyAfterMs = performance.now() - started;
  return {
    child,
    origin,
    listeningAfterMs,
    readyAfterMs,
    rssMb() {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      if (!env.DATA_DIR) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
