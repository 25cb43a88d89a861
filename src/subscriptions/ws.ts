import { GraphQLError, type DocumentNode, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { createYoga } from 'graphql-yoga';
import type { WebSocketServer } from 'ws';
import type { AppDeps } from '../context.js';
import { SubscriptionFanout, type WsRoot } from './fanout.js';
import { collectAfterDisconnects } from './memory.js';

type Yoga = ReturnType<typeof createYoga<any, any>>;

/** A document's own error (syntax, validation, query limits) with the code HTTP gives it too. */
const coded = (error: GraphQLError) =>
  error.extensions.code
    ? error
    : new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } });

/**
 * graphql-ws on `wsServer`, each operation through yoga's envelop pipeline (parse and validation
 * caches, plugins, context). Public subscriptions are shared per operation and variables
 * (fanout.ts); every other operation runs per subscriber as before. After a wave of
 * disconnections their garbage is collected at once (memory.ts).
 */
export function serveGraphqlWs(yoga: Yoga, wsServer: WebSocketServer, deps: Pick<AppDeps, 'pubsub' | 'log'>) {
  const fanout = new SubscriptionFanout(deps.pubsub, deps.log);
  const server = useServer<Record<string, unknown>>(
    {
      execute: (args) => (args.rootValue as WsRoot).execute(args) as never,
      subscribe: (args) => fanout.subscribe(args) as never,
      onSubscribe: async (ctx, id, params) => {
        const envelope = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams ?? {},
        });
        // A document that does not parse (or is over the token limit) is this operation's error,
        // sent for its id: the socket and its other subscriptions live on.
        let document: DocumentNode;
        try {
          document = envelope.parse(params.query);
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          return [coded(error)];
        }
        const errors = envelope.validate(envelope.schema, document);
        if (errors.length > 0) return errors.map(coded);
        const root: WsRoot = { execute: envelope.execute, subscribe: envelope.subscribe, delivery: { socket: ctx.extra.socket, id } };
        const args: ExecutionArgs = {
          schema: envelope.schema,
          document,
          operationName: params.operationName ?? null,
          variableValues: params.variables ?? null,
          contextValue: await envelope.contextFactory(),
          rootValue: root,
        };
        return args;
      },
    },
    wsServer,
  );
  const stopCollecting = collectAfterDisconnects(wsServer, deps.log);
  return {
    fanout,
    dispose: async () => {
      stopCollecting();
      await server.dispose();
    },
  };
}
