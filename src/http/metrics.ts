import { timingSafeEqual, createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * GET /metrics in Prometheus's text format. Who may read it: with METRICS_TOKEN, whoever sends
 * `Authorization: Bearer <token>`; without one, anyone on METRICS_PORT (its own listener, on
 * METRICS_HOST), or on the main port anyone in development and only this machine in production.
 */
export function metricsHandler(metrics: Metrics, config: Config, log: Logger, ownPort: boolean) {
  const expected = config.METRICS_TOKEN ? digest(config.METRICS_TOKEN) : null;
  const loopbackOnly = !expected && !ownPort && config.NODE_ENV === 'production';
  const refuse = (res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
  };
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'METHOD_NOT_ALLOWED', 'GET /metrics', { allow: 'GET, HEAD' });
    if (expected) {
      const given = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!given || !timingSafeEqual(digest(given), expected)) {
        return refuse(res, 401, 'UNAUTHENTICATED', 'Send Authorization: Bearer <METRICS_TOKEN>', { 'www-authenticate': 'Bearer realm="metrics"' });
      }
    } else if (loopbackOnly && !LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      return refuse(res, 403, 'FORBIDDEN', 'Metrics are served to this machine only; set METRICS_TOKEN or METRICS_PORT');
    }
    try {
      const body = await metrics.text();
      res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      log.error({ err: error }, 'metrics could not be collected');
      refuse(res, 500, 'INTERNAL_SERVER_ERROR', 'Metrics could not be collected');
    }
  };
}

/** METRICS_PORT's own listener (on METRICS_HOST); resolves once it listens. */
export async function listenMetrics(handle: ReturnType<typeof metricsHandler>, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url?.split('?')[0] === '/metrics') void handle(req, res);
    else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not found: GET /metrics');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export const portOf = (server: http.Server) => (server.address() as AddressInfo).port;
