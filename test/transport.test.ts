import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { issueSessionToken } from '../src/domain/sessions.js';
import { publishUntil } from './support/subscriptions.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await createTestApp();
  const port = await t.app.start(0, '127.0.0.1');
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => t.close());

describe('HTTP', () => {
  it('answers POST and GET on the same path', async () => {
    const post = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ badges { key } }' }),
    });
    expect((await post.json()).data.badges).toHaveLength(9);
    const get = await fetch(`${base}/graphql?query=${encodeURIComponent('{ badges { key } }')}`);
    expect((await get.json()).data.badges).toHaveLength(9);
  });

  it('refuses mutations over GET', async () => {
    const query = encodeURIComponent('mutation { signIn(input: {handle: "x", password: "y"}) { token } }');
    const response = await fetch(`${base}/graphql?query=${query}`);
    expect(response.status).toBe(405);
  });

  it('serves a self-contained GraphiQL page (no CDN)', async () => {
    const response = await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toMatch(/graphiql/i);
    expect(html).not.toMatch(/<script[^>]+src=["']https?:/i);
    expect(html).not.toMatch(/<link[^>]+href=["']https?:\/\/(unpkg|cdn)/i);
  });

  it('reports health and readiness', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });
});

describe('subscriptions', () => {
  it('streams caseOpened over SSE', async () => {
    const c = await createCase(t.db, { title: 'Over SSE' });
    const abort = new AbortController();
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { caseOpened { title status } }' }),
      signal: abort.signal,
    });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    const received = (async () => {
      let text = '';
      while (!text.includes('Over SSE')) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += new TextDecoder().decode(value);
      }
      return text;
    })();
    const text = await publishUntil(received, () => t.pubsub.publish('caseOpened', { caseId: c.id }));
    abort.abort();
    expect(text).toContain('"caseOpened":{"title":"Over SSE","status":"OPEN"}');
  });

  it('streams caseOpened over graphql-ws, with the viewer from connection params', async () => {
    const user = await createUser(t.db, { handle: 'ws_viewer' });
    const { token } = await issueSessionToken(t.db, t.sessions, user.id);
    const client = createClient({
      url: `${base.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    try {
      const me = await client.iterate({ query: '{ me { handle } }' }).next();
      expect(me.value).toEqual({ data: { me: { handle: 'ws_viewer' } } });

      const c = await createCase(t.db, { title: 'Over WebSocket' });
      const events = client.iterate<{ caseOpened: { title: string } }>({ query: 'subscription { caseOpened { title } }' });
      const received = events.next();
      const event = await publishUntil(received, () => t.pubsub.publish('caseOpened', { caseId: c.id }));
      expect(event).toEqual({ done: false, value: { data: { caseOpened: { title: 'Over WebSocket' } } } });
      await events.return?.();
    } finally {
      await client.dispose();
    }
  });

  it('answers a malformed or oversized subscribe with a coded error for that operation, and the socket lives on', async () => {
    let closed = false;
    const client = createClient({
      url: `${base.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      on: { closed: () => (closed = true) },
    });
    try {
      const c = await createCase(t.db, { title: 'Still streaming' });
      const events = client.iterate<{ caseOpened: { title: string } }>({ query: 'subscription { caseOpened { title } }' });
      await publishUntil(events.next(), () => t.pubsub.publish('caseOpened', { caseId: c.id }));
      const refused = async (query: string) => {
        try {
          await client.iterate({ query }).next();
          return null;
        } catch (errors) {
          return (errors as { extensions?: { code?: string } }[])[0]?.extensions?.code;
        }
      };
      expect(await refused('subscription { caseOpened { title }')).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(await refused(`subscription { caseOpened { ${'title '.repeat(3000)} } }`)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(await refused('subscription { noSuchTopic }')).toBe('GRAPHQL_VALIDATION_FAILED');
      // The first subscription still streams on the same socket.
      const next = events.next();
      t.pubsub.publish('caseOpened', { caseId: c.id });
      expect(await next).toEqual({ done: false, value: { data: { caseOpened: { title: 'Still streaming' } } } });
      expect(closed).toBe(false);
      await events.return?.();
    } finally {
      await client.dispose();
    }
  });

  it('rejects an invalid subscription document over graphql-ws', async () => {
    const client = createClient({ url: `${base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      await expect(client.iterate({ query: 'subscription { noSuchTopic }' }).next()).rejects.toBeDefined();
    } finally {
      await client.dispose();
    }
  });
});

describe('graphql-ws protocol mistakes', () => {
  it('closes with 4400 (bad request), not 4500, when a client sends a message only the server may send', async () => {
    for (const type of ['next', 'error', 'connection_ack']) {
      const socket = new WebSocket(`${base.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      await new Promise((resolve) => socket.once('open', resolve));
      socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
      await new Promise((resolve) => socket.once('message', resolve)); // connection_ack
      socket.send(JSON.stringify({ type, id: '1', payload: { data: {} } }));
      expect({ type, code: await closed }).toEqual({ type, code: 4400 });
    }
  });
});
