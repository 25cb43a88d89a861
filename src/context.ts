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
import { verifySessionToken, type SessionKeys } from './domain/sessions.js';

export interface Viewer {
  id: string;
  handle: string;
  role: 'USER' | 'ADMIN';
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
}

/** What buildApp is given once and shares with every request. */
export type AppDeps = Omit<Context, 'viewer' | 'token' | 'loaders' | 'clientAddress'>;

/** The signed-in user behind a bearer token, re-read so a changed role applies at once. */
export async function resolveViewer(db: Db, sessions: SessionKeys, token: string | null): Promise<Viewer | null> {
  if (!token) return null;
  const userId = await verifySessionToken(sessions, token);
  if (!userId) return null;
  return db.user.findUnique({ where: { id: userId }, select: { id: true, handle: true, role: true } });
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
export function requestContext(deps: AppDeps, clientAddress: string): Context {
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
  };
}
