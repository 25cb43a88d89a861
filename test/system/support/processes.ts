import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '../../..');

/** Every process a test started, so afterAll can end whatever is still running. */
const started = new Set<VerdictProcess>();

export interface LogLine {
  level?: number;
  msg?: string;
  job?: string;
  status?: string;
  [key: string]: unknown;
}

/**
 * A real Verdict process (`node --import tsx src/main.ts` or `scripts/job.ts <job>`), its output
 * kept (JSON log lines parsed) so that a test can wait for what it says.
 */
export class VerdictProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  output = '';
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(
    readonly label: string,
    args: string[],
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.add(this);
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.output += text;
      if (this.output.length > 2_000_000) this.output = this.output.slice(-1_000_000);
      partial += text;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        if (!line.startsWith('{')) continue;
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line
        }
      }
      for (const wake of this.waiters) wake();
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        started.delete(this);
        for (const wake of this.waiters) wake();
        resolve({ code, signal });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exit === null;
  }

  /** The last lines of output, for failure messages. */
  tail(lines = 30): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  /**
   * Resolves with the first value `probe` returns (checked on every output and at exit); rejects
   * at the deadline or, unless `orExit`, when the process exits first.
   */
  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs: number, what: string, options: { orExit?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        let value: T | undefined | null | false;
        try {
          value = probe();
        } catch (error) {
          done();
          reject(error);
          return;
        }
        if (value) {
          done();
          resolve(value);
        } else if (this.exit && !options.orExit) {
          done();
          reject(new Error(`${this.label} exited (${JSON.stringify(this.exit)}) before ${what}:\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.label}: no ${what} within ${timeoutMs} ms:\n${this.tail()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The first log line (from index `from` on) matching. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number, what: string, from = 0): Promise<LogLine> {
    return this.waitFor(() => this.lines.slice(from).find(match), timeoutMs, what);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL') {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }
}

/** A server (`src/main.ts`) on a free port; resolves once it says it is ready. */
export async function startServer(label: string, env: Record<string, string>, options: { waitReady?: boolean; readyTimeoutMs?: number } = {}) {
  const server = new VerdictProcess(label, ['src/main.ts'], { PORT: '0', HOST: '127.0.0.1', ...env });
  const port = await server.waitFor(() => server.output.match(/GraphiQL: http:\/\/localhost:(\d+)\//)?.[1], 30_000, 'port');
  const origin = `http://127.0.0.1:${port}`;
  if (options.waitReady ?? true) await server.waitForLog((l) => l.msg === 'Verdict is ready', options.readyTimeoutMs ?? 60_000, 'readiness');
  return Object.assign(server, { origin });
}

export type Server = Awaited<ReturnType<typeof startServer>>;

/** `scripts/job.ts <job>`: beside a server on the same DATA_DIR it asks that server, else it runs the job itself. */
export function runJobCli(label: string, job: string, env: Record<string, string>) {
  return new VerdictProcess(label, ['scripts/job.ts', job], env);
}

/** Ends every process still running (afterAll). */
export async function killAll() {
  await Promise.all([...started].map((p) => p.kill('SIGKILL')));
}

/** Polls `probe` (async) until it returns a truthy value; fails at the deadline with `what`. */
export async function until<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface GqlResult<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** One GraphQL request over HTTP, bounded by `timeoutMs`. */
export async function gql<T = Record<string, any>>(
  origin: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: { token?: string; timeoutMs?: number } = {},
): Promise<GqlResult<T> & { status: number }> {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let body: GqlResult<T>;
  try {
    body = JSON.parse(text) as GqlResult<T>;
  } catch {
    body = { errors: [{ message: text.slice(0, 200) }] };
  }
  return { ...body, status: response.status };
}
