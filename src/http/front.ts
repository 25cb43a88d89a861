import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/** Seconds a client is told to wait (Retry-After) while the server starts. */
const RETRY_AFTER_SECONDS = 1;

const STARTING_ERROR = JSON.stringify({
  errors: [{ message: 'Verdict is starting; try again in a moment', extensions: { code: 'SERVICE_UNAVAILABLE' } }],
});

/**
 * The HTTP server, listening before anything else is ready: the database, the chain and the first
 * case take seconds, and a process manager wants to see the process alive at once. Until
 * `handOver()`, `/healthz` says ok, `/readyz` says 503 `{"status":"starting"}`, and every other
 * request (GraphQL included, WebSocket upgrades too) gets a 503 with a JSON error
 * `SERVICE_UNAVAILABLE` and `Retry-After`, never a hang. `handOver()` removes these handlers in
 * one step, so the app attaches its own to the same listening socket and no request falls between.
 */
export interface Front {
  server: http.Server;
  port: number;
  handOver(): void;
  close(): Promise<void>;
}

export async function listenEarly(port: number, host: string): Promise<Front> {
  const server = http.createServer(whileStarting);
  server.on('upgrade', refuseUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    handOver() {
      server.off('request', whileStarting);
      server.off('upgrade', refuseUpgrade);
    },
    async close() {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function whileStarting(req: IncomingMessage, res: ServerResponse) {
  req.resume();
  const pathname = (req.url ?? '/').split('?', 1)[0];
  if (pathname === '/healthz') return send(res, 200, '{"status":"ok"}');
  if (pathname === '/readyz') return send(res, 503, '{"status":"starting"}');
  return send(res, 503, STARTING_ERROR, { 'retry-after': String(RETRY_AFTER_SECONDS) });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(body);
}

function refuseUpgrade(_req: IncomingMessage, socket: Duplex) {
  socket.end(
    `HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${RETRY_AFTER_SECONDS}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(STARTING_ERROR)}\r\nConnection: close\r\n\r\n${STARTING_ERROR}`,
  );
}
