import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type pg from 'pg';

/** Name libpq and node-postgres look for inside the socket directory given as `host`. */
const SOCKET_PORT = 5432;
const SOCKET_NAME = `.s.PGSQL.${SOCKET_PORT}`;
/** sun_path holds 108 bytes on Linux (104 on macOS); stay well below. */
const MAX_SOCKET_PATH = 100;

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `The data directory ${dataDir} is in use by process ${pid} (lock file ${lockPath(dataDir)}). ` +
        'Stop that process first; delete the lock file only if that process is not a Verdict server.',
    );
  }
}

export interface EmbeddedPostgres {
  /** node-postgres settings for the Unix socket; one connection only (see ENVIRONMENT.md). */
  poolConfig: pg.PoolConfig;
  pglite: PGlite;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Persist under `<dataDir>/pgdata`; undefined keeps the database in memory. */
  dataDir?: string;
  /** A `dumpDataDir()` tarball to start from (e.g. a migrated template). */
  loadDataDir?: Blob | File;
  /**
   * PostgreSQL's shared_buffers, e.g. '16MB'. PGlite's default (128MB) is allocated and touched
   * inside the WASM heap at start: about 120 MB of resident memory a small database never needs.
   */
  sharedBuffers?: string;
  /** The release of a lock on `dataDir` taken already with lockDataDir(); stop() releases it. */
  heldLock?: () => void;
}

const lockPath = (dataDir: string) => path.join(dataDir, 'verdict.lock');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data directory for this process (see acquireLock), creating it if need be; throws
 * DataDirLockedError while another live process holds it. Returns the release.
 */
export function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return acquireLock(path.resolve(dataDir));
}

/** PGlite does not lock its directory and two writers lose data: hold a PID file, O_EXCL. */
function acquireLock(dataDir: string): () => void {
  const file = lockPath(dataDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) throw new DataDirLockedError(dataDir, pid);
    // Stale (owner died, or the file is garbage): take it over. Two processes doing this at the
    // same moment could both win; starting servers is a human action, so that race is accepted.
    fs.rmSync(file, { force: true });
  }
  throw new Error(`Could not take the lock ${file}: another process keeps recreating it`);
}

/** A socket directory nobody else can enter; the socket has no authentication. */
function socketDirFor(dataDir: string | undefined): { dir: string; temporary: boolean } {
  if (dataDir && Buffer.byteLength(path.join(dataDir, SOCKET_NAME)) < MAX_SOCKET_PATH) {
    return { dir: dataDir, temporary: false };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-pg-'));
  fs.chmodSync(dir, 0o700);
  return { dir, temporary: true };
}

const ADMIT_POLL_MS = 5;
const ADMIT_TIMEOUT_MS = 30_000;

/**
 * Two live connections interleave their protocol messages on the socket server (queries ran the
 * other connection's SQL). So connections queue: the next one is attached only once the server
 * holds none, and one that waits too long is dropped.
 */
function oneConnectionAtATime(server: PGLiteSocketServer): void {
  const internals = server as unknown as { handleConnection(socket: net.Socket): Promise<void> };
  const attach = internals.handleConnection.bind(server);
  const waiting: Array<{ socket: net.Socket; since: number }> = [];
  let timer: NodeJS.Timeout | undefined;
  const pump = () => {
    timer = undefined;
    const now = Date.now();
    for (let i = waiting.length - 1; i >= 0; i--) {
      const w = waiting[i]!;
      if (w.socket.destroyed || now - w.since > ADMIT_TIMEOUT_MS) {
        w.socket.destroy();
        waiting.splice(i, 1);
      }
    }
    // The server registers the handler synchronously, so the count is right at once.
    if (waiting.length && server.getStats().activeConnections === 0) void attach(waiting.shift()!.socket);
    if (waiting.length) timer = setTimeout(pump, ADMIT_POLL_MS);
  };
  internals.handleConnection = async (socket) => {
    waiting.push({ socket, since: Date.now() });
    if (!timer) pump();
  };
  server.addEventListener('close', () => {
    clearTimeout(timer);
    for (const w of waiting.splice(0)) w.socket.destroy();
  });
}

/**
 * Embedded PostgreSQL (PGlite) served on a Unix socket, so the ordinary `pg` driver and
 * `@prisma/adapter-pg` work unchanged. Never TCP: the socket server has no authentication.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions = {}): Promise<EmbeddedPostgres> {
  const dataDir = opts.dataDir && path.resolve(opts.dataDir);
  let releaseLock = opts.heldLock ?? (() => {});
  if (dataDir && !opts.heldLock) releaseLock = lockDataDir(dataDir);

  const cleanups: Array<() => Promise<void> | void> = [releaseLock];
  const runCleanups = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  };

  try {
    const pglite = await PGlite.create({
      ...(dataDir ? { dataDir: path.join(dataDir, 'pgdata') } : {}),
      ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
      ...(opts.sharedBuffers ? { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${opts.sharedBuffers}`] } : {}),
    });
    cleanups.push(() => (pglite.closed ? undefined : pglite.close()));

    const { dir, temporary } = socketDirFor(dataDir);
    const socketPath = path.join(dir, SOCKET_NAME);
    cleanups.push(() => fs.rmSync(temporary ? dir : socketPath, { recursive: true, force: true }));
    // We hold the lock, so a socket file left here belongs to a dead server.
    fs.rmSync(socketPath, { force: true });

    // maxConnections also caps Node's accept queue, which still counts a just-closed socket:
    // with 1 a quick reconnect is refused (EPIPE). Exclusivity comes from oneConnectionAtATime.
    const server = new PGLiteSocketServer({ db: pglite, path: socketPath, maxConnections: 64 });
    oneConnectionAtATime(server);
    await server.start();
    cleanups.push(() => server.stop());
    // Connecting needs write access to the socket file: the owner's only, whatever the umask.
    fs.chmodSync(socketPath, 0o600);

    let stopping: Promise<void> | undefined;
    return {
      pglite,
      poolConfig: {
        host: dir,
        port: SOCKET_PORT,
        user: 'postgres',
        database: 'postgres',
        // More than one connection interleaves protocol messages on the socket server.
        max: 1,
        // Other clients of this database wait for the connection: do not sit on it when idle.
        idleTimeoutMillis: 1_000,
      },
      stop: () => (stopping ??= runCleanups()),
    };
  } catch (err) {
    await runCleanups();
    throw err;
  }
}
