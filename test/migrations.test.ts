import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postgresServerUrl } from './support/env.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { deployMigrations, diffMigrationsToSchema, migrationStatus } from '../src/db/migrations.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { adminQuery, databaseUrl, queryRows } from './support/pg-admin.js';

const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../prisma/migrations');
const SCHEMA_PATH = path.resolve(import.meta.dirname, '../prisma/schema.prisma');
const migrationNames = fs
  .readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const ENGINE_TIMEOUT = 120_000;

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-migrations-'));
}

describe('migrations and schema.prisma', () => {
  it(
    'agree: replaying every migration leaves nothing to diff (hand-written CHECKs included)',
    async () => {
      expect(await diffMigrationsToSchema()).toBe('');
    },
    ENGINE_TIMEOUT,
  );

  it(
    'disagree visibly when the schema gains a column the migrations lack',
    async () => {
      const dir = tempDir();
      const schemaPath = path.join(dir, 'schema.prisma');
      const schema = fs.readFileSync(SCHEMA_PATH, 'utf8');
      fs.writeFileSync(schemaPath, schema.replace(/(\n\s*passwordHash\s)/, '\n  nickname String?$1'));
      try {
        expect(await diffMigrationsToSchema({ schemaPath })).toMatch(/ALTER TABLE "users" ADD COLUMN\s+"nickname"/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    ENGINE_TIMEOUT,
  );
});

interface Target {
  poolConfig: pg.PoolConfig;
  stop(): Promise<void>;
}

async function freshPostgres(url: string): Promise<Target> {
  const name = `verdict_m_${crypto.randomBytes(6).toString('hex')}`;
  await adminQuery(url, `CREATE DATABASE "${name}"`);
  return {
    poolConfig: { connectionString: databaseUrl(url, name) },
    stop: () => adminQuery(url, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

const testUrl = postgresServerUrl;
const targets: Array<[string, () => Promise<Target>]> = [['PGlite (in memory)', () => startEmbeddedPostgres({})]];
if (testUrl) targets.push(['PostgreSQL server', () => freshPostgres(testUrl)]);

describe.each(targets)('deploy on an empty %s', (_label, open) => {
  // Each test on an empty database of its own.
  let target: Target;
  beforeEach(async () => {
    target = await open();
  }, ENGINE_TIMEOUT);
  afterEach(async () => {
    await target?.stop();
  });

  it('applies every migration and records it as `prisma migrate deploy` does, and nothing the second time', async () => {
    expect(await migrationStatus(target.poolConfig)).toEqual({ applied: [], pending: migrationNames });

    expect(await deployMigrations(target.poolConfig)).toEqual(migrationNames);

    const rows = await queryRows<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      target.poolConfig,
      'SELECT migration_name, checksum, finished_at FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(migrationNames);
    for (const row of rows) {
      const sql = fs.readFileSync(path.join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(crypto.createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
    }
    expect(await migrationStatus(target.poolConfig)).toEqual({ applied: migrationNames, pending: [] });
    // And nothing the second time.
    expect(await deployMigrations(target.poolConfig)).toEqual([]);
  }, ENGINE_TIMEOUT);

  it('throws on a migration whose SQL fails, and leaves none of it applied', async () => {
    const dir = tempDir();
    try {
      fs.cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      fs.mkdirSync(path.join(dir, '29990101000000_broken'));
      fs.writeFileSync(
        path.join(dir, '29990101000000_broken', 'migration.sql'),
        'ALTER TABLE "users" ADD COLUMN "half_done" INTEGER;\nSELECT 1 / 0;\n',
      );
      await expect(deployMigrations(target.poolConfig, { migrationsDir: dir })).rejects.toThrow(/division by zero/);

      const columns = await queryRows(
        target.poolConfig,
        `SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'half_done'`,
      );
      expect(columns).toHaveLength(0);
      const status = await migrationStatus(target.poolConfig, { migrationsDir: dir });
      expect(status.pending).toEqual(['29990101000000_broken']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, ENGINE_TIMEOUT);

  it('gives rewards waiting for a payout the wallet they were made for, and credits one without a wallet', async () => {
    const dir = tempDir();
    try {
      const payoutAddress = migrationNames.find((n) => n.endsWith('_reward_payout_address'))!;
      fs.cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      for (const name of migrationNames.filter((n) => n >= payoutAddress)) fs.rmSync(path.join(dir, name), { recursive: true });
      await deployMigrations(target.poolConfig, { migrationsDir: dir });

      const wallet = `0x${'Ab'.repeat(20)}`;
      const caseId = crypto.randomUUID();
      await queryRows(target.poolConfig, `
        INSERT INTO users (id, handle, password_hash, wallet_address, total_points) VALUES
          ('00000000-0000-4000-8000-000000000001', 'with_wallet', 'x', '${wallet}', 3),
          ('00000000-0000-4000-8000-000000000002', 'without', 'x', NULL, 7);
        INSERT INTO cases (id, title, dilemma, side_a_label, side_b_label, source, status, opens_at, closes_at, reward_pool, commitment, commitment_status)
          VALUES ('${caseId}', 't', repeat('d', 200), 'A', 'B', 'AI', 'OPEN', now(), now() + interval '1 day', 1000, '0x${'ab'.repeat(32)}', 'SENT');
        INSERT INTO chain_transactions (id, kind, hash, chain_id) VALUES ('00000000-0000-4000-8000-0000000000aa', 'PAYOUT', '0x${'cd'.repeat(32)}', 1337);
        INSERT INTO rewards (user_id, case_id, kind, amount, status, payout_tx_id, completed_at) VALUES
          ('00000000-0000-4000-8000-000000000001', '${caseId}', 'WINNING_VOTE', 1, 'PENDING', NULL, NULL),
          ('00000000-0000-4000-8000-000000000001', '${caseId}', 'PARTICIPATION', 2, 'PROCESSING', '00000000-0000-4000-8000-0000000000aa', NULL),
          ('00000000-0000-4000-8000-000000000001', '${caseId}', 'CREATOR', 3, 'COMPLETED', '00000000-0000-4000-8000-0000000000aa', now()),
          ('00000000-0000-4000-8000-000000000001', '${caseId}', 'TOP_ARGUMENT', 4, 'FAILED', '00000000-0000-4000-8000-0000000000aa', NULL),
          ('00000000-0000-4000-8000-000000000002', '${caseId}', 'PARTICIPATION', 7, 'COMPLETED', NULL, now()),
          -- Only a database edited by hand holds this: pending, for a user without a wallet.
          ('00000000-0000-4000-8000-000000000002', '${caseId}', 'WINNING_VOTE', 5, 'PENDING', NULL, NULL);`);

      expect(await deployMigrations(target.poolConfig)).toEqual(migrationNames.filter((n) => n >= payoutAddress));
      const rewards = await queryRows<{ handle: string; kind: string; status: string; payout_address: string | null; completed: boolean }>(
        target.poolConfig,
        `SELECT u.handle, r.kind, r.status, r.payout_address, r.completed_at IS NOT NULL AS completed
         FROM rewards r JOIN users u ON u.id = r.user_id ORDER BY u.handle DESC, r.amount`,
      );
      expect(rewards.map((r) => [r.handle, r.kind, r.status, r.payout_address, r.completed])).toEqual([
        ['without', 'WINNING_VOTE', 'COMPLETED', null, true],
        ['without', 'PARTICIPATION', 'COMPLETED', null, true],
        ['with_wallet', 'WINNING_VOTE', 'PENDING', wallet, false],
        ['with_wallet', 'PARTICIPATION', 'PROCESSING', wallet, false],
        // Paid already, to a wallet that may have been replaced since: not guessed.
        ['with_wallet', 'CREATOR', 'COMPLETED', null, true],
        ['with_wallet', 'TOP_ARGUMENT', 'FAILED', wallet, false],
      ]);
      const points = await queryRows<{ handle: string; total_points: number }>(target.poolConfig, 'SELECT handle, total_points FROM users ORDER BY handle');
      expect(points).toEqual([{ handle: 'with_wallet', total_points: 3 }, { handle: 'without', total_points: 12 }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, ENGINE_TIMEOUT);
});

if (!testUrl) {
  it.skip('deploy on an empty PostgreSQL server (skipped: set TEST_DATABASE_URL to run it)', () => {});
}

describe('CHECK constraints added by hand to the migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  const userId = crypto.randomUUID();
  const caseId = crypto.randomUUID();
  const dilemma = 'd'.repeat(200);
  const commitment = `0x${'ab'.repeat(32)}`;

  it('reject bad users and accept a good one', async () => {
    const insertUser = (handle: string, wallet: string | null, id = crypto.randomUUID()) =>
      db.prisma.$executeRaw`INSERT INTO users (id, handle, password_hash, wallet_address)
        VALUES (${id}::uuid, ${handle}, 'x', ${wallet})`;
    // PostgreSQL checks constraints in name order: the format check fires first here.
    await expect(insertUser('Alice', null)).rejects.toThrow(/users_handle_(format|lower)_check/);
    await expect(insertUser('al', null)).rejects.toThrow(/users_handle_format_check/);
    await expect(insertUser('alice!', null)).rejects.toThrow(/users_handle_format_check/);
    await expect(insertUser('alice', '0x1234')).rejects.toThrow(/users_wallet_address_format_check/);
    await expect(insertUser('alice', `0x${'Ab'.repeat(20)}`, userId)).resolves.toBe(1);
  });

  it('reject bad cases', async () => {
    const insertCase = (
      title: string,
      body: string,
      closesIn: string,
      status = 'OPEN',
      closedAt: Date | null = null,
      sealed: { commitment: string | null; sent: string } = { commitment, sent: 'SENT' },
    ) =>
      db.prisma.$executeRaw`INSERT INTO cases (id, title, dilemma, side_a_label, side_b_label, source, status,
          opens_at, closes_at, closed_at, reward_pool, commitment, commitment_status)
        VALUES (${crypto.randomUUID()}::uuid, ${title}, ${body}, 'A', 'B', 'AI', ${status}::"CaseStatus",
          now(), now() + ${closesIn}::interval, ${closedAt}, 1000, ${sealed.commitment},
          ${sealed.sent}::"CommitmentStatus")`;
    await expect(insertCase('', dilemma, '1 day')).rejects.toThrow(/cases_title_length_check/);
    await expect(insertCase('t', 'too short', '1 day')).rejects.toThrow(/cases_dilemma_length_check/);
    await expect(insertCase('t', dilemma, '-1 hour')).rejects.toThrow(/cases_window_check/);
    await expect(insertCase('t', dilemma, '1 day', 'CLOSED')).rejects.toThrow(/cases_closed_at_check/);
    await expect(insertCase('t', dilemma, '1 day', 'OPEN', new Date())).rejects.toThrow(/cases_closed_at_check/);
    // Not open before the ruling is sealed and its commitment sent.
    const unsealed = { commitment: null, sent: 'UNSENT' };
    await expect(insertCase('t', dilemma, '1 day', 'OPEN', null, unsealed)).rejects.toThrow(/cases_sealed_before_open_check/);
    await expect(insertCase('t', dilemma, '1 day', 'OPEN', null, { commitment, sent: 'UNSENT' })).rejects.toThrow(
      /cases_sealed_before_open_check/,
    );
    await expect(insertCase('t', dilemma, '1 day', 'PENDING', null, unsealed)).resolves.toBe(1);
    await expect(db.prisma.$executeRaw`INSERT INTO cases (id, title, dilemma, side_a_label, side_b_label, source,
        opens_at, closes_at, reward_pool, commitment)
      VALUES (${caseId}::uuid, 't', ${dilemma}, 'A', 'B', 'AI', now(), now() + interval '1 day', 1000,
        ${commitment})`).resolves.toBe(1);
  });

  it('reject rewards that mix up case rewards and badge bonuses or wait for a payout without an address, and unbalanced settlements', async () => {
    await expect(db.prisma.$executeRaw`INSERT INTO rewards (user_id, case_id, kind, amount)
      VALUES (${userId}::uuid, ${caseId}::uuid, 'BADGE_BONUS', 50)`).rejects.toThrow(/rewards_badge_award_check|rewards_case_check/);
    await expect(db.prisma.$executeRaw`INSERT INTO rewards (user_id, case_id, kind, amount)
      VALUES (${userId}::uuid, ${caseId}::uuid, 'WINNING_VOTE', 0)`).rejects.toThrow(/rewards_amount_check/);
    await expect(db.prisma.$executeRaw`INSERT INTO rewards (user_id, case_id, kind, amount, status)
      VALUES (${userId}::uuid, ${caseId}::uuid, 'WINNING_VOTE', 10, 'COMPLETED')`).rejects.toThrow(
      /rewards_completed_at_check/,
    );
    await expect(db.prisma.$executeRaw`INSERT INTO case_settlements (case_id, pool, winning_side, winner_count,
        participant_count, votes_a, votes_b, paid, treasury)
      VALUES (${caseId}::uuid, 1000, 'A', 1, 1, 1, 0, 900, 99)`).rejects.toThrow(/case_settlements_balance_check/);
    // Not yet credited: paid on chain, so it has the address it is paid to.
    await expect(db.prisma.$executeRaw`INSERT INTO rewards (user_id, case_id, kind, amount, status)
      VALUES (${userId}::uuid, ${caseId}::uuid, 'WINNING_VOTE', 10, 'PENDING')`).rejects.toThrow(/rewards_payout_address_check/);
    await expect(db.prisma.$executeRaw`INSERT INTO rewards (user_id, case_id, kind, amount, status, payout_address)
      VALUES (${userId}::uuid, ${caseId}::uuid, 'WINNING_VOTE', 10, 'PENDING', '0x1234')`).rejects.toThrow(/rewards_payout_address_format_check/);
    await expect(db.prisma.$executeRaw`INSERT INTO sealed_rulings (case_id, side, reasoning, salt, judge)
      VALUES (${caseId}::uuid, 'A', 'because', ${new Uint8Array(31)}, 'test')`).rejects.toThrow(
      /sealed_rulings_salt_length_check/,
    );
  });
});
