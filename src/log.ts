import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from './config.js';

/** What every log line written while a request is handled carries (its request id). */
const requestScope = new AsyncLocalStorage<{ reqId: string }>();

/** A client's own X-Request-Id is kept when it is short and plain; otherwise the server makes one. */
const CLIENT_REQUEST_ID = /^[\w.:-]{1,64}$/;

/** The request id for an incoming request: the client's (X-Request-Id) when usable, else a fresh UUID. */
export function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : randomUUID();
}

/** Runs `fn` (a request's handling) so that every log line it leads to carries `reqId`. */
export function withRequestId<T>(reqId: string, fn: () => T): T {
  return requestScope.run({ reqId }, fn);
}

/** The options every Verdict logger shares: the request id of the request being handled, if any. */
export function loggerOptions(level: string): LoggerOptions {
  return { level, mixin: () => requestScope.getStore() ?? {} };
}

export type LogFormat = 'json' | 'pretty';

/**
 * LOG_FORMAT, or when unset: readable lines (pino-pretty) on a terminal, JSON otherwise (a file,
 * a pipe, a log collector).
 */
export function logFormat(config: Pick<Config, 'LOG_FORMAT'>, stdoutIsTerminal = Boolean(process.stdout.isTTY)): LogFormat {
  return config.LOG_FORMAT ?? (stdoutIsTerminal ? 'pretty' : 'json');
}

/** The server's logger on stdout, in the format above; `destination` replaces stdout (tests). */
export function createLogger(config: Pick<Config, 'LOG_FORMAT' | 'LOG_LEVEL'>, destination?: DestinationStream): Logger {
  const options = loggerOptions(config.LOG_LEVEL);
  if (logFormat(config) === 'json') return destination ? pino(options, destination) : pino(options);
  // Loaded only when used: a JSON-logging server never reads it.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pino(options, pretty({ colorize: !destination && Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true, ...(destination ? { destination } : {}) }));
}
