// `me { export }` and `npm run export`: everything Verdict holds about a user as one JSON
// document, the user's own, without secrets, rate limited, on PGlite and PostgreSQL alike.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createPrismaClient, type Db } from '../src/db.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { archiveCase } from '../src/domain/archive.js';
import { exportUserData, type UserExport } from '../src/domain/export.js';
import { verifyLedgerProof, type LedgerEntry } from '../src/domain/ledger.js';
import { issueSessionToken } from '../src/domain/sessions.js';
import { createTestApp, errorCode, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { createCase, createUser } from './support/fixtures.js';

const root = path.resolve(import.meta.dirname, '..');
const cliDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-export-'));

/**
 * The database under test, which `npm run export` must reach too: the PostgreSQL server's (with
 * TEST_DATABASE_URL), or else PGlite persisted in a data directory the CLI opens once the app is closed.
 */
async function databaseForCli(onQuery: (sql: string) => void): Promise<{ database: TestDatabase; cliEnv: Record<string, string> }> {
  if (process.env.TEST_DATABASE_URL) {
    const database = await createTestDatabase({ onQuery });
    return { database, cliEnv: { DATABASE_URL: String(database.poolConfig.connectionString), DATA_DIR: cliDataDir } };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: cliDataDir, loadDataDir: await fs.openAsBlob(inject('pgliteTemplateFile')) });
  const prisma = createPrismaClient(embedded.poolConfig, { embedded: true, onQuery });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= prisma.$disconnect().then(() => embedded.stop()));
  return { database: { prisma, poolConfig: embedded.poolConfig, embedded: true, close }, cliEnv: { DATA_DIR: cliDataDir } };
}

const queries: string[] = [];
let t: TestApp;
let cliEnv: Record<string, string>;
let closed = false;
beforeAll(async () => {
  const target = await databaseForCli((sql) => queries.push(sql));
  cliEnv = target.cliEnv;
  t = await createTestApp({}, { database: target.database });
});
afterAll(async () => {
  if (!closed) await t.close();
  fs.rmSync(cliDataDir, { recursive: true, force: true });
});

const tokenOf = async (userId: string) => (await issueSessionToken(t.db, t.sessions, userId)).token;

async function ask(query: string, token?: string) {
  const body = await t.query(query, token);
  expect(body.errors).toBeUndefined();
  return body.data;
}

const exportOf = async (token: string): Promise<UserExport> => (await ask('{ me { export } }', token)).me.export;
const withoutTime = ({ exportedAt: _, ...rest }: UserExport) => rest;

function runExport(handle: string) {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/export.ts', handle], {
    cwd: root,
    env: { PATH: process.env.PATH, ...cliEnv },
    maxBuffer: 64 * 1024 * 1024,
  });
}

