import fs from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, Kind, getOperationAST } from 'graphql';
import { createYoga, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { bearerToken, connectionToken, requestContext, resolveViewer, type AppDeps, type Context } from './context.js';
import { PERIODS } from './domain/leaderboard.js';
import { isBadInputFromDatabase, isMalformedRequest, yogaLogger } from './graphql/error-logging.js';
import { graphiqlOptions } from './graphql/graphiql.js';
import { exportRateLimit } from './graphql/export-limit.js';
import { refuseUnstorableText } from './graphql/input-text.js';
import { refuseBadOperationInput } from './graphql/operation-input.js';
import { schema } from './graphql/schema.js';
import { unsubscribe } from './domain/mail.js';
import { AppError } from './errors.js';
import { listenMetrics, metricsHandler, portOf } from './http/metrics.js';
import { publicResponseCache } from './http/response-cache.js';
import { requestIdFor, withRequestId } from './log.js';
import { operationMetrics } from './graphql/operation-metrics.js';
import { loadTrustedDocuments, trustedDocumentsPlugin } from './graphql/trusted-documents.js';
import { rateLimiters } from './rate-limit.js';
import { serveGraphqlWs } from './subscriptions/ws.js';

interface ServerContext {
  req?: IncomingMessage;
  connectionParams?: Record<string, unknown>;
}

export interface AppOptions {
  /** Serve on this HTTP server (already listening, e.g. since start-up) instead of a new one. */
  server?: http.Server;
}

/** The GraphQL server for HTTP, SSE and WebSocket on one path. Nothing runs until start(). */
export function buildApp(deps: AppDeps, options: AppOptions = {}) {
  const { config, db, log } = deps;
  const trusted = config.TRUSTED_DOCUMENTS ? loadTrustedDocuments(config.TRUSTED_DOCUMENTS, schema) : null;
  const responseCache = publicResponseCache(deps.pubsub, PERIODS);
  // With REDIS_URL, rate limits are counted in Redis: shared by every server.
  const limiters = rateLimiters({ redisUrl: config.REDIS_URL, prefix: config.REDIS_PREFIX, log });
  // With trusted documents, who may still send a document of their own (ALLOW_ARBITRARY_OPERATIONS).
  const mayRunArbitrary = async (token: string | null): Promise<boolean> => {
    if (config.ALLOW_ARBITRARY_OPERATIONS === 'all') return true;
    if (config.ALLOW_ARBITRARY_OPERATIONS === 'none' || !token) return false;
    return (await resolveViewer(db, deps.sessions, token).catch(() => null))?.role === 'ADMIN';
  };

  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: config.GRAPHQL_PATH,
    landingPage: false,
    // yoga reports every error it masks to this logger: only the unexpected reach error level.
    logging: yogaLogger(log),
    maskedErrors: {
      isDev: false,
      maskError: (error, message) => {
        const original = error instanceof GraphQLError ? error.originalError : error;
        // A GraphQLError says what was wrong: a document's own error (syntax, validation, query
        // limits) has no original; one thrown on purpose (ours, or Pothos's for a bad cursor or
        // id) is the original. Returned as it is, with a code when it came without one.
        if (error instanceof GraphQLError && (!original || original instanceof GraphQLError)) {
          if (!error.extensions.code) {
            (error.extensions as Record<string, unknown>).code = original ? 'BAD_USER_INPUT' : 'GRAPHQL_VALIDATION_FAILED';
          }
          return error;
        }
        if (isMalformedRequest(error)) {
          return new GraphQLError(`The request's parameters are not valid JSON: ${(error as Error).message}`, {
            extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
          });
        }
        if (isBadInputFromDatabase(original)) {
          return new GraphQLError('A value is not valid here (an id, a cursor or text the database cannot hold)', {
            nodes: error instanceof GraphQLError ? error.nodes : undefined,
            path: error instanceof GraphQLError ? error.path : undefined,
            extensions: { code: 'BAD_USER_INPUT' },
          });
        }
        return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    graphiql: graphiqlOptions,
    // The self-contained GraphiQL page is a 9 MB module: loaded on the first visit, not at start.
    renderGraphiQL: (options) => import('@graphql-yoga/render-graphiql').then((m) => m.renderGraphiQL(options)),
    // Bodies are bounded before yoga sees them (bodyRefusal: declared length only, at most
    // MAX_BODY_BYTES), so yoga's own streaming limit, a TransformStream per request, is redundant.
    maxRequestBodySize: false,
    // A trusted document may be named by `documentId` (GraphQL Code Generator's client preset).
    extraParamNames: trusted ? ['documentId'] : undefined,
    // Anonymous requests (no token) need no database and no promise: the context is built at once.
    // DataLoaders are made on first use.
    context: ({ request, req, connectionParams }: YogaInitialContext & ServerContext): Context | Promise<Context> => {
      const token = connectionParams
        ? connectionToken(connectionParams)
        : bearerToken(request.headers.get('authorization'));
      const userAgent = req?.headers['user-agent'] ?? request?.headers.get('user-agent') ?? null;
      const context = requestContext(deps, req?.socket.remoteAddress ?? 'unknown', userAgent);
      if (!token) return context;
      return resolveViewer(db, deps.sessions, token).then((viewer) => {
        context.viewer = viewer;
        context.token = token;
        return context;
      });
    },
    plugins: [
      operationMetrics(deps.metrics, log),
      ...(trusted ? [trustedDocumentsPlugin(trusted, (request) => mayRunArbitrary(bearerToken(request.headers.get('authorization'))))] : []),
      EnvelopArmorPlugin({
        maxDepth: { n: 12 },
        maxAliases: { n: 15 },
        maxTokens: { n: 2000 },
        costLimit: { maxCost: 10_000 },
        maxDirectives: { n: 20 },
        blockFieldSuggestion: { enabled: true },
      }),
      plainPages(deps),
      refuseBadOperationInput(),
      refuseUnstorableText(),
      mutationRateLimits(deps, limiters),
      exportRateLimit(limiters.limiter('exports', config.RATE_LIMIT_EXPORTS_PER_HOUR, 3_600_000)),
      ...responseCache.plugins,
    ],
  });

  const metricsOnOwnPort = config.METRICS_PORT !== undefined;
  const serveMetrics = metricsHandler(deps.metrics, config, log, metricsOnOwnPort);
  let metricsServer: http.Server | null = null;

  const server = options.server ?? http.createServer();
  server.on('request', (req: IncomingMessage, res: http.ServerResponse) => {
    // Every log line written while this request is handled carries its id; so does the response.
    const reqId = requestIdFor(req.headers['x-request-id']);
    res.setHeader('x-request-id', reqId);
    withRequestId(reqId, () => handle(req, res));
  });
  const handle = (req: IncomingMessage, res: http.ServerResponse) => {
    if (!metricsOnOwnPort && req.url?.split('?')[0] === '/metrics') {
      void serveMetrics(req, res);
      return;
    }
    const refusal = bodyRefusal(req, config.MAX_BODY_BYTES, config.GRAPHQL_PATH);
    if (refusal) {
      res.writeHead(refusal.status, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: refusal.code } }] }));
      req.resume();
      return;
    }
    void yoga(req, res);
  };
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: config.MAX_BODY_BYTES });
  const subscriptions = serveGraphqlWs(yoga, wsServer, deps, trusted ? { documents: trusted, mayRunArbitrary } : null);

  return {
    yoga,
    server,
    /** graphql-ws subscriptions shared per public operation (groups and subscribers, for tests). */
    subscriptions: subscriptions.fanout,
    /** Drops the cached leaderboards on this server (every `leaderboardUpdated` event does it too). */
    invalidateLeaderboard: responseCache.invalidateLeaderboard,
    /** With METRICS_PORT, opens /metrics on its own listener; resolves with its port (null without). */
    async startMetrics(): Promise<number | null> {
      if (!metricsOnOwnPort) return null;
      metricsServer ??= await listenMetrics(serveMetrics, config.METRICS_HOST, config.METRICS_PORT!);
      return portOf(metricsServer);
    },
    /** Listens on the given port (0 = any free one), and METRICS_PORT if set; resolves with the bound port. */
    async start(port: number, host = '0.0.0.0'): Promise<number> {
      await this.startMetrics();
      if (server.listening) return (server.address() as AddressInfo).port;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      return (server.address() as AddressInfo).port;
    },
    async stop(): Promise<void> {
      await responseCache.close();
      await limiters.close();
      await subscriptions.stop();
      for (const client of wsServer.clients) client.terminate();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      if (metricsServer) {
        metricsServer.closeAllConnections();
        await new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
      }
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type App = ReturnType<typeof buildApp>;

const READY_TIMEOUT_MS = 2_000;

const livePage = (graphqlPath: string) =>
  fs.readFileSync(new URL('./live/live.html', import.meta.url), 'utf8').replace('GRAPHQL_PATH', graphqlPath);

/**
 * /healthz: the process answers. /readyz: the database answers too. /live: the live page.
 * /unsubscribe: an e-mail's signed link (GET from a browser, POST from a mail client).
 */
function plainPages({ db, config, sessions }: AppDeps): Plugin {
  const live = livePage(config.GRAPHQL_PATH);
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname === config.GRAPHQL_PATH) {
        const refused = (r: { status: number; code: string; message: string }) =>
          endResponse(fetchAPI.Response.json({ errors: [{ message: r.message, extensions: { code: r.code } }] }, { status: r.status }));
        if (!acceptable(request.headers.get('accept') ?? undefined)) return refused(NOT_ACCEPTABLE);
        if (request.method === 'POST' && !/^application\/json\b/.test(request.headers.get('content-type') ?? '')) {
          return refused({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'POST a JSON body (Content-Type: application/json)' });
        }
      }
      if (url.pathname === '/live') {
        endResponse(new fetchAPI.Response(live, { headers: { 'content-type': 'text/html; charset=utf-8' } }));
      } else if (url.pathname === '/unsubscribe') {
        const done = await unsubscribe(db, sessions.secret, url.searchParams.get('user') ?? '', url.searchParams.get('sig') ?? '').catch(() => false);
        const page = done ? 'You will get no more e-mail from Verdict. Notifications stay in the app.' : 'This unsubscribe link is not valid.';
        endResponse(new fetchAPI.Response(`<!doctype html><meta charset="utf-8"><title>Verdict</title><p>${page}</p>`, {
          status: done ? 200 : 400,
          headers: { 'content-type': 'text/html; charset=utf-8' },
        }));
      } else if (url.pathname === '/healthz') {
        endResponse(fetchAPI.Response.json({ status: 'ok' }));
      } else if (url.pathname === '/readyz') {
        // Bounded: a database that stops answering (a partition) is "unreachable" within 2 s.
        let timer: NodeJS.Timeout | undefined;
        const ready = await Promise.race([
          db.$queryRaw`SELECT 1`.then(() => true, () => false),
          new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS))),
        ]).finally(() => clearTimeout(timer));
        endResponse(fetchAPI.Response.json({ status: ready ? 'ready' : 'database unreachable' }, { status: ready ? 200 : 503 }));
      }
    },
  };
}

