import { badInput } from '../errors.js';

export const MAX_PAGE = 100;

/** Connections refuse oversized or negative pages instead of silently clamping them. */
export function assertPageSize(args: { first?: number | null; last?: number | null }) {
  for (const key of ['first', 'last'] as const) {
    const n = args[key];
    if (n != null && (n < 0 || n > MAX_PAGE)) throw badInput(`${key} must be between 0 and ${MAX_PAGE}`, key);
  }
}

/**
 * A cursor names a row; one from another list (another case's arguments, another connection)
 * would page from a place this list does not have. Refused as BAD_USER_INPUT, never an empty or
 * misplaced page. `belongs` tells whether the cursor's row is in this list.
 */
export async function assertOwnCursor(query: { cursor?: { id?: unknown } }, key: 'after' | 'before', belongs: (id: string) => Promise<boolean>) {
  const id = query.cursor?.id;
  if (typeof id === 'string' && !(await belongs(id))) throw badInput('This cursor does not belong to this list', key);
}
