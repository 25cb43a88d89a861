import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContractFactory, JsonRpcProvider, Wallet, getAddress, type InterfaceAbi } from 'ethers';
import registryArtifact from '../../../contracts/artifacts/VerdictRegistry.json' with { type: 'json' };
import pointsArtifact from '../../../contracts/artifacts/VerdictPoints.json' with { type: 'json' };
import { startDevChain } from '../../../src/chain/dev-chain.js';
import { deployMigrations } from '../../../src/db/migrations.js';
import { adminQuery, databaseUrl } from '../../support/pg-admin.js';

// The parts of a soak that are not load: one PostgreSQL database, one Ganache chain with the
// contracts deployed once (so every server agrees on them), and N real server processes whose
// JSON log lines and memory are watched.

export const root = path.resolve(import.meta.dirname, '../../..');

/** Polls `condition` every `everyMs` until it returns a truthy value; throws `what` on timeout. */
export async function waitFor<T>(what: string, condition: () => T | Promise<T>, timeoutMs: number, everyMs = 200): Promise<NonNullable<Awaited<T>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<Awaited<T>>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface SoakDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** verdict_soak_<random>: a copy of the run's migrated template when there is one, else migrated here. */
export async function createSoakDatabase(serverUrl: string, template: string | null): Promise<SoakDatabase> {
  const name = `verdict_soak_${randomBytes(5).toString('hex')}`;
  const url = databaseUrl(serverUrl, name);
  if (template) {
    await adminQuery(serverUrl, `CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  } else {
    await adminQuery(serverUrl, `CREATE DATABASE "${name}"`);
    await deployMigrations({ connectionString: url });
  }
  return { name, url, drop: () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

export interface RpcCall {
  methods: string;
  started: number;
}

/**
 * A JSON-RPC pass-through in front of the chain node that knows which calls are in flight and
 * how long each kind took: a call the node never answers shows here by name.
 */
async function startRpcWatch(target: string) {
  const inFlight = new Map<number, RpcCall>();
  const byMethod = new Map<string, { calls: number; maxMs: number }>();
  const aborts = new Set<AbortController>();
  let seq = 0;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let methods = 'unparsed';
    try {
      const parsed = JSON.parse(body) as { method: string } | { method: string }[];
      methods = Array.isArray(parsed) ? parsed.map((p) => p.method).join(',') : parsed.method;
    } catch {
      // forwarded as it is
    }
    const id = ++seq;
    const call = { methods, started: Date.now() };
    inFlight.set(id, call);
    const abort = new AbortController();
    aborts.add(abort);
    try {
      const answer = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: abort.signal });
      const text = await answer.text();
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(text);
    } catch {
      res.writeHead(502).end();
    } finally {
      aborts.delete(abort);
      inFlight.delete(id);
      for (const method of methods.split(',')) {
        const m = byMethod.get(method) ?? { calls: 0, maxMs: 0 };
        m.calls++;
        m.maxMs = Math.max(m.maxMs, Date.now() - call.started);
        byMethod.set(method, m);
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Calls waiting for the node for longer than `ms`. */
    waiting: (ms: number) => [...inFlight.values()].filter((c) => Date.now() - c.started > ms).map((c) => `${c.methods} for ${Date.now() - c.started} ms`),
    stats: () => [...byMethod].sort(([a], [b]) => a.localeCompare(b)).map(([method, m]) => ({ method, ...m })),
    async close() {
      for (const abort of aborts) abort.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface SoakChain {
  /** What the servers are given: the watch in front of the node. */
  rpcUrl: string;
  watch: Awaited<ReturnType<typeof startRpcWatch>>;
  ownerKey: string;
  owner: string;
  registry: string;
  token: string;
  provider: JsonRpcProvider;
  stop(): Promise<void>;
}

/**
 * One Ganache RPC in this process and the two contracts deployed once with the chain key, as the
 * server itself would (contracts/artifacts, constructor owner = the key's address). Every server
 * gets CHAIN_REGISTRY_ADDRESS / CHAIN_TOKEN_ADDRESS: without them each would deploy its own pair
 * (the deployment is remembered per DATA_DIR), and three servers would disagree on the registry.
 */
export async function startSoakChain(): Promise<SoakChain> {
  const dev = await startDevChain();
  const provider = new JsonRpcProvider(dev.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 100 });
  try {
    const signer = new Wallet(dev.ownerKey, provider);
    const deploy = async (artifact: { abi: unknown; bytecode: string }) => {
      const contract = await new ContractFactory(artifact.abi as InterfaceAbi, artifact.bytecode, signer).deploy(signer.address);
      await contract.waitForDeployment();
      return getAddress(await contract.getAddress());
    };
    const registry = await deploy(registryArtifact);
    const token = await deploy(pointsArtifact);
    const watch = await startRpcWatch(dev.rpcUrl);
    return {
      rpcUrl: watch.url,
      watch,
      ownerKey: dev.ownerKey,
      owner: signer.address,
      registry,
      token,
      provider,
      async stop() {
        provider.destroy();
        await watch.close();
        await dev.stop();
      },
    };
  } catch (error) {
    provider.destroy();
    await dev.stop();
    throw error;
  }
}

export interface LogLine {
  level: number;
  time?: number;
  msg?: string;
  [key: string]: unknown;
}

export interface ServerProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  port: number;
  http: string;
  ws: string;
  dataDir: string;
  /** Every JSON log line of stdout, parsed. */
  logs: LogLine[];
  /** stdout lines that are not JSON (the two start-up lines of main.ts are expected). */
  plainStdout: string[];
  stderr: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: boolean;
}

/** main.ts prints these two with console.log before the JSON log starts. */
const EXPECTED_PLAIN = [/^GraphiQL: http:\/\/localhost:\d+\//, /^Live page: http:\/\/localhost:\d+\/live$/];
export const isExpectedPlainLine = (line: string) => EXPECTED_PLAIN.some((re) => re.test(line));

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void) {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    let at: number;
    while ((at = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, at);
      rest = rest.slice(at + 1);
      if (line.trim()) onLine(line);
    }
  });
  stream.on('end', () => {
    if (rest.trim()) onLine(rest);
  });
}

/** `node --import tsx src/main.ts` with PORT=0; resolves once its port is known (not yet ready). */
export async function spawnServer(name: string, env: Record<string, string>): Promise<ServerProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `verdict-soak-${name}-`));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server: ServerProcess = {
    name,
    child,
    pid: child.pid!,
    port: 0,
    http: '',
    ws: '',
    dataDir,
    logs: [] as LogLine[],
    plainStdout: [] as string[],
    stderr: [] as string[],
    exited: false,
    exit: new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => {
        server.exited = true;
        resolve({ code, signal });
      }),
    ),
  };
  let onPort: (port: number) => void = () => undefined;
  const portKnown = new Promise<number>((resolve) => (onPort = resolve));
  lines(child.stdout!, (line) => {
    if (line.startsWith('{')) {
      try {
        server.logs.push(JSON.parse(line) as LogLine);
        return;
      } catch {
        // not JSON after all: kept as plain text below
      }
    }
    server.plainStdout.push(line);
    const match = line.match(/^GraphiQL: http:\/\/localhost:(\d+)\//);
    if (match) onPort(Number(match[1]));
  });
  lines(child.stderr!, (line) => server.stderr.push(line));
  const port = await Promise.race([
    portKnown,
    server.exit.then(({ code }) => {
      throw new Error(`${name} exited with ${code} before listening:\n${[...server.plainStdout, ...server.stderr].join('\n')}`);
    }),
  ]);
  server.port = port;
  server.http = `http://127.0.0.1:${port}`;
  server.ws = `ws://127.0.0.1:${port}/graphql`;
  return server;
}

/** Waits until /readyz answers 200 (the database, the chain and the first case are done). */
export async function waitReady(server: ServerProcess, timeoutMs: number) {
  await waitFor(
    `${server.name} to be ready`,
    async () => {
      if (server.exited) throw new Error(`${server.name} exited while starting:\n${server.stderr.join('\n')}`);
      return fetch(`${server.http}/readyz`).then((r) => r.ok, () => false);
    },
    timeoutMs,
    150,
  );
}

/** SIGTERM, then the exit (SIGKILL after `timeoutMs`). */
export async function stopServer(server: ServerProcess, timeoutMs = 15_000) {
  if (server.exited) return server.exit;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), timeoutMs);
  try {
    return await server.exit;
  } finally {
    clearTimeout(timer);
  }
}

/** Resident set size of a process, in kB (VmRSS of /proc/<pid>/status). */
export function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}
