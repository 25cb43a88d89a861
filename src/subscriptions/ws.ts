import { GraphQLError, getOperationAST, type DocumentNode, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { createYoga } from 'graphql-yoga';
import type { WebSocketServer } from 'ws';
import type { AppDeps } from '../context.js';
import { connectionToken } from '../context.js';
import { verifySessionToken } from '../domain/sessions.js';
import { describeOperation, recordOperation } from '../graphql/operation-metrics.js';
import { documentNotFound, documentRequired, trustedDocument, trustedDocumentId, type TrustedDocuments } from '../graphql/trusted-documents.js';
import { SubscriptionFanout, type WsRoot } from './fanout.js';
import { collectAfterDisconnects } from './memory.js';

type Yoga = ReturnType<typeof createYoga<any, any>>;

/** The close code for a connection over WS_MAX_SOCKETS_PER_ADDRESS (4xxx: the application's range). */
export const CLOSE_TOO_MANY_SOCKETS = 4429;

/** A document's own error (syntax, validation, query limits) with the code HTTP gives it too. */
const coded = (error: GraphQLError) =>
  error.extensions.code
    ? error
    : new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } });

const SERVER_ONLY = new Set(['next', 'error', 'connection_ack']);

/** The `type` of a graphql-transport-ws message, if it is JSON with one (anything else is graphql-ws's to refuse). */
function messageType(data: unknown): string | undefined {
  try {
    const message: unknown = JSON.parse(String(data));
    return message && typeof message === 'object' && typeof (message as { type?: unknown }).type === 'string' ? (message as { type: string }).type : undefined;
  } catch {
    return undefined;
  }
}

/**
 * graphql-ws on `wsServer`, each operation through yoga's envelop pipeline (parse and validation
 * caches, plugins, context). Public subscriptions are shared per operation and variables
 * (fanout.ts); every other operation runs per subscriber as before. After a wave of
 * disconnections their garbage is collected at once (memory.ts).
 */
export interface WsTrustedDocuments {
  documents: TrustedDocuments;
  /** Whether the bearer token's user may send documents of their own. */
  mayRunArbitrary: (token: string | null) => Promise<boolean>;
}

