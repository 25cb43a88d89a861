import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { createClient } from 'graphql-ws';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startRuntime, type Runtime } from '../src/runtime.js';
import { createPrismaClient, type Db } from '../src/db.js';
import { deployMigrations } from '../src/db/migrations.js';
import { postgresServerUrl, redisUrl } from './support/env.js';
import { adminQuery, databaseUrl } from './support/pg-admin.js';

describe.skipIf(!redisUrl || !postgresServerUrl)('two servers on one PostgreSQL and one Redis (skipped: set TEST_DATABASE_URL and TEST_REDIS_URL)', () => {
  const name = `verdict_scale_${randomBytes(4).toString('hex')}`;
  const clients: Db[] = [];
  const servers: { runtime: Runtime; app: App; url: string }[] = [];

  beforeAll(async () => {
    await adminQuery(postgresServerUrl!, `CREATE DATABASE "${name}"`);
    const poolConfig = { connectionString: databaseUrl(postgresServerUrl!, name) };
    await deployMigrations(poolConfig);
    const config = loadConfig({ DATA_DIR: os.tmpdir(), REDIS_URL: redisUrl!, SESSION_SECRET: randomBytes(24).toString('hex'), LOG_LEVEL: 'silent' });
    for (let i = 0; i < 2; i++) {
      const db = createPrismaClient(poolConfig, { embedded: false });
      clients.push(db);
      const runtime = await startRuntime(config, db, pino({ level: 'silent' }), { inMemoryChain: true });
      const app = buildApp(runtime.deps);
      const port = await app.start(0, '127.0.0.1');
      servers.push({ runtime, app, url: `ws://127.0.0.1:${port}/graphql` });
    }
  });
  afterAll(async () => {
    for (const s of servers) {
      await s.app.stop();
      await s.runtime.close();
    }
    await Promise.all(clients.map((c) => c.$disconnect()));
    await adminQuery(postgresServerUrl!, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });

  it('delivers the leaderboard job of server A to a graphql-ws subscriber of server B', async () => {
    const [a, b] = servers as [(typeof servers)[0], (typeof servers)[0]];
    const user = await clients[0]!.user.create({ data: { handle: 'top_scorer', passwordHash: 'x', totalPoints: 42 } });
    const client = createClient({ url: b.url, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const events = client.iterate<{ leaderboardUpdated: { period: string; entries: { handle: string; points: number; rank: number }[] } }>({
        query: 'subscription { leaderboardUpdated(period: ALL_TIME) { period entries { handle points rank } } }',
      });
      const next = events.next();
      let received: Awaited<typeof next> | undefined;
      for (let i = 0; i < 20 && !received; i++) {
        await a.runtime.deps.scheduler.runNow('leaderboard', 'manual');
        received = await Promise.race([next, new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]);
      }
      expect(received?.value?.data?.leaderboardUpdated).toEqual({ period: 'ALL_TIME', entries: [{ handle: user.handle, points: 42, rank: 1 }] });
      await events.return?.();
    } finally {
      await client.dispose();
    }
  });

  it('drops server B’s cached leaderboard when server A’s leaderboard job ran', async () => {
    const [a, b] = servers as [(typeof servers)[0], (typeof servers)[0]];
    const board = async () => {
      const response = await b.app.yoga.fetch('http://verdict.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ leaderboard(period: ALL_TIME, first: 1) { handle points } }' }),
      });
      return (await response.json()).data.leaderboard;
    };
    const user = await clients[0]!.user.create({ data: { handle: 'cached_climber', passwordHash: 'x', totalPoints: 1_000 } });
    await a.runtime.deps.scheduler.runNow('leaderboard', 'manual');
    // B hears A's event through Redis: wait for it, then B caches the board.
    const heard = b.runtime.deps.pubsub.subscribe('leaderboardUpdated', 'ALL_TIME');
    let next = heard.next();
    await a.runtime.deps.scheduler.runNow('leaderboard', 'manual');
    await next;
    expect(await board()).toEqual([{ handle: user.handle, points: 1_000 }]);
    await clients[0]!.user.update({ where: { id: user.id }, data: { totalPoints: 2_000 } });
    next = heard.next();
    await a.runtime.deps.scheduler.runNow('leaderboard', 'manual');
    await next; // B's cache listens to the same event and was invalidated before this resolves
    expect(await board()).toEqual([{ handle: user.handle, points: 2_000 }]);
    await heard.return?.();
    await clients[0]!.user.update({ where: { id: user.id }, data: { totalPoints: 0 } });
  });
});
