import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { JOB_NAMES, type JobName } from './jobs/types.js';
import type { RunOutcome, Scheduler } from './jobs/scheduler.js';

/**
 * A running server's local control socket, `<DATA_DIR>/control.sock`: `npm run job` on the same
 * data directory asks the server to run the job, so its events reach the server's subscribers and
 * the embedded database and dev chain (which one process holds) are not needed twice. Only the
 * owner of the data directory can reach it (file mode 0600). One JSON line in, one JSON line out.
 */
const socketPath = (dataDir: string) => path.join(dataDir, 'control.sock');
/** sun_path holds 108 bytes on Linux. */
const usable = (file: string) => Buffer.byteLength(file) < 100;

export async function startControlSocket(dataDir: string, scheduler: Scheduler, log: Logger): Promise<() => Promise<void>> {
  const file = socketPath(dataDir);
  if (!usable(file)) {
    log.warn({ file }, 'data directory path too long for a control socket: npm run job will run jobs itself');
    return async () => {};
  }
  fs.rmSync(file, { force: true });
  const server = net.createServer((socket) => {
    let input = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      input += chunk;
      if (input.length > 1000) return socket.destroy();
      if (!input.includes('\n')) return;
      let job: unknown;
      try {
        job = (JSON.parse(input.slice(0, input.indexOf('\n'))) as { job?: unknown }).job;
      } catch {
        job = undefined;
      }
      if (!JOB_NAMES.includes(job as JobName)) {
        socket.end(`${JSON.stringify({ error: `Unknown job ${String(job)}` })}\n`);
        return;
      }
      scheduler.runNow(job as JobName, 'cli').then(
        (outcome) => socket.end(`${JSON.stringify({ outcome })}\n`),
        (error: unknown) => socket.end(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => resolve());
  });
  fs.chmodSync(file, 0o600);
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      fs.rmSync(file, { force: true });
    });
}

/** The outcome from the server holding `dataDir`, or null when no server answers there. */
export async function runJobOnServer(dataDir: string, job: JobName): Promise<RunOutcome | null> {
  const file = socketPath(dataDir);
  if (!usable(file) || !fs.existsSync(file)) return null;
  return new Promise((resolve, reject) => {
    const socket = net.connect(file);
    let output = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ job })}\n`));
    socket.on('data', (chunk: string) => (output += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A socket file left by a server that died: nobody is listening.
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(null);
      else reject(error);
    });
    socket.on('end', () => {
      try {
        const answer = JSON.parse(output) as { outcome?: RunOutcome; error?: string };
        if (answer.error) reject(new Error(answer.error));
        else resolve(answer.outcome!);
      } catch {
        reject(new Error(`The server on ${dataDir} closed the control socket without an answer`));
      }
    });
  });
}
