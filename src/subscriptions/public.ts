import type { GraphQLField } from 'graphql';

const PUBLIC_SUBSCRIPTION = 'verdictPublicSubscription';
const COALESCE_MS = 'verdictCoalesceMs';

/**
 * Field extensions for a subscription field whose events are the same for everyone: the field
 * takes its events from ONE `ctx.pubsub.subscribe(topic[, id])` call that depends on its arguments
 * only, never on the viewer. Its subscribers over WebSocket then share one pubsub listener and one
 * execution and serialization per event for each distinct operation and variables (see
 * fanout.ts). The selection may still reach fields that depend on the viewer (a case's `myVote`):
 * those executions are detected as they happen and are repeated per viewer, so marking a field
 * public never shows one subscriber another's data.
 *
 *   t.field({ ..., extensions: publicSubscription, subscribe: (_r, args, ctx) => ctx.pubsub.subscribe(…) })
 */
export const publicSubscription: Readonly<Record<string, unknown>> = Object.freeze({ [PUBLIC_SUBSCRIPTION]: true });

export const isPublicSubscription = (field: GraphQLField<unknown, unknown> | undefined): boolean =>
  field?.extensions?.[PUBLIC_SUBSCRIPTION] === true;

/**
 * Like `publicSubscription`, for a field whose events only say "this changed" and whose `subscribe`
 * coalesces them (`coalesce(ctx.pubsub.subscribe(…), ms)`, see coalesce.ts): a group's one
 * listener coalesces the same way, so every subscriber gets at most one event per `ms`.
 */
export const coalescedPublicSubscription = (ms: number): Readonly<Record<string, unknown>> =>
  Object.freeze({ [PUBLIC_SUBSCRIPTION]: true, [COALESCE_MS]: ms });

/** The coalescing interval of a public subscription field; 0 when its events go one by one. */
export function coalescingOf(field: GraphQLField<unknown, unknown> | undefined): number {
  const ms = field?.extensions?.[COALESCE_MS];
  return typeof ms === 'number' && ms > 0 ? ms : 0;
}
