import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { createClient } from 'graphql-ws';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startRuntime, type Runtime } from '../src/runtime.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { redisUrl } from './support/env.js';

describe.skipIf(!redisUrl)('two servers sharing one database and Redis (skipped: set TEST_REDIS_URL)', () => {
  let database: TestDatabase;
  const servers: { runtime: Runtime; app: App; url: string }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    const config = loadConfig({ DATA_DIR: os.tmpdir(), REDIS_URL: redisUrl!, SESSION_SECRET: randomBytes(24).toString('hex'), LOG_LEVEL: 'silent' });
    for (let i = 0; i < 2; i++) {
      const runtime = await startRuntime(config, database.prisma, pino({ level: 'silent' }), { inMemoryChain: true });
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
    await database.close();
  });

  it('delivers an event published on server A to a subscriber on server B', async () => {
    const [a, b] = servers as [(typeof servers)[0], (typeof servers)[0]];
    const client = createClient({ url: b.url, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const events = client.iterate<{ caseOpened: { id: string; title: string } }>({ query: 'subscription { caseOpened { id title } }' });
      const next = events.next();
      let received: Awaited<typeof next> | undefined;
      const opened: string[] = [];
      for (let i = 0; i < 20 && !received; i++) {
        const run = await a.runtime.deps.scheduler.runNow('case-generation', 'manual');
        if (!('skipped' in run)) opened.push(...((run.result as { opened: string[] }).opened ?? []));
        received = await Promise.race([next, new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]);
      }
      expect(received?.value?.data?.caseOpened.title).toBeTruthy();
      const titles = await database.prisma.case.findMany({ where: { id: { in: opened } }, select: { title: true } });
      expect(titles.map((c) => c.title)).toContain(received!.value?.data?.caseOpened.title);
      await events.return?.();
    } finally {
      await client.dispose();
    }
  });
});
