// Several servers, one database: whether a case is open is decided by the database's clock, not
// by each server's. Needs a PostgreSQL server: PGlite runs in this process and shares its clock.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPrismaClient } from '../src/db.js';
import { deployMigrations } from '../src/db/migrations.js';
import { issueSessionToken } from '../src/domain/sessions.js';
import { CastVoteDocument, SubmitArgumentDocument, UpvoteArgumentDocument } from './generated/graphql.js';
import { createTestApp, errorCode, type TestApp } from './support/app.js';
import { postgresServerUrl } from './support/env.js';
import { createCase, createUser } from './support/fixtures.js';
import { adminQuery, databaseUrl } from './support/pg-admin.js';

describe.skipIf(!postgresServerUrl)('a server whose clock lags (skipped: set TEST_DATABASE_URL)', () => {
  let t: TestApp;
  let dbUrl: string;
  const logged = new EventEmitter();
  beforeAll(async () => {
    // A database of its own on the PostgreSQL server, whichever database the other tests use.
    const url = postgresServerUrl!;
    const name = `verdict_clock_${randomBytes(4).toString('hex')}`;
    await adminQuery(url, `CREATE DATABASE "${name}"`);
    const poolConfig = { connectionString: databaseUrl(url, name) };
    await deployMigrations(poolConfig);
    const prisma = createPrismaClient(poolConfig, { embedded: false });
    const close = async () => {
      await prisma.$disconnect();
      await adminQuery(url, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    };
    t = await createTestApp({}, { database: { prisma, poolConfig, embedded: false, close }, logStream: { write: (line) => logged.emit('line', JSON.parse(line)) } });
    dbUrl = databaseUrl(url, name);
  });
  afterAll(() => t.close());

  const signedIn = async () => (await issueSessionToken(t.db, t.sessions, (await createUser(t.db)).id)).token;
  const body = 'An argument long enough to be accepted by the rules.';

  it('cannot vote, argue or upvote on a case that closed by the database clock', async () => {
    const [token, author] = [await signedIn(), await signedIn()];
    const c = await createCase(t.db);
    const argued = await t.gql(SubmitArgumentDocument, { caseId: c.id, side: 'A', body }, { token: author });
    await t.db.$executeRaw`UPDATE cases SET closes_at = now() - interval '30 seconds' WHERE id = ${c.id}::uuid`;
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() - 60_000); // this server's clock is a minute behind the database's
      expect(errorCode(await t.gql(CastVoteDocument, { caseId: c.id, side: 'A' }, { token }))).toBe('CASE_CLOSED');
      expect(errorCode(await t.gql(SubmitArgumentDocument, { caseId: c.id, side: 'B', body }, { token }))).toBe('CASE_CLOSED');
      expect(errorCode(await t.gql(UpvoteArgumentDocument, { argumentId: argued.data!.submitArgument.id }, { token }))).toBe('CASE_CLOSED');
    } finally {
      vi.useRealTimers();
    }
    expect(await t.db.vote.count({ where: { caseId: c.id } })).toBe(0);
  });

  it('closes a case whose row stays locked by a vote in flight: a bounded wait, then again', async () => {
    const c = await createCase(t.db, { opensAt: new Date(Date.now() - 3600_000), closesAt: new Date(Date.now() - 1000) });
    // A vote in flight, as castVote holds it: a share lock on the case row, not let go.
    const voter = new pg.Client({ connectionString: dbUrl });
    await voter.connect();
    try {
      await voter.query('BEGIN');
      await voter.query('SELECT 1 FROM cases WHERE id = $1 FOR SHARE', [c.id]);
      const retried = new Promise<void>((resolve) =>
        logged.on('line', (line: { msg?: string; caseId?: string }) => {
          if (line.msg?.includes('closing again') && line.caseId === c.id) resolve();
        }),
      );
      const run = t.scheduler.runNow('case-closure');
      await retried; // the first attempt gave up waiting (lock_timeout), and the job tries again
      await voter.query('COMMIT');
      expect(await run).toMatchObject({ status: 'SUCCEEDED', failures: 0 });
    } finally {
      await voter.end();
    }
    expect((await t.db.case.findUniqueOrThrow({ where: { id: c.id } })).status).toBe('CLOSED');
  });

  it('does not close a case early when its own clock runs ahead', async () => {
    const c = await createCase(t.db, { opensAt: new Date(Date.now() - 3600_000), closesAt: new Date(Date.now() + 3600_000) });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 2 * 3600_000); // two hours ahead: by its clock the case is due
      await t.scheduler.runNow('case-closure');
    } finally {
      vi.useRealTimers();
    }
    expect((await t.db.case.findUniqueOrThrow({ where: { id: c.id } })).status).toBe('OPEN');
  });
});