export function serveGraphqlWs(
  yoga: Yoga,
  wsServer: WebSocketServer,
  deps: Pick<AppDeps, 'pubsub' | 'log' | 'config' | 'metrics' | 'sessions'>,
  trusted: WsTrustedDocuments | null = null,
) {
  const fanout = new SubscriptionFanout(deps.pubsub, deps.log);
  const { metrics, log } = deps;
  metrics.countSockets(() => wsServer.clients.size);
  // Per socket, the operations between graphql-ws's onSubscribe and onComplete: when each started,
  // and the root fields of those that became subscriptions (counted in the metrics until they end).
  const operations = new WeakMap<object, Map<string, { startedAt: number; fields?: readonly string[] }>>();
  const operationsOf = (ctx: object) => operations.get(ctx) ?? operations.set(ctx, new Map()).get(ctx)!;

  // Connections by the session their token names: when it is revoked, their subscriptions end
  // with a coded error and the socket closes (4401), on every server (the event goes through pubsub).
  type SocketContext = { subscriptions: Record<string, unknown>; extra: { socket: import('ws').WebSocket } };
  const bySession = new Map<string, Set<SocketContext>>();
  const sessionOf = new WeakMap<object, string>();
  const revocations = deps.pubsub.subscribe('sessionsRevoked')[Symbol.asyncIterator]();
  void (async () => {
    for (let next = await revocations.next(); !next.done; next = await revocations.next()) {
      for (const sessionId of next.value.sessionIds) {
        for (const ctx of bySession.get(sessionId) ?? []) endRevoked(ctx);
      }
    }
  })().catch((error: unknown) => log.error({ err: error }, 'session revocations stopped reaching WebSockets'));
  function endRevoked(ctx: SocketContext) {
    const { socket } = ctx.extra;
    const payload = [{ message: 'Your session has ended; sign in again', extensions: { code: 'UNAUTHENTICATED' } }];
    for (const id of Object.keys(ctx.subscriptions)) socket.send(JSON.stringify({ id, type: 'error', payload }));
    socket.close(4401, 'Session revoked');
  }

  // With trusted documents: whether a connection may send its own documents, asked once per connection.
  const arbitraryAllowed = new WeakMap<object, Promise<boolean>>();
  const mayRunArbitrary = (ctx: { connectionParams?: Readonly<Record<string, unknown>> }) => {
    let allowed = arbitraryAllowed.get(ctx);
    if (!allowed) {
      const params = ctx.connectionParams;
      arbitraryAllowed.set(ctx, (allowed = trusted!.mayRunArbitrary(connectionToken(params))));
    }
    return allowed;
  };
  const limits = { subscriptions: deps.config.WS_MAX_SUBSCRIPTIONS_PER_SOCKET, sockets: deps.config.WS_MAX_SOCKETS_PER_ADDRESS };
  // Sockets per client address: one more than allowed is closed at once, with its own code.
  const socketsFrom = new Map<string, number>();
  wsServer.on('connection', (socket, request) => {
    const address = request.socket.remoteAddress ?? 'unknown';
    const open = (socketsFrom.get(address) ?? 0) + 1;
    socketsFrom.set(address, open);
    socket.once('close', () => {
      const left = (socketsFrom.get(address) ?? 1) - 1;
      if (left > 0) socketsFrom.set(address, left);
      else socketsFrom.delete(address);
    });
    if (open > limits.sockets) socket.close(CLOSE_TOO_MANY_SOCKETS, `Too many connections from this address (at most ${limits.sockets})`);
    // A message only the server may send (next, error, connection_ack) is the client's mistake:
    // 4400 Bad Request, before graphql-ws (whose own listener comes later) would answer 4500.
    socket.on('message', (data) => {
      const type = messageType(data);
      if (type && SERVER_ONLY.has(type)) socket.close(4400, `Unexpected message of type ${type} received`);
    });
  });
  /**
   * The operation's document: a trusted one by its id, or the one sent (refused in trusted mode
   * unless this connection may run its own). A document that does not parse (or is over the token
   * limit) is this operation's error, sent for its id: the socket and its other subscriptions live on.
   */
  async function documentOf(
    ctx: { connectionParams?: Readonly<Record<string, unknown>> },
    params: { query: string; extensions?: unknown; documentId?: unknown },
    parse: (source: string) => DocumentNode,
  ): Promise<DocumentNode | GraphQLError[]> {
    if (trusted) {
      const documentId = params.query ? null : trustedDocumentId(params);
      if (documentId) return trustedDocument(trusted.documents, documentId) ?? [documentNotFound()];
      if (!(await mayRunArbitrary(ctx))) return [documentRequired()];
    }
    try {
      return parse(params.query);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      return [coded(error)];
    }
  }

  useServer<Record<string, unknown>>(
    {
      onConnect: async (ctx) => {
        const token = connectionToken(ctx.connectionParams);
        const claims = token ? await verifySessionToken(deps.sessions, token) : null;
        if (claims) {
          sessionOf.set(ctx, claims.sessionId);
          const sockets = bySession.get(claims.sessionId) ?? bySession.set(claims.sessionId, new Set()).get(claims.sessionId)!;
          sockets.add(ctx as unknown as SocketContext);
        }
        return true;
      },
      onClose: (ctx) => {
        const sessionId = sessionOf.get(ctx);
        if (!sessionId) return;
        const sockets = bySession.get(sessionId);
        sockets?.delete(ctx as unknown as SocketContext);
        if (sockets?.size === 0) bySession.delete(sessionId);
      },
      execute: (args) => (args.rootValue as WsRoot).execute(args) as never,
      subscribe: (args) => fanout.subscribe(args) as never,
      onSubscribe: async (ctx, id, params) => {
        const startedAt = performance.now();
        // Operations already running on this socket (this one excluded).
        const running = Object.keys(ctx.subscriptions).filter((other) => other !== id).length;
        if (running >= limits.subscriptions) {
          return [new GraphQLError(`At most ${limits.subscriptions} operations at a time on one connection`, { extensions: { code: 'RATE_LIMITED' } })];
        }
        const envelope = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams ?? {},
        });
        const document = await documentOf(ctx, params, envelope.parse);
        if (Array.isArray(document)) return document;
        // Validation rules that throw (armor's limits: aliases, depth, cost, directives) are this
        // operation's error too, as is an operationName that names no operation in the document.
        let errors: readonly GraphQLError[];
        try {
          errors = envelope.validate(envelope.schema, document);
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          return [coded(error)];
        }
        if (errors.length > 0) return errors.map(coded);
        if (!getOperationAST(document, params.operationName ?? undefined)) {
          return [coded(new GraphQLError(params.operationName ? `No operation named "${params.operationName}"` : 'Name the operation to run (operationName)'))];
        }
        const root: WsRoot = { execute: envelope.execute, subscribe: envelope.subscribe, delivery: { socket: ctx.extra.socket, id } };
        const args: ExecutionArgs = {
          schema: envelope.schema,
          document,
          operationName: params.operationName ?? null,
          variableValues: params.variables ?? null,
          contextValue: await envelope.contextFactory(),
          rootValue: root,
        };
        operationsOf(ctx).set(id, { startedAt });
        return args;
      },
      onOperation: (ctx, id, _params, args, result) => {
        const started = operationsOf(ctx).get(id);
        if (!started) return;
        const operation = describeOperation(args.document, args.operationName);
        recordOperation(metrics, log, operation, started.startedAt, result);
        if (typeof result === 'object' && result !== null && Symbol.asyncIterator in result) {
          started.fields = operation.fields;
          metrics.subscriptions(operation.fields, 1);
        }
      },
      onComplete: (ctx, id) => {
        const map = operations.get(ctx);
        const ended = map?.get(id);
        map?.delete(id);
        if (ended?.fields) metrics.subscriptions(ended.fields, -1);
      },
    },
    wsServer,
  );
  const stopCollecting = collectAfterDisconnects(wsServer, deps.log);
  return {
    fanout,
    /** Stops listening for revocations and collecting after disconnections (the sockets are the app's to close). */
    stop: async () => {
      stopCollecting();
      await revocations.return?.();
    },
  };
}
