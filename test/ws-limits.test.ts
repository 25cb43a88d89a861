import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE_TOO_MANY_SOCKETS } from '../src/subscriptions/ws.js';
import { createTestApp, type TestApp } from './support/app.js';

let t: TestApp;
let url: string;
beforeAll(async () => {
  t = await createTestApp({ WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '3', WS_MAX_SOCKETS_PER_ADDRESS: '2' });
  url = `ws://127.0.0.1:${await t.app.start(0, '127.0.0.1')}/graphql`;
});
afterAll(() => t.close());

/** Resolves once the server acknowledged the connection, or rejects with its close code. */
function open() {
  return new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') resolve(socket);
    });
    socket.on('close', (code) => reject(code));
  });
}

const closeAndWait = (socket: WebSocket) =>
  new Promise((resolve) => {
    socket.once('close', resolve);
    socket.close();
  });

/** The next message of a type (and operation id) on a raw graphql-transport-ws socket. */
const message = (socket: WebSocket, type: string, id?: string) =>
  new Promise<{ type: string; id?: string; payload?: unknown }>((resolve) => {
    const listener = (data: WebSocket.RawData) => {
      const parsed = JSON.parse(String(data));
      if (parsed.type === type && (id === undefined || parsed.id === id)) {
        socket.off('message', listener);
        resolve(parsed);
      }
    };
    socket.on('message', listener);
  });

describe('WebSocket limits', () => {
  it('refuses a connection over WS_MAX_SOCKETS_PER_ADDRESS with its own close code, and accepts one again after another left', async () => {
    const [a, b] = [await open(), await open()];
    await expect(open()).rejects.toBe(CLOSE_TOO_MANY_SOCKETS);
    await closeAndWait(a);
    const c = await open();
    await Promise.all([closeAndWait(b), closeAndWait(c)]);
  });

  it('answers a subscribe over WS_MAX_SUBSCRIPTIONS_PER_SOCKET with RATE_LIMITED for that operation only', async () => {
    const socket = await open();
    try {
      const subscribe = (id: string, query: string) => socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
      const refused = message(socket, 'error', '4');
      for (const id of ['1', '2', '3', '4']) subscribe(id, 'subscription { caseOpened { title } }');
      const error = (await refused).payload as { extensions: { code: string } }[];
      expect(error[0]!.extensions.code).toBe('RATE_LIMITED');
      // One slot freed: the next operation runs, on the same socket.
      socket.send(JSON.stringify({ id: '1', type: 'complete' }));
      const answered = message(socket, 'next', '5');
      subscribe('5', '{ badges { key } }');
      expect((await answered).payload).toMatchObject({ data: { badges: expect.any(Array) } });
      expect(socket.readyState).toBe(WebSocket.OPEN);
    } finally {
      await closeAndWait(socket);
    }
  });
});
