// Events through Redis: installations sharing one Redis (REDIS_PREFIX) never hear each other,
// and a Redis that goes away loses live events without stopping anything.
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createEvents } from '../src/events.js';
import { redisUrl } from './support/env.js';

const quiet = pino({ level: 'silent' });

/** The next event of a subscription, or 'silent' after `ms` (only to show that none comes). */
async function nextOrSilent(iterator: AsyncIterator<unknown>, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise((resolve) => (timer = setTimeout(() => resolve('silent'), ms)));
  try {
    return await Promise.race([iterator.next().then((r) => r.value), silent]);
  } finally {
    clearTimeout(timer);
  }
}

describe.skipIf(!redisUrl)('events through Redis (skipped: set TEST_REDIS_URL)', () => {
  it('stay within their REDIS_PREFIX', async () => {
    const prefix = `test-${randomBytes(4).toString('hex')}:`;
    const [a, b, other] = [
      createEvents(redisUrl, { prefix, log: quiet }),
      createEvents(redisUrl, { prefix, log: quiet }),
      createEvents(redisUrl, { prefix: `other-${prefix}`, log: quiet }),
    ];
    try {
      const heard = b.pubsub.subscribe('caseClosed')[Symbol.asyncIterator]();
      const foreign = other.pubsub.subscribe('caseClosed')[Symbol.asyncIterator]();
      // Subscribing is asynchronous: publish until the same installation hears it (one pending
      // read, raced again each time, so no event goes to a read given up on).
      const first = heard.next().then((r) => r.value);
      let got: unknown = 'silent';
      for (let i = 0; i < 100 && got === 'silent'; i++) {
        a.pubsub.publish('caseClosed', { caseId: 'c1' });
        got = await Promise.race([first, new Promise((resolve) => setTimeout(() => resolve('silent'), 100))]);
      }
      expect(got).toEqual({ caseId: 'c1' });
      expect(await nextOrSilent(foreign, 300)).toBe('silent');
      await heard.return?.();
      await foreign.return?.();
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });
});

describe('a Redis that is not there', () => {
  it('costs live events and a logged error, never an unhandled rejection or a stop', async () => {
    const lines = new EventEmitter();
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.emit('line', JSON.parse(line)) });
    const events = createEvents('redis://127.0.0.1:1', { prefix: 'gone:', log });
    const failed = new Promise((resolve) => lines.on('line', (l) => l.msg?.startsWith('Redis publish failed') && resolve(l)));
    const connection = once(lines, 'line');
    events.pubsub.publish('caseClosed', { caseId: 'c1' });
    expect(await failed).toMatchObject({ level: 40 });
    expect((await connection)[0].level).toBeGreaterThanOrEqual(40);
    await events.close();
  });
});
