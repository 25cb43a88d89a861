import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresServerUrl } from './support/env.js';

// The real entry point as `npm start` runs it: built first (its prestart), then plain node.
const ROOT = path.resolve(import.meta.dirname, '..');
const START = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const MAIN = path.join(ROOT, START.start!.replace(/^node /, ''));
beforeAll(() => {
  execFileSync('sh', ['-c', START.prestart!], { cwd: ROOT, stdio: 'inherit' });
});
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-server-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL'); // only those a failed test left running
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; output: string }>;
}

function launch(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, output })),
  );
  const started = new Promise<Server>((resolve, reject) => {
    const onData = () => {
      const match = output.match(/GraphiQL: (http:\/\/\S+)/);
      if (match) resolve({ child, url: match[1]!.replace('localhost', '127.0.0.1'), exited });
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code }) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  started.catch(() => undefined); // awaited only by callers that expect a start
  return { started, exited };
}

/**
 * The server listens at once and says ready (/readyz 200) once migrations, the chain and the first
 * case are done: resolves then. Polls every 20 ms; rejects if the process exits first.
 */
async function ready(server: Server, timeoutMs = 120_000): Promise<Server> {
  const readyz = server.url.replace(/\/graphql$/, '/readyz');
  let exited = false;
  void server.exited.then(() => (exited = true));
  const started = Date.now();
  for (;;) {
    if (exited) throw new Error(`server exited before it was ready: ${(await server.exited).output}`);
    if (Date.now() - started > timeoutMs) throw new Error('server not ready in time');
    const status = await fetch(readyz).then(async (r) => (await r.arrayBuffer(), r.status), () => 0);
    if (status === 200) return server;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const query = async (url: string, q: string, variables?: unknown) =>
  (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q, variables }) })).json();

const SIGN_UP = 'mutation($input: CredentialsInput!) { signUp(input: $input) { user { handle } } }';
const SIGN_IN = 'mutation($input: CredentialsInput!) { signIn(input: $input) { user { handle } } }';
const credentials = { input: { handle: 'persistent', password: 'a long enough password' } };

describe('npm start on the embedded database', () => {
  it('starts with no configuration, refuses a second server, stops on Ctrl-C and keeps its data', async () => {
    const first = await ready(await launch({ DATA_DIR: dataDir }).started);
    expect((await query(first.url, SIGN_UP, credentials)).data.signUp.user.handle).toBe('persistent');
    expect(fs.existsSync(path.join(dataDir, 'pgdata'))).toBe(true);

    const second = await launch({ DATA_DIR: dataDir }).exited;
    expect(second.code).toBe(1);
    expect(second.output).toMatch(/in use by process/);
    expect(second.output).toContain(dataDir);

    const t0 = Date.now();
    first.child.kill('SIGINT');
    expect((await first.exited).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);

    const again = await ready(await launch({ DATA_DIR: dataDir }).started);
    expect((await query(again.url, SIGN_IN, credentials)).data.signIn.user.handle).toBe('persistent');
    // The first start wrote a case (before it said ready), sealed on the dev chain; a restart keeps it.
    const cases = await query(again.url, '{ cases(status: OPEN, first: 5) { edges { node { source commitment } } } }');
    expect(cases.data.cases.edges.map((e: { node: { source: string } }) => e.node.source)).toEqual(['OFFLINE']);
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
  }, 180_000);

  it('listens at once: /healthz ok, /readyz and GraphQL 503 until migrations, chain and first case are done', async () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-server-fresh-'));
    try {
      const server = await launch({ DATA_DIR: fresh }).started;
      const origin = server.url.replace(/\/graphql$/, '');
      // At once, while the database is still being made:
      const health = await fetch(`${origin}/healthz`);
      expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
      const readyz = await fetch(`${origin}/readyz`);
      expect([readyz.status, await readyz.json()]).toEqual([503, { status: 'starting' }]);
      const early = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect(early.status).toBe(503);
      expect(early.headers.get('retry-after')).toBe('1');
      expect((await early.json()).errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');

      await ready(server);
      // Ready means: the schema is migrated, the chain holds the first case's commitment.
      const open = await query(server.url, '{ cases(status: OPEN, first: 5) { edges { node { id source commitment } } } }');
      const [first] = open.data.cases.edges.map((e: { node: { id: string; source: string; commitment: string } }) => e.node);
      expect(first.source).toBe('OFFLINE');
      const verified = await query(server.url, 'query($id: ID!) { verifyVerdict(caseId: $id) { onChainCommitment } }', { id: first.id });
      expect(verified.data.verifyVerdict.onChainCommitment).toBe(first.commitment);
      expect((await fetch(`${origin}/healthz`)).status).toBe(200);
      server.child.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  }, 180_000);

  it('stops at start-up on a bad setting, naming the variable', async () => {
    const { code, output } = await launch({ DATA_DIR: dataDir, PORT: 'eighty' }).exited;
    expect(code).toBe(1);
    expect(output).toMatch(/PORT/);
    const badUrl = await launch({ DATA_DIR: dataDir, DATABASE_URL: 'mysql://nope' }).exited;
    expect(badUrl.code).toBe(1);
    expect(badUrl.output).toMatch(/DATABASE_URL/);
  }, 60_000);
});

const serverUrl = postgresServerUrl;
describe.skipIf(!serverUrl)('npm start with DATABASE_URL (skipped: set TEST_DATABASE_URL to a PostgreSQL server)', () => {
  it('runs the same schema and migrations on a PostgreSQL server', async () => {
    const name = `verdict_srv_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const url = new URL(serverUrl!);
      url.pathname = `/${name}`;
      const server = await ready(await launch({ DATA_DIR: dataDir, DATABASE_URL: url.toString() }).started);
      expect((await query(server.url, SIGN_UP, credentials)).data.signUp.user.handle).toBe('persistent');
      expect((await fetch(server.url.replace('/graphql', '/readyz'))).status).toBe(200);
      server.child.kill('SIGINT');
      expect((await server.exited).code).toBe(0);
      const db = new pg.Client({ connectionString: url.toString() });
      await db.connect();
      const { rows } = await db.query('SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL');
      await db.end();
      expect(rows[0].n).toBeGreaterThan(0);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }, 120_000);
});
