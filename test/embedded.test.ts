import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, startEmbeddedPostgres } from '../src/db/embedded.js';
import { queryRows } from './support/pg-admin.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

const START_TIMEOUT = 60_000;

/** Inodes of TCP sockets in LISTEN state that this process holds (Linux /proc). */
function ownTcpListeners(): Set<string> {
  const listening = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && cols[9]) listening.add(cols[9]);
    }
  }
  const own = new Set<string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`))?.[1];
      if (inode && listening.has(inode)) own.add(inode);
    } catch {
      // The fd closed while we looked.
    }
  }
  return own;
}

describe('embedded PostgreSQL on a data directory', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-embedded-'));
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('refuses a second server on the same directory, keeps data across a restart', async () => {
    const dataDir = path.join(root, 'data');
    const first = await startEmbeddedPostgres({ dataDir });
    try {
      expect(fs.readFileSync(path.join(dataDir, 'verdict.lock'), 'utf8').trim()).toBe(String(process.pid));
      const second = startEmbeddedPostgres({ dataDir });
      await expect(second).rejects.toBeInstanceOf(DataDirLockedError);
      await expect(second).rejects.toThrow(new RegExp(`${dataDir}.*process ${process.pid}`));
      await queryRows(first.poolConfig, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')`);
    } finally {
      await first.stop();
    }
    expect(fs.existsSync(path.join(dataDir, 'verdict.lock'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, '.s.PGSQL.5432'))).toBe(false);
    await first.stop(); // idempotent

    const again = await startEmbeddedPostgres({ dataDir });
    try {
      expect(await queryRows(again.poolConfig, 'SELECT v FROM kept')).toEqual([{ v: 'still here' }]);
    } finally {
      await again.stop();
    }
  }, START_TIMEOUT);

  it('takes over a lock left by a process that died', async () => {
    const dataDir = path.join(root, 'stale');
    fs.mkdirSync(dataDir);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    fs.writeFileSync(path.join(dataDir, 'verdict.lock'), `${dead}\n`);
    const db = await startEmbeddedPostgres({ dataDir });
    try {
      expect(fs.readFileSync(path.join(dataDir, 'verdict.lock'), 'utf8').trim()).toBe(String(process.pid));
    } finally {
      await db.stop();
    }
  }, START_TIMEOUT);

  it('serves a private Unix socket and opens no TCP port', async () => {
    const before = ownTcpListeners();
    const db = await startEmbeddedPostgres({});
    try {
      expect(ownTcpListeners()).toEqual(before);
      const host = db.poolConfig.host!;
      expect(path.isAbsolute(host)).toBe(true);
      expect(fs.statSync(path.join(host, '.s.PGSQL.5432')).isSocket()).toBe(true);
      expect(fs.statSync(host).mode & 0o777).toBe(0o700);
      expect(db.poolConfig.max).toBe(1);
      expect(await queryRows(db.poolConfig, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await db.stop();
    }
    expect(fs.existsSync(db.poolConfig.host!)).toBe(false);
  }, START_TIMEOUT);
});

describe('isolation through one Prisma client (createTestDatabase: PGlite, or PostgreSQL when set)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('keeps concurrent queries and interactive transactions apart', async () => {
    const { prisma } = db;
    class Rollback extends Error {}
    const marker = (tag: string) => prisma.$queryRaw<{ m: string }[]>`SELECT ${tag}::text AS m`;

    // Rows of transactions that roll back are never committed: nobody may ever see them.
    const plain = Array.from({ length: 60 }, async (_, i) => {
      await sleep(i % 7);
      expect(await marker(`plain-${i}`)).toEqual([{ m: `plain-${i}` }]);
      expect(await prisma.jobRun.count({ where: { job: { startsWith: 'rollback-' } } })).toBe(0);
    });

    const transactions = Array.from({ length: 8 }, (_, i) => {
      const job = i % 2 ? `rollback-${i}` : `commit-${i}`;
      return prisma
        .$transaction(async (tx) => {
          const mine = await tx.jobRun.create({ data: { job, trigger: 'test' } });
          expect(await tx.$queryRaw`SELECT ${job}::text AS m`).toEqual([{ m: job }]);
          await sleep(20 + 10 * (i % 3));
          const seen = await tx.jobRun.findMany({
            where: { OR: [{ job: { startsWith: 'commit-' } }, { job: { startsWith: 'rollback-' } }] },
          });
          expect(seen.filter((r) => r.job === job).map((r) => r.id)).toEqual([mine.id]);
          expect(seen.filter((r) => r.job.startsWith('rollback-') && r.job !== job)).toEqual([]);
          if (job.startsWith('rollback-')) throw new Rollback(job);
          return mine.id;
        })
        .then(
          (id) => ({ job, id }),
          (err: unknown) => {
            if (err instanceof Rollback) return { job, id: null };
            throw err;
          },
        );
    });

    const [outcomes] = await Promise.all([Promise.all(transactions), Promise.all(plain)]);

    const rows = await prisma.jobRun.findMany({ where: { trigger: 'test' }, orderBy: { job: 'asc' } });
    const committed = outcomes.filter((o) => o.id !== null);
    expect(committed).toHaveLength(4);
    expect(rows.map((r) => ({ job: r.job, id: r.id }))).toEqual(
      committed.sort((a, b) => a.job.localeCompare(b.job)),
    );
  }, 60_000);
});
