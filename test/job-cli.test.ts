import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'graphql-ws';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

// `npm run job` beside a running server on the same data directory: the server runs the job, so
// the embedded database and dev chain are not opened twice and its subscribers hear the events.
const root = path.resolve(import.meta.dirname, '..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-cli-'));
let server: ChildProcess | undefined;
afterAll(() => {
  server?.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const env = { PATH: process.env.PATH, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };

function runJob(name: string) {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/job.ts', name], { cwd: root, env });
}

async function startServer(): Promise<string> {
  server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...env, PORT: '0', HOST: '127.0.0.1', JOB_CASE_GENERATION: 'off' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  server.stderr!.on('data', (d) => (output += d));
  const origin = await new Promise<string>((resolve, reject) => {
    server!.stdout!.on('data', (d) => {
      output += d;
      const match = output.match(/GraphiQL: http:\/\/localhost:(\d+)\//);
      if (match) resolve(`127.0.0.1:${match[1]}`);
    });
    server!.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  // The control socket opens with the rest of the app: wait until the server is ready.
  for (let i = 0; i < 600; i++) {
    const ready = await fetch(`http://${origin}/readyz`).then((r) => r.ok, () => false);
    if (ready) return origin;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready: ${output}`);
}

describe('npm run job beside a running server', () => {
  it('asks the server to run the job, and the server’s subscribers hear it', async () => {
    const origin = await startServer();
    const client = createClient({ url: `ws://${origin}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const events = client.iterate<{ leaderboardUpdated: { period: string } }>({
        query: 'subscription { leaderboardUpdated(period: DAILY) { period } }',
      });
      const first = events.next();
      // Subscriptions start asynchronously: run the job until the subscriber hears one (bounded).
      let heard = false;
      void first.then(() => (heard = true));
      for (let i = 0; i < 10 && !heard; i++) {
        const { stdout } = await runJob('leaderboard');
        expect(JSON.parse(stdout)).toMatchObject({ job: 'leaderboard', trigger: 'cli', status: 'SUCCEEDED' });
        await Promise.race([first, new Promise((r) => setTimeout(r, 200))]);
      }
      expect((await first).value).toEqual({ data: { leaderboardUpdated: { period: 'DAILY' } } });
      await events.return?.();
    } finally {
      await client.dispose();
    }
    // Unknown jobs are refused by the CLI before anything is asked.
    await expect(runJob('nope')).rejects.toMatchObject({ code: 2 });
    server!.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
    expect(fs.existsSync(path.join(dataDir, 'control.sock'))).toBe(false);
  }, 180_000);
});
