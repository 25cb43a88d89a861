import { GraphQLError } from 'graphql';

/** Stable codes clients can branch on; anything else that escapes a resolver is masked. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CASE_CLOSED'
  | 'CASE_NOT_OPEN'
  | 'OWN_ARGUMENT'
  | 'ALREADY_VOTED'
  | 'ALREADY_ARGUED'
  | 'ALREADY_UPVOTED'
  | 'RATE_LIMITED'
  | 'HANDLE_TAKEN'
  | 'WALLET_TAKEN'
  | 'NO_WALLET'
  | 'INVALID_SIGNATURE'
  | 'INVALID_CREDENTIALS'
  | 'WEAK_PASSWORD'
  | 'INVALID_RESET_TOKEN'
  | 'JOB_BUSY'
  | 'EMAIL_UNAVAILABLE'
  | 'CONFLICT';

export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code } });
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const badInput = (message: string, field?: string) =>
  new AppError('BAD_USER_INPUT', message, field ? { field } : {});
