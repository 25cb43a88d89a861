import type { Logger } from 'pino';
import type { Chain } from './chain/index.js';
import type { Config } from './config.js';
import type { Mailer } from './domain/mail.js';
import type { Metrics } from './metrics.js';
import type { Sealer } from './domain/sealing.js';
import type { Scheduler } from './jobs/scheduler.js';
import type { Db } from './db.js';
import type { PubSub } from './events.js';
import { createLoaders, type Loaders } from './loaders.js';
import { sessionUser, verifySessionToken, type SessionKeys } from './domain/sessions.js';

export interface Viewer {
  id: string;
  handle: string;
  role: 'USER' | 'ADMIN';
  /** The session the token names. */
  sessionId: string;
}

/** What every resolver sees, whether the operation came over HTTP, SSE or WebSocket. */
export interface Context {
  db: Db;
  pubsub: PubSub;
  config: Config;
  log: Logger;
  sessions: SessionKeys;
  /** Seals rulings and pays points; wallets sign in for it. */
  chain: Chain;
  /** Rules on submitted cases as soon as they arrive. */
  sealer: Sealer;
  scheduler: Scheduler;
  /** SMTP_URL's mail server; null without one. */
  mailer: Mailer | null;
  /** The server's Prometheus metrics. */
  metrics: Metrics;
  viewer: Viewer | null;
  /** The bearer token the viewer came from: subscriptions check it again at every event. */
  token: string | null;
  loaders: Loaders;
  /** Who sent the operation, for rate limits of anonymous callers. */
  clientAddress: string;
  /** The client's User-Agent, if it sent one (recorded with a new session). */
  userAgent: string | null;
}

/** What buildApp is given once and shares with every request. */
export type AppDeps = Omit<Context, 'viewer' | 'token' | 'loaders' | 'clientAddress' | 'userAgent'>;

/**
 * The signed-in user behind a bearer token: its signature and expiry, then its session (not
 * revoked, not expired) and user, re-read so a changed role or a sign-out applies at once.
 */
export async function resolveViewer(db: Db, sessions: SessionKeys, token: string | null): Promise<Viewer | null> {
  if (!token) return null;
  const claims = await verifySessionToken(sessions, token);
  return claims ? sessionUser(db, claims) : null;
}

/** The token of a WebSocket's connection params: `{ authorization: "Bearer …" }` or `{ token }`. */
export function connectionToken(params: Readonly<Record<string, unknown>> | undefined): string | null {
  return bearerToken(String(params?.authorization ?? '')) ?? (typeof params?.token === 'string' && params.token ? params.token : null);
}

/** `Authorization: Bearer <token>` over HTTP; `{ authorization }` or `{ token }` in connection params. */
export function bearerToken(header: string | null | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1] ?? null;
}

/** Per-request loaders, each made on first use: most operations never need one. */
class LazyLoaders implements Loaders {
  #loaders: Loaders | undefined;
  constructor(private readonly db: Db) {}
  get revealedRuling() {
    return (this.#loaders ??= createLoaders(this.db)).revealedRuling;
  }
  archivedVote(userId: string) {
    return (this.#loaders ??= createLoaders(this.db)).archivedVote(userId);
  }
}

/**
 * A request's context, anonymous until the caller resolves the viewer. Written out field by
 * field: spreading the dependencies (`{ ...deps }`) costs about a hundred times more per request.
 */
export function requestContext(deps: AppDeps, clientAddress: string, userAgent: string | null = null): Context {
  return {
    db: deps.db,
    pubsub: deps.pubsub,
    config: deps.config,
    log: deps.log,
    sessions: deps.sessions,
    chain: deps.chain,
    sealer: deps.sealer,
    scheduler: deps.scheduler,
    mailer: deps.mailer,
    metrics: deps.metrics,
    viewer: null,
    token: null,
    loaders: new LazyLoaders(deps.db),
    clientAddress,
    userAgent,
  };
}