describe('me { export }', () => {
  const passwordHash = `scrypt$${randomBytes(24).toString('hex')}`;
  const codeHash = randomBytes(32).toString('hex');
  let alice: Awaited<ReturnType<typeof createUser>>;
  let aliceToken: string;
  let bobToken: string;
  let caseId: string;
  let submissionId: string;
  let bobArgumentId: string;
  let document: UserExport;

  beforeAll(async () => {
    const generated = await t.scheduler.runNow('case-generation');
    caseId = ('result' in generated && (generated.result as { opened: string[] }).opened[0]) || '';
    const ruling = await t.db.sealedRuling.findUniqueOrThrow({ where: { caseId } });
    const losing = ruling.side === 'A' ? 'B' : 'A';

    alice = await createUser(t.db, { handle: 'alice' });
    const bob = await createUser(t.db, { handle: 'bob' });
    await t.db.user.update({ where: { id: alice.id }, data: { passwordHash, walletAddress: Wallet.createRandom().address, isBetaUser: true } });
    [aliceToken, bobToken] = await Promise.all([tokenOf(alice.id), tokenOf(bob.id)]);

    await ask(`mutation { castVote(caseId: "${caseId}", side: ${ruling.side}) { side } }`, aliceToken);
    await ask(`mutation { castVote(caseId: "${caseId}", side: ${losing}) { side } }`, bobToken);
    const body = 'Alice argues at length that the ruling side is right.';
    const aliceArgument = (await ask(`mutation { submitArgument(caseId: "${caseId}", side: ${ruling.side}, body: "${body}") { id } }`, aliceToken)).submitArgument.id;
    await ask(`mutation { submitArgument(caseId: "${caseId}", side: ${losing}, body: "Bob argues the other side at length.") { id } }`, bobToken);
    bobArgumentId = (await t.db.argument.findFirstOrThrow({ where: { userId: bob.id } })).id;
    await ask(`mutation { upvoteArgument(argumentId: "${bobArgumentId}") { upvoteCount } }`, aliceToken);
    await ask(`mutation { upvoteArgument(argumentId: "${aliceArgument}") { upvoteCount } }`, bobToken);
    await ask('mutation { updateNotificationSettings(input: { rewardFailed: IN_APP }) { rewardFailed } }', aliceToken);

    await t.db.userEmail.create({ data: { userId: alice.id, address: 'alice@example.org', codeHash, codeExpiresAt: new Date(Date.now() + 3600_000) } });
    await t.db.walletNonce.create({ data: { nonce: randomBytes(16).toString('hex'), userId: alice.id, expiresAt: new Date(Date.now() + 600_000) } });
    submissionId = (await createCase(t.db, { creatorId: alice.id, title: 'Alice asks', reasoning: 'A sealed ruling nobody may read yet' })).id;

    await t.db.$executeRaw`UPDATE cases SET closes_at = now() WHERE id = ${caseId}::uuid`;
    await t.scheduler.runNow('case-closure');
    await t.scheduler.runNow('badges');
    // Alice has a wallet: her points come once the payout transaction is confirmed.
    await t.scheduler.runNow('tx-monitor');
    await t.scheduler.runNow('leaderboard');
    document = await exportOf(aliceToken);
  }, 120_000);

  it('holds the profile and one section per kind of data, in order of time', async () => {
    const user = await t.db.user.findUniqueOrThrow({ where: { id: alice.id } });
    expect(document).toMatchObject({
      format: 'verdict-export/1',
      profile: {
        id: alice.id,
        handle: 'alice',
        role: 'USER',
        walletAddress: user.walletAddress,
        totalPoints: user.totalPoints,
        isBetaUser: true,
        createdAt: user.createdAt.toISOString(),
        email: { address: 'alice@example.org', verified: false, verifiedAt: null },
        notificationSettings: { caseClosed: 'EMAIL', badgeEarned: 'EMAIL', rewardConfirmed: 'EMAIL', rewardFailed: 'IN_APP' },
      },
      sessions: expect.arrayContaining([expect.objectContaining({ revokedAt: null, expiresAt: expect.any(String) })]),
      votes: [{ caseId, archived: false }],
      arguments: [{ caseId, body: 'Alice argues at length that the ruling side is right.', upvoteCount: 1 }],
      upvotes: [{ argumentId: bobArgumentId, caseId, archived: false }],
      submissions: [{ id: submissionId, title: 'Alice asks', status: 'OPEN' }],
      walletChallenges: [{ usedAt: null }],
    });
    expect(new Date(document.exportedAt).toISOString()).toBe(document.exportedAt);
    expect(document.rewards.map((r) => r.kind)).toEqual(expect.arrayContaining(['WINNING_VOTE', 'PARTICIPATION', 'TOP_ARGUMENT', 'BADGE_BONUS']));
    expect(document.badges.map((b) => b.key)).toEqual(expect.arrayContaining(['first_win', 'early_adopter', 'blockchain_ready']));
    expect(document.notifications.map((n) => n.kind)).toEqual(expect.arrayContaining(['CASE_CLOSED', 'BADGE_EARNED']));
    expect(document.rewards.filter((r) => r.status === 'COMPLETED' && r.transactionHash).length).toBeGreaterThan(0);
    expect(document.leaderboard.points?.allTime).toBe(user.totalPoints);
    expect(document.leaderboard.entries.map((e) => e.period)).toEqual(['ALL_TIME', 'WEEKLY', 'DAILY']);
    for (const section of [document.rewards, document.notifications]) {
      const keys = section.map((row) => `${row.createdAt} ${row.id}`);
      expect(keys).toEqual([...keys].sort());
    }
  });

  it('gives each ledger entry the key and proof to check it against the revealed root', async () => {
    const { case: revealed } = await ask(`{ case(id: "${caseId}") { ledger { root } myReceipt { caseKey userKey ledgerRoot entries { entry detail value leaf proof } } } }`, aliceToken);
    const [receipt, ...others] = document.receipts;
    expect(others).toEqual([]);
    const byLeaf = (a: { leaf: string }, b: { leaf: string }) => a.leaf.localeCompare(b.leaf);
    expect({ ...receipt, entries: [...receipt!.entries].sort(byLeaf) }).toEqual({
      caseId,
      ...revealed.myReceipt,
      entries: [...revealed.myReceipt.entries].sort(byLeaf),
    });
    expect(receipt!.ledgerRoot).toBe(revealed.ledger.root);
    for (const e of receipt!.entries) {
      const entry: LedgerEntry = e.entry === 'vote'
        ? { entry: 'vote', userKey: receipt!.userKey, side: e.detail as 'A' | 'B', at: new Date(Number(e.value)) }
        : { entry: 'reward', userKey: receipt!.userKey, kind: e.detail, amount: Number(e.value) };
      expect(verifyLedgerProof(receipt!.ledgerRoot!, caseId, entry, e.proof!)).toBe(true);
    }
  });

  it('holds no secret: password hash, e-mail code hash, ledger salt, a sealed ruling, tokens', async () => {
    const text = JSON.stringify(document);
    const { ledgerSalt } = await t.db.user.findUniqueOrThrow({ where: { id: alice.id } });
    const sealed = await t.db.sealedRuling.findUniqueOrThrow({ where: { caseId: submissionId } });
    const secrets = [
      passwordHash,
      codeHash,
      Buffer.from(ledgerSalt).toString('hex'),
      Buffer.from(ledgerSalt).toString('base64'),
      sealed.reasoning,
      Buffer.from(sealed.salt).toString('hex'),
      aliceToken,
    ];
    for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it('is the user’s own: FORBIDDEN to another user, UNAUTHENTICATED without a session', async () => {
    const byBob = await t.query('{ user(handle: "alice") { handle export } }', bobToken);
    expect(errorCode(byBob)).toBe('FORBIDDEN');
    // Null on anyone else, the rest of the answer kept (as every field that is yours only).
    expect(byBob.data.user).toEqual({ handle: 'alice', export: null });
    expect(errorCode(await t.query('{ user(handle: "alice") { export } }'))).toBe('UNAUTHENTICATED');
    const { user } = await ask('{ user(handle: "alice") { export } }', aliceToken);
    expect(withoutTime(user.export)).toEqual(withoutTime(document));
  });

  it('keeps archived votes and upvotes, flagged archived', async () => {
    expect(await archiveCase(t.db, caseId, new Date())).toBe(true);
    const archived = await exportOf(aliceToken);
    expect(archived.votes).toEqual(document.votes.map((v) => ({ ...v, archived: true })));
    expect(archived.upvotes).toEqual(document.upvotes.map((u) => ({ ...u, archived: true })));
    expect(archived.receipts).toEqual(document.receipts);
  });

  it('reads every section through an index (no sequential scan, even where one would be cheaper)', async () => {
    queries.length = 0;
    await exportUserData(t.db, alice.id);
    const selects = queries.filter((sql) => /^\s*SELECT/i.test(sql));
    expect(selects.length).toBeGreaterThan(10);
    const plans = await t.db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
      // The plan for any user: parameters stay parameters.
      await tx.$executeRawUnsafe('SET LOCAL plan_cache_mode = force_generic_plan');
      const found: string[] = [];
      for (const [i, sql] of selects.entries()) {
        const params = Math.max(0, ...[...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
        await tx.$executeRawUnsafe(`PREPARE export_${i} AS ${sql}`);
        const rows = await tx.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN EXECUTE export_${i}(${Array(params).fill('NULL').join(', ')})`);
        await tx.$executeRawUnsafe(`DEALLOCATE export_${i}`);
        found.push(`${sql}\n${rows.map((r) => r['QUERY PLAN']).join('\n')}`);
      }
      return found;
    });
    for (const plan of plans) expect(plan).not.toMatch(/Seq Scan/);
  });

  it('lists the sessions, without token material', async () => {
    const { token, sessionId } = await issueSessionToken(t.db, t.sessions, alice.id, new Date(), { address: '203.0.113.9', userAgent: 'test-agent/1' });
    const { sessions } = await exportUserData(t.db, alice.id);
    expect(sessions).toContainEqual(expect.objectContaining({ id: sessionId, clientAddress: '203.0.113.9', userAgent: 'test-agent/1', revokedAt: null }));
    expect(JSON.stringify(sessions)).not.toContain(token);
  });

  it('is refused in a subscription, where it would run at every event', async () => {
    const response = await t.app.yoga.fetch(`http://verdict.test${t.config.GRAPHQL_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${aliceToken}` },
      body: JSON.stringify({ query: 'subscription { caseClosed { creator { export } } }' }),
    });
    expect(await response.text()).toContain('BAD_USER_INPUT');
  });

  it('allows RATE_LIMIT_EXPORTS_PER_HOUR (5) exports per user per hour, then RATE_LIMITED with retryAfterSeconds', async () => {
    const user = await createUser(t.db);
    const token = await tokenOf(user.id);
    for (let i = 0; i < 5; i++) await exportOf(token);
    const refused = await t.query('{ me { export } }', token);
    expect(errorCode(refused)).toBe('RATE_LIMITED');
    expect(refused.errors[0].extensions.retryAfterSeconds).toBeGreaterThan(3500);
    expect(refused.errors[0].extensions.retryAfterSeconds).toBeLessThanOrEqual(3600);
    // Each export in an operation counts: three aliases are three.
    const other = await tokenOf((await createUser(t.db)).id);
    await ask('{ a: me { export } b: me { export } c: me { export } }', other);
    expect(errorCode(await t.query('{ a: me { export } b: me { export } c: me { export } }', other))).toBe('RATE_LIMITED');
    // Another user's limit is their own.
    await exportOf(await tokenOf((await createUser(t.db)).id));
  });

  it('npm run export prints the same document; refuses an unknown handle (and, embedded, a data directory in use)', async () => {
    const expected = await exportUserData(t.db, alice.id);
    if (t.embedded) {
      // PGlite serves one process: while the app holds the data directory, the CLI refuses to open it.
      await expect(runExport('alice')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('is in use by process') });
      await t.close();
      closed = true;
    }
    const { stdout } = await runExport('Alice');
    expect(withoutTime(JSON.parse(stdout))).toEqual(withoutTime(expected));
    await expect(runExport('nobody')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('No user with the handle nobody') });
  }, 120_000);
});
