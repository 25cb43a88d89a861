import { createHash } from 'node:crypto';
import { createInMemoryCache, useResponseCache, type Cache } from '@graphql-yoga/plugin-response-cache';
import { Kind, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { PubSub } from '../events.js';
import { depthOf, MAX_DEPTH } from '../graphql/operation-input.js';

/**
 * Schema coordinates whose values are the same for every caller: an operation is cached only
 * when it is a query and every field it selects is one of these (`__typename` aside). Anything
 * that depends on the viewer (`me`, `myVote`, `User.rank`, …), on the clock, or changes with every
 * vote stays out. Adding a coordinate here is a promise that it is viewer-independent and changes
 * only when the leaderboard job runs (or within CACHE_TTL_MS).
 */
export const PUBLIC_COORDINATES: ReadonlySet<string> = new Set([
  'Query.leaderboard',
  'LeaderboardEntry.rank',
  'LeaderboardEntry.points',
  'LeaderboardEntry.handle',
  'LeaderboardEntry.userId',
]);

/** The type whose entries the leaderboard job replaces: invalidating it drops every cached leaderboard. */
const LEADERBOARD_TYPE = 'LeaderboardEntry';

/**
 * Backstop for a lost invalidation (e.g. Redis down): a cached leaderboard is at most this old.
 * The job refreshes every 15 minutes; a leaderboard computed live (no snapshot yet) changes sooner.
 */
export const CACHE_TTL_MS = 60_000;

/** At most this many cached responses (LRU); a leaderboard response is a few kB. */
const MAX_ENTRIES = 256;
/** Query texts known to be uncacheable, so their key is not hashed again; cleared when full. */
const MAX_KNOWN_UNCACHEABLE = 1000;
/** The key of every uncacheable operation: nothing is ever stored under it. */
const UNCACHEABLE_KEY = 'uncacheable';

/** Whether every field of the document is public; memoized per parsed document (yoga caches those). */
function publicOnly(schema: GraphQLSchema, document: DocumentNode): boolean {
  let cacheable = true;
  let publicFields = 0;
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition(node) {
        if (node.operation !== 'query') cacheable = false;
      },
      Field(node) {
        if (node.name.value === '__typename') return;
        const parent = typeInfo.getParentType();
        if (parent && PUBLIC_COORDINATES.has(`${parent.name}.${node.name.value}`)) publicFields++;
        else cacheable = false;
      },
      Directive(node) {
        // @defer / @stream results arrive in parts; keep them out.
        if (node.name.value !== 'include' && node.name.value !== 'skip') cacheable = false;
      },
    }),
  );
  return cacheable && publicFields > 0 && document.definitions.every((d) => d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION);
}

/**
 * yoga's response cache for public, viewer-independent queries (today: the leaderboard), with the
 * hooks to keep it right:
 * - only operations made of PUBLIC_COORDINATES are cached, so the key needs no session: one entry
 *   serves every caller, signed in or not; nothing else (mutations, `me`, errors) is ever stored;
 * - `invalidateLeaderboard()` drops the cached leaderboards; it runs on every `leaderboardUpdated`
 *   event, which the leaderboard job publishes after each refresh, through Redis when configured,
 *   so every server sharing it drops its copy;
 * - a result computed before an invalidation is not stored after it (generation check);
 * - a cached result is serialized once and the same JSON is sent on every hit.
 */
export function publicResponseCache(pubsub: PubSub, periods: readonly string[]) {
  const inner = createInMemoryCache({ max: MAX_ENTRIES });
  const cache: Cache = {
    get: (key) => inner.get(key),
    invalidate: (entities) => inner.invalidate(entities),
    set(key, result, entities, ttl) {
      // yoga sends `result.stringify(result)` when present (ExecutionResultWithSerializer): the
      // entry never changes, so its JSON is made on the first hit and reused.
      let json: string | undefined;
      const stringify = (sanitized: unknown) => (json ??= JSON.stringify(sanitized));
      // Every entry is a leaderboard: filed under its type also when nothing in it names the type
      // (an empty list under an alias), or the job's invalidation would miss it until its TTL.
      return inner.set(key, Object.assign({}, result, { stringify }), [...entities, { typename: LEADERBOARD_TYPE }], ttl);
    },
  };

  /** Per execution: cacheable or not, and the generation it started in. */
  const decided = new WeakMap<object, { cacheable: boolean; generation: number }>();
  const publicDocuments = new WeakMap<DocumentNode, boolean>();
  const uncacheableQueries = new Set<string>();
  let generation = 0;

  const invalidateLeaderboard = () => {
    generation++;
    return cache.invalidate([{ typename: LEADERBOARD_TYPE }]);
  };

  const decide: Plugin = {
    onExecute({ args }) {
      let cacheable = publicDocuments.get(args.document);
      if (cacheable === undefined) {
        cacheable = publicOnly(args.schema, args.document);
        publicDocuments.set(args.document, cacheable);
      }
      decided.set(args.contextValue as object, { cacheable, generation });
      const query = (args.contextValue as { params?: { query?: unknown } }).params?.query;
      if (!cacheable && typeof query === 'string') {
        if (uncacheableQueries.size >= MAX_KNOWN_UNCACHEABLE) uncacheableQueries.clear();
        uncacheableQueries.add(query);
      }
    },
  };

  const responseCache = useResponseCache<object>({
    cache,
    ttl: CACHE_TTL_MS,
    // Only public operations are ever stored (see `enabled`), so one entry serves everyone.
    session: () => null,
    // Before execution (the lookup by key, If-None-Match) nothing is decided yet: look up; the
    // store only holds public results. At execution, only public operations are cached.
    // No request over graphql-ws (the fan-out shares executions there): never cached.
    enabled: (request, context) => request != null && (decided.get(context)?.cacheable ?? true),
    // LeaderboardEntry has no `id`; its userId identifies it, so the entries are recorded as
    // entities and invalidating the type finds them.
    idFields: ['id', 'userId'],
    invalidateViaMutation: false,
    includeExtensionMetadata: false,
    // A result computed before the last invalidation may be stale: serve it, do not store it.
    onTtl: ({ ttl, context }) => (decided.get(context)?.generation === generation ? ttl : 0),
    // The default hashes with WebCrypto (a promise per request); node:crypto is synchronous, and a
    // query text seen to be uncacheable is not hashed at all (it parses to the same document).
    // Variables nested past what any operation accepts are refused before execution; never keyed.
    buildResponseCacheKey: ({ documentString, variableValues, operationName, sessionId }) =>
      uncacheableQueries.has(documentString) || depthOf(variableValues ?? {}, MAX_DEPTH) > MAX_DEPTH
        ? UNCACHEABLE_KEY
        : createHash('sha256')
            .update(`${documentString}|${operationName ?? ''}|${JSON.stringify(variableValues ?? {})}|${sessionId ?? ''}`)
            .digest('hex'),
  });

  const subscriptions = periods.map((period) => pubsub.subscribe('leaderboardUpdated', period));
  for (const subscription of subscriptions) {
    void (async () => {
      for await (const _update of subscription) await invalidateLeaderboard();
    })().catch(() => undefined); // ends when closed; a broken event source leaves the TTL backstop
  }

  return {
    plugins: [decide, responseCache],
    /** Drops every cached leaderboard on this server (the job's event does it on all of them). */
    invalidateLeaderboard,
    async close() {
      await Promise.all(subscriptions.map((s) => s.return?.()));
    },
  };
}
