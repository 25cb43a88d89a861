import { badInput } from '../errors.js';

export const MAX_PAGE = 100;

/** Connections refuse oversized or negative pages instead of silently clamping them. */
export function assertPageSize(args: { first?: number | null; last?: number | null }) {
  for (const key of ['first', 'last'] as const) {
    const n = args[key];
    if (n != null && (n < 0 || n > MAX_PAGE)) throw badInput(`${key} must be between 0 and ${MAX_PAGE}`, key);
  }
}
