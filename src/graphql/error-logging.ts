import { GraphQLError } from 'graphql';
import type { YogaLogger } from 'graphql-yoga';
import type { Logger } from 'pino';

// Which errors a client caused (a refusal with a code: a debug line) and which an operator must
// look at (error level). Used by yoga's masking (app.ts) and by its logger below.

/**
 * What the database refuses in a value a client sent (a malformed uuid in a cursor or id, text it
 * cannot store, a value too long): the client's mistake, not the server's.
 */
export function isBadInputFromDatabase(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const detail = `${error.message} ${JSON.stringify((error as { meta?: unknown }).meta ?? {})} ${String((error as { code?: unknown }).code ?? '')}`;
  return /\b(22P02|22021|22001|P2023|P2007)\b|invalid input syntax for type uuid|Error creating UUID/.test(detail);
}

/**
 * A request whose parameters are not JSON (GET `variables` or `extensions`): yoga's parser throws
 * the bare SyntaxError, before any resolver runs (a resolver's errors arrive wrapped).
 */
export const isMalformedRequest = (error: unknown): boolean => error instanceof SyntaxError;

/** An error a client caused, refused with a code: worth a debug line, not an operator's attention. */
function isExpected(error: unknown): boolean {
  if (isMalformedRequest(error)) return true;
  if (error instanceof GraphQLError) {
    const code = error.extensions.code;
    if (typeof code === 'string') return code !== 'INTERNAL_SERVER_ERROR';
    return error.originalError !== undefined && isBadInputFromDatabase(error.originalError);
  }
  return isBadInputFromDatabase(error);
}

/**
 * yoga's logger on pino. yoga logs at error every error it masks or reports; expected refusals
 * (coded GraphQL errors, bad input the database refused) go to debug without a stack, so nobody
 * can flood the error log; only the unexpected stay at error level.
 */
export function yogaLogger(log: Logger): YogaLogger {
  const line = (level: 'debug' | 'info' | 'warn') => (...args: unknown[]) => log[level]({ args: args.length > 1 ? args.slice(1) : undefined }, String(args[0]));
  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: (...args: unknown[]) => {
      const [first] = args;
      if (isExpected(first)) {
        const e = first as Error & { extensions?: { code?: unknown } };
        log.debug({ code: e.extensions?.code ?? 'BAD_USER_INPUT', message: e.message }, 'operation refused');
      } else if (first instanceof Error) {
        log.error({ err: first }, 'unexpected error in an operation');
      } else {
        log.error({ args }, 'unexpected error in an operation');
      }
    },
  };
}
