import { GraphQLError, Kind, getOperationAST, visit, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isUuid } from './ids.js';
import { MAX_PAGE } from './paging.js';

/**
 * What can be refused before anything runs is refused before anything runs, so a write never
 * happens beside an error about the same request:
 * - variables nested deeper than MAX_DEPTH (they would exhaust the stack further on);
 * - page sizes (`first`, `last`) below 0 or above MAX_PAGE, and cursors (`after`, `before`)
 *   that are not a cursor of this API, on any field at any depth;
 * - a mutation with more than one root field: one that fails would hide that another was done;
 * - a cursor anywhere in a mutation (whose list it belongs to is known only after the write).
 * Each as BAD_USER_INPUT.
 */
export const MAX_DEPTH = 32;

const refusal = (message: string, field?: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}) } });

/** The deepest nesting of arrays and objects in `value`, walked without recursion (stops past `limit`). */
export function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    if (v && typeof v === 'object') for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** A connection cursor as Pothos writes them for `cursor: 'id'`: base64 of `GPC:S:<uuid>`. */
function isCursor(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  return decoded.startsWith('GPC:S:') && isUuid(decoded.slice(6));
}

function valueOf(node: ValueNode, variables: Record<string, unknown>): unknown {
  if (node.kind === Kind.VARIABLE) return variables[node.name.value];
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.STRING) return node.value;
  if (node.kind === Kind.NULL) return null;
  return undefined; // any other kind is the validator's to refuse
}

function pagingRefusal(document: DocumentNode, variables: Record<string, unknown>, mutation: boolean): GraphQLError | null {
  let found: GraphQLError | null = null;
  visit(document, {
    [Kind.ARGUMENT]: (node) => {
      if (found) return;
      const name = node.name.value;
      const value = valueOf(node.value, variables);
      if (value == null) return;
      if ((name === 'first' || name === 'last') && typeof value === 'number' && (value < 0 || value > MAX_PAGE)) {
        found = refusal(`${name} must be between 0 and ${MAX_PAGE}`, name);
      } else if ((name === 'after' || name === 'before') && !isCursor(value)) {
        found = refusal('Not a cursor of this API', name);
      } else if ((name === 'after' || name === 'before') && mutation) {
        // Whose list a cursor belongs to is known only once the mutation has run: its answer
        // shows first pages; later pages are for queries.
        found = refusal('A mutation answers with first pages: page on with a query', name);
      }
    },
  });
  return found;
}

function rootFieldCount(document: DocumentNode, operation: OperationDefinitionNode): number {
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  const names = new Set<string>();
  const seen = new Set<string>();
  const collect = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (s.name.value !== '__typename') names.add(s.alias?.value ?? s.name.value);
      } else if (s.kind === Kind.INLINE_FRAGMENT) collect(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  return names.size;
}

/** A subscription over HTTP needs a streaming answer: Server-Sent Events or multipart. */
function streamRefusal(context: { request?: Request }): GraphQLError | null {
  const accept = context.request?.headers.get('accept');
  if (!context.request || (accept && /text\/event-stream|multipart\/mixed/i.test(accept))) return null;
  return new GraphQLError('A subscription needs Accept: text/event-stream (or multipart/mixed), or a WebSocket', { extensions: { code: 'NOT_ACCEPTABLE' } });
}

export function refuseBadOperationInput(): Plugin {
  const check = (args: { document: DocumentNode; variableValues?: unknown; operationName?: string | null }) => {
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    if (depthOf(variables, MAX_DEPTH) > MAX_DEPTH) return refusal(`Variables may nest at most ${MAX_DEPTH} levels deep`);
    const operation = getOperationAST(args.document, args.operationName);
    const mutation = operation?.operation === 'mutation';
    if (mutation && rootFieldCount(args.document, operation) > 1) return refusal('One mutation field per operation: send the others in their own requests');
    return pagingRefusal(args.document, variables, mutation);
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = check(args) ?? streamRefusal(args.contextValue as { request?: Request });
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