const ACCEPTED = new Set(['*/*', 'application/*', 'application/json', 'application/graphql-response+json', 'text/event-stream', 'multipart/mixed', 'text/*', 'text/html']);
/** Whether yoga can answer in a type the Accept header allows (no header: anything). */
function acceptable(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((part) => ACCEPTED.has(part.split(';')[0]!.trim().toLowerCase()));
}


/**
 * Bodies are bounded before anyone reads them: a declared length over the limit is refused, and
 * so is a body of unknown length (chunked), which no GraphQL client needs. POST bodies must be
 * JSON: the content types a cross-site form can send without a CORS preflight never execute.
 */
// Refused before anything runs: an answer the client cannot take must not follow a write.
const NOT_ACCEPTABLE = {
  status: 406,
  code: 'NOT_ACCEPTABLE',
  message: 'Accept application/json, application/graphql-response+json, text/event-stream or multipart/mixed',
};

function bodyRefusal(req: IncomingMessage, maxBytes: number, graphqlPath: string) {
  // The one exception: a mail client's one-click unsubscribe (RFC 8058) posts a form.
  if (req.method === 'POST' && !req.url?.startsWith('/unsubscribe?') && !/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
    return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'POST a JSON body (Content-Type: application/json)' };
  }
  if (req.url?.split('?')[0] === graphqlPath && !acceptable(req.headers.accept)) return NOT_ACCEPTABLE;
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: `Request bodies are limited to ${maxBytes} bytes` };
  }
  if (declared === undefined && req.headers['transfer-encoding']) {
    return { status: 411, code: 'LENGTH_REQUIRED', message: 'Send a Content-Length header' };
  }
  return null;
}

/** Per-user limits on mutations (per address for sign-up and sign-in), one hit per root field. */
function mutationRateLimits({ config }: AppDeps, limiters: ReturnType<typeof rateLimiters>): Plugin<Context> {
  const perUser = limiters.limiter('mutations', config.RATE_LIMIT_MUTATIONS_PER_MINUTE, 60_000);
  const perAddress = limiters.limiter('sign-in', config.RATE_LIMIT_SIGN_IN_PER_MINUTE, 60_000);
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'mutation') return;
      const ctx = args.contextValue;
      let wait = 0;
      for (const selection of operation.selectionSet.selections) {
        const field = selection.kind === Kind.FIELD ? selection.name.value : '';
        const anonymous = field === 'signIn' || field === 'signUp' || !ctx.viewer;
        wait = Math.max(wait, await (anonymous ? perAddress.hit(`${field}:${ctx.clientAddress}`) : perUser.hit(ctx.viewer!.id)));
      }
      if (wait > 0) {
        setResultAndStopExecution({
          errors: [new AppError('RATE_LIMITED', `Too many requests; try again in ${wait} s`, { retryAfterSeconds: wait })],
        });
      }
    },
  };
}
