import { createPubSub } from 'graphql-yoga';

/**
 * The typed topic map. Payloads carry ids only: subscribers re-read the rows through Prisma so
 * the same field rules apply to live events as to queries. Publish only after the commit.
 */
export type Topics = {
  caseOpened: [{ caseId: string }];
  caseClosed: [{ caseId: string }];
  jobCompleted: [{ runId: string }];
};

export type PubSub = ReturnType<typeof createPubSub<Topics>>;
type EventTarget = NonNullable<Parameters<typeof createPubSub>[0]>['eventTarget'];

/** In-process by default; pass a Redis event target to share events across servers. */
export function createEvents(eventTarget?: EventTarget): PubSub {
  return createPubSub<Topics>(eventTarget ? { eventTarget } : {});
}
