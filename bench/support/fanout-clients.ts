// A client process of bench/fanout.ts (forked, IPC): holds a share of the graphql-ws clients and timestamps every
// `next` frame it receives. Kept light on purpose (no JSON parsing of payloads, no graphql-ws
// client state machine) so the measurement is the server's, not this side's.
import WebSocket from 'ws';

export type ClientCommand =
  | { type: 'open'; count: number; url: string; query: string; concurrency: number }
  | { type: 'expect'; marker: string }
  | { type: 'collect'; marker: string }
  | { type: 'close' };

export type ClientReply =
  | { type: 'opened'; count: number; failed: number }
  | { type: 'progress'; marker: string; received: number }
  | { type: 'collected'; marker: string; times: number[]; errors: number }
  | { type: 'closed' };

const port = {
  postMessage: (reply: ClientReply) => process.send!(reply),
  on: (event: 'message', listener: (command: ClientCommand) => void) => process.on(event, listener),
};
const worker = { index: Number(process.env.FANOUT_CLIENT_INDEX ?? 0) };
const now = () => performance.timeOrigin + performance.now();
const MARK = Buffer.from('"computedAt":"');

const sockets: WebSocket[] = [];
/** computedAt → receive times (epoch ms, sub-ms precision), one per client. */
const received = new Map<string, number[]>();
/** Markers the main thread is waiting for: report once every client of this worker has one. */
const expected = new Set<string>();
let errors = 0;

function onFrame(data: Buffer) {
  const at = now();
  const i = data.indexOf(MARK);
  if (i < 0) {
    // connection_ack, complete, error: only errors matter here.
    if (data.includes('"type":"error"')) errors++;
    return;
  }
  const marker = data.toString('latin1', i + MARK.length, i + MARK.length + 24);
  let times = received.get(marker);
  if (!times) received.set(marker, (times = []));
  times.push(at);
  if (expected.has(marker) && times.length === sockets.length) {
    expected.delete(marker);
    port.postMessage({ type: 'progress', marker, received: times.length } satisfies ClientReply);
  }
}

function openOne(url: string, query: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
    ws.once('error', reject);
    ws.once('open', () => ws.send('{"type":"connection_init","payload":{}}'));
    ws.on('message', (data: Buffer) => {
      if (ws.readyState === WebSocket.OPEN && data.includes('"type":"connection_ack"')) {
        ws.send(JSON.stringify({ id: `w${worker.index}`, type: 'subscribe', payload: { query } }));
        resolve(ws);
        return;
      }
      onFrame(data);
    });
  });
}

async function open(command: Extract<ClientCommand, { type: 'open' }>) {
  let failed = 0;
  let next = 0;
  const lanes = Array.from({ length: command.concurrency }, async () => {
    while (next < command.count) {
      next++;
      try {
        sockets.push(await openOne(command.url, command.query));
      } catch {
        failed++;
      }
    }
  });
  await Promise.all(lanes);
  port.postMessage({ type: 'opened', count: sockets.length, failed } satisfies ClientReply);
}

async function closeAll() {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.close(1000);
        }),
    ),
  );
  sockets.length = 0;
  received.clear();
  port.postMessage({ type: 'closed' } satisfies ClientReply);
}

port.on('message', (command: ClientCommand) => {
  switch (command.type) {
    case 'open':
      void open(command);
      break;
    case 'expect': {
      const times = received.get(command.marker);
      if (times && times.length === sockets.length) {
        port.postMessage({ type: 'progress', marker: command.marker, received: times.length } satisfies ClientReply);
      } else {
        expected.add(command.marker);
      }
      break;
    }
    case 'collect': {
      expected.delete(command.marker);
      const times = received.get(command.marker) ?? [];
      received.delete(command.marker);
      port.postMessage({ type: 'collected', marker: command.marker, times, errors } satisfies ClientReply);
      break;
    }
    case 'close':
      void closeAll();
      break;
  }
});
