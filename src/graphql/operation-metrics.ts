import { getOperationAST, Kind, type DocumentNode, type ExecutionResult, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';

/** The operation a document and name select: its name, type and root fields. */
export function describeOperation(document: DocumentNode, operationName?: string | null) {
  const operation = getOperationAST(document, operationName ?? undefined);
  return {
    name: operation?.name?.value,
    type: operation?.operation ?? 'unknown',
    fields: operation?.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : [])) ?? [],
  };
}

const codesOf = (errors: readonly GraphQLError[] | undefined) =>
  (errors ?? []).map((e) => (typeof e.extensions?.code === 'string' ? e.extensions.code : 'INTERNAL_SERVER_ERROR'));

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/** Records one finished operation (metrics, and a debug line with its name, duration and error codes). */
export function recordOperation(metrics: Metrics, log: Logger, operation: { name?: string | undefined; type: string }, startedAt: number, result: unknown) {
  const seconds = (performance.now() - startedAt) / 1000;
  const codes = isAsyncIterable(result) ? [] : codesOf((result as ExecutionResult | undefined)?.errors);
  metrics.operation(operation.name, operation.type, seconds, codes);
  if (log.isLevelEnabled('debug')) {
    log.debug({ operation: operation.name ?? null, type: operation.type, ms: Math.round(seconds * 1000), code: codes[0] ?? null }, 'operation');
  }
}

/**
 * Operations over HTTP (and SSE): their count, duration and result, their errors by code, and
 * the subscriptions they hold open. First in the plugin list, so it also sees results other
 * plugins set (a rate limit). Operations over WebSocket carry graphql-ws's root value (ws.ts) and
 * are counted there, once per subscriber rather than once per shared execution. Documents that
 * fail to parse or validate are counted here for both transports.
 */
export function operationMetrics(metrics: Metrics, log: Logger): Plugin {
  return {
    onParse() {
      return ({ result }) => {
        if (!(result instanceof Error)) return;
        const code = (result as GraphQLError).extensions?.code;
        metrics.error(typeof code === 'string' ? code : 'GRAPHQL_PARSE_FAILED');
      };
    },
    onValidate() {
      return ({ valid, result }) => {
        if (!valid) for (const error of result) metrics.error(typeof error.extensions?.code === 'string' ? error.extensions.code : 'GRAPHQL_VALIDATION_FAILED');
      };
    },
    onExecute({ args }) {
      if (args.rootValue) return;
      const operation = describeOperation(args.document, args.operationName);
      const startedAt = performance.now();
      return {
        onExecuteDone({ result }) {
          recordOperation(metrics, log, operation, startedAt, result);
        },
      };
    },
    onSubscribe({ args }) {
      if (args.rootValue) return;
      const operation = describeOperation(args.document, args.operationName);
      const startedAt = performance.now();
      return {
        onSubscribeResult({ result }) {
          recordOperation(metrics, log, operation, startedAt, result);
          if (!isAsyncIterable(result)) return;
          metrics.subscriptions(operation.fields, 1);
          return { onEnd: () => metrics.subscriptions(operation.fields, -1) };
        },
      };
    },
  };
}
