import type { Db } from '../../../src/db.js';
import type { Op } from './operations.js';
import type { Outcome, Result } from './runner.js';

/** The app's log lines at error level and above, as they arrive (the rest are only counted). */
export class LogCapture {
  lines = 0;
  errors: { level: number; msg?: string; [key: string]: unknown }[] = [];
  readonly stream = {
    write: (line: string) => {
      this.lines += 1;
      // pino writes "level":NN first; only error (50) and fatal (60) are kept.
      if (!/"level":[56]\d/.test(line)) return;
      try {
        this.errors.push(JSON.parse(line));
      } catch {
        this.errors.push({ level: 50, msg: line });
      }
    },
  };
}

/**
 * Cheap counts and sums over every table a refused write could touch. Equal before and after:
 * nothing was written (to what these can see).
 */
export async function snapshot(db: Db): Promise<Record<string, string>> {
  const [row] = await db.$queryRawUnsafe<Record<string, string>[]>(`
    SELECT
      (SELECT count(*) FROM users)::text AS users,
      (SELECT coalesce(sum(total_points), 0) FROM users)::text AS user_points,
      (SELECT count(wallet_address) FROM users)::text AS wallets,
      (SELECT count(*) FROM users WHERE role = 'ADMIN')::text AS admins,
      (SELECT count(*) FROM cases)::text AS cases,
      (SELECT count(*) FROM votes)::text AS votes,
      (SELECT count(*) FROM arguments)::text AS arguments,
      (SELECT coalesce(sum(upvote_count), 0) FROM arguments)::text AS argument_upvote_counts,
      (SELECT count(*) FROM argument_upvotes)::text AS upvotes,
      (SELECT count(*) FROM rewards)::text AS rewards,
      (SELECT coalesce(sum(amount), 0) FROM rewards)::text AS reward_points,
      (SELECT count(*) FROM rewards WHERE status = 'FAILED')::text AS failed_rewards,
      (SELECT count(*) FROM wallet_nonces)::text AS wallet_nonces,
      (SELECT count(used_at) FROM wallet_nonces)::text AS used_wallet_nonces,
      (SELECT count(*) FROM badge_awards)::text AS badge_awards,
      (SELECT count(*) FROM case_settlements)::text AS settlements,
      (SELECT count(*) FROM job_runs)::text AS job_runs`);
  return row!;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A mutation that answered with data for at least one root field: its writes are allowed. */
export const wroteWithData = (r: Result) => r.operation === 'mutation' && isObject(r.data) && Object.values(r.data).some((v) => v !== null && v !== undefined);

/** Close codes a client may cause; anything else (1006, 1011, 4500, 4004 …) is a server failure. */
const CLIENT_CAUSED_CLOSES = new Set([1000, 1005, 1009, 4400, 4401, 4403, 4406, 4408, 4409, 4429]);

const show = (value: unknown) => {
  const text = JSON.stringify(value);
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
};

/**
 * Everything one answer must satisfy. Returns what it broke (empty: nothing).
 *  - no HTTP 5xx, and an HTTP answer is a JSON object (GraphQL's own shape);
 *  - every error carries extensions.code, from the README table, never INTERNAL_SERVER_ERROR;
 *  - a WebSocket is only closed with a code a client can cause; every operation is answered;
 *  - no log line at error level or above.
 */
export function violations(_op: Op, outcome: Outcome, codes: Set<string>, errorLogs: unknown[]): string[] {
  const found: string[] = [];
  if (outcome.status !== undefined && outcome.status >= 500) found.push(`HTTP ${outcome.status}`);
  // 431 and 414 come from Node's HTTP parser (a URL or headers over its limit), before any
  // application code: there is no GraphQL answer to hold to the contract.
  const beforeTheApp = outcome.status === 431 || outcome.status === 414;
  if (outcome.status !== undefined && outcome.results.length === 0 && !beforeTheApp) {
    found.push(`HTTP ${outcome.status} answered ${outcome.contentType ?? 'no content type'}, not a GraphQL JSON object: ${show(outcome.text)}`);
  }
  for (const result of outcome.results) {
    if (result.errors === undefined) continue;
    if (!Array.isArray(result.errors)) {
      found.push(`"errors" is not a list: ${show(result.errors)}`);
      continue;
    }
    for (const error of result.errors) {
      const code = isObject(error) && isObject(error.extensions) ? error.extensions.code : undefined;
      if (code === undefined) found.push(`error without extensions.code: ${show(error)}`);
      else if (code === 'INTERNAL_SERVER_ERROR') found.push(`INTERNAL_SERVER_ERROR: ${show(error)}`);
      else if (typeof code !== 'string' || !codes.has(code)) found.push(`error code ${show(code)} is not in the README table: ${show(error)}`);
    }
  }
  if (outcome.close && !CLIENT_CAUSED_CLOSES.has(outcome.close.code)) found.push(`WebSocket closed with ${outcome.close.code} ${JSON.stringify(outcome.close.reason)}`);
  if (outcome.timedOut) found.push('no answer in time');
  if (outcome.notSent) found.push(`the client library failed: ${outcome.notSent}`);
  for (const line of errorLogs) found.push(`error log: ${show(line)}`);
  return found;
}

export function snapshotDiff(before: Record<string, string>, after: Record<string, string>): string | null {
  const changed = Object.keys(before).filter((k) => before[k] !== after[k]);
  return changed.length ? changed.map((k) => `${k} ${before[k]} → ${after[k]}`).join(', ') : null;
}
