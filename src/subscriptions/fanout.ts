import {
  createSourceEventStream,
  getOperationAST,
  Kind,
  print,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLField,
} from 'graphql';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { Context } from '../context.js';
import type { PubSub } from '../events.js';
import { createLoaders } from '../loaders.js';
import { coalesce } from './coalesce.js';
import { coalescingOf, isPublicSubscription } from './public.js';

/**
 * Fan-out of public subscriptions over graphql-ws (issue #9).
 *
 * Subscribers of a public subscription field (see public.ts) with the same document, operation
 * name and variables form a group. A group holds ONE pubsub listener; each event is executed once
 * through the normal envelop pipeline (plugins, error masking) and serialized once, and the same
 * frame text goes to every socket with only the subscription id differing.
 *
 * Sharing a result is decided per execution, not trusted to annotations: the execution runs with
 * a context that notes which of its properties are read. Reading only server-wide ones (db,
 * pubsub, config, …) means the result is everyone's. Otherwise it goes to the subscribers whose
 * contexts hold the same under the keys read (the same viewer, the same connection params…), and
 * the event is executed again for the first of the others, and so on: a selection that reaches
 * `myVote` or an authorized field costs one execution per distinct viewer, never a wrong payload.
 *
 * Each event is executed by replaying it: the execution's context has a pubsub whose `subscribe`
 * yields just that event, so the field's own `subscribe` (filters included) and `resolve` run as
 * they would for a single subscriber. A coalescing field (public.ts) has its group's listener
 * coalesced, since a replay sees one event at a time.
 */

/** Context properties that are the same for every connection of this server. */
const SERVER_WIDE = new Set<PropertyKey>(['db', 'pubsub', 'config', 'log', 'sessions', 'chain', 'sealer', 'scheduler', 'loaders', 'then']);

/** What one execution read of its context beyond the server-wide part. */
interface Reads {
  keys: Set<PropertyKey>;
  /** Enumerated the context (a spread, Object.keys): depends on all of it. */
  all: boolean;
}

type SubscribeFn = (args: ExecutionArgs) => unknown;

/** What the graphql-ws layer hands over with each operation (in `rootValue`). */
export interface WsRoot {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: SubscribeFn;
  /** Where a shared subscription writes its frames. */
  delivery: { socket: WebSocket; id: string };
}

type SubscriberContext = Context & Record<PropertyKey, unknown>;

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';

/** The context of one execution, noting what the execution reads of it. */
function watched<T extends object>(target: T, reads: Reads): T {
  const note = (key: PropertyKey) => {
    if (!SERVER_WIDE.has(key)) reads.keys.add(key);
  };
  return new Proxy(target, {
    get(t, key, receiver) {
      note(key);
      return Reflect.get(t, key, receiver);
    },
    has(t, key) {
      note(key);
      return Reflect.has(t, key);
    },
    getOwnPropertyDescriptor(t, key) {
      note(key);
      return Reflect.getOwnPropertyDescriptor(t, key);
    },
    ownKeys(t) {
      reads.all = true;
      return Reflect.ownKeys(t);
    },
  });
}

/** Stable JSON (sorted keys), for variables in a group key. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A result as graphql-ws sends it in a `next` message (errors through their toJSON). */
function serializePayload(result: ExecutionResult): string {
  const { errors, ...rest } = result;
  return JSON.stringify(errors ? { ...rest, errors: errors.map((e) => e.toJSON()) } : rest);
}

const viewerKey = (ctx: SubscriberContext) => (ctx.viewer ? `${ctx.viewer.id}:${ctx.viewer.role}:${ctx.viewer.handle}` : '');

/**
 * Whether two subscribers' contexts hold the same under the keys an execution read, so that the
 * execution's result is valid for both: the viewer counts by who it is, anything else by identity.
 */
function sameReads(a: SubscriberContext, b: SubscriberContext, reads: Reads): boolean {
  if (a === b) return true;
  if (reads.all) return false;
  for (const key of reads.keys) {
    if (key === 'viewer' ? viewerKey(a) !== viewerKey(b) : !Object.is(a[key], b[key])) return false;
  }
  return true;
}

/** One subscriber of a group: graphql-ws iterates it; it ends when the subscriber or the group does. */
class Member implements AsyncIterableIterator<never> {
  active = true;
  /** `{"id":…,"type":"next","payload":` — a frame is this, the payload and `}`. */
  private readonly head: string;
  private ending: { resolve: (r: IteratorResult<never>) => void; reject: (e: unknown) => void } | null = null;
  private outcome: { error: unknown } | 'done' | null = null;

  constructor(
    private readonly group: Group,
    private readonly socket: WebSocket,
    id: string,
    readonly context: SubscriberContext,
  ) {
    this.head = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  }

  send(payload: string) {
    if (this.active && this.socket.readyState === WebSocket.OPEN) this.socket.send(this.head + payload + '}');
  }

  /** The group ended (error: graphql-ws sends it as an `error` message; otherwise `complete`). */
  finish(outcome: { error: unknown } | 'done') {
    if (!this.active) return;
    this.active = false;
    this.outcome = outcome;
    this.group.leave(this);
    this.settle();
  }

  private settle() {
    if (!this.ending || !this.outcome) return;
    if (this.outcome === 'done') this.ending.resolve({ done: true, value: undefined });
    else this.ending.reject(this.outcome.error);
    this.ending = null;
  }

  next(): Promise<IteratorResult<never>> {
    return new Promise((resolve, reject) => {
      this.ending = { resolve, reject };
      this.settle();
    });
  }

  /** The subscriber left: its client completed or its socket closed. */
  return(): Promise<IteratorResult<never>> {
    this.finish('done');
    return Promise.resolve({ done: true, value: undefined });
  }

  throw(error: unknown): Promise<IteratorResult<never>> {
    this.finish('done');
    return Promise.reject(error);
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

/** The subscribers of one public operation with the same variables, and their one listener. */
class Group {
  readonly members = new Set<Member>();
  closed = false;
  /** Resolves false when the operation turns out not shareable (then it runs per subscriber). */
  readonly ready: Promise<boolean>;
  private source: AsyncIterator<unknown> | null = null;
  private topic: unknown[] = [];
  private topicReads: Reads = { keys: new Set(), all: false };
  /** The first subscriber's context, kept only under the keys its topic was chosen from. */
  private topicContext: SubscriberContext;
  /** The operation, without the first subscriber's context and socket (the group outlives them). */
  private readonly args: ExecutionArgs;

  constructor(
    private readonly fanout: SubscriptionFanout,
    readonly key: string,
    args: ExecutionArgs,
    private readonly subscribe: SubscribeFn,
    /** The field's coalescing interval (ms; 0: none), applied to the group's one listener. */
    private readonly coalesceMs: number,
  ) {
    const { delivery: _delivery, ...root } = args.rootValue as WsRoot;
    this.args = { ...args, contextValue: undefined, rootValue: root };
    this.topicContext = args.contextValue as SubscriberContext;
    this.ready = this.open(this.topicContext).catch((error: unknown) => {
      fanout.log.warn({ err: error }, 'subscription not shared: its source could not be opened once for all');
      return this.abandon();
    });
  }

  /**
   * Runs the field's `subscribe` once with a pubsub that only records what it is asked for: the
   * group then listens to that topic itself. Anything unusual (an error, not exactly one pubsub
   * subscription) leaves the operation to the per-subscriber path, which reports errors exactly as
   * before. Later subscribers join only if their context holds the same under what this read.
   */
  private async open(first: SubscriberContext): Promise<boolean> {
    const topics: unknown[][] = [];
    const recorder = {
      publish: this.fanout.pubsub.publish,
      subscribe: (...topic: unknown[]) => {
        topics.push(topic);
        return emptyStream();
      },
    };
    const reads: Reads = { keys: new Set(), all: false };
    const context = watched({ ...first, pubsub: recorder }, reads);
    const stream = await createSourceEventStream({ ...this.args, contextValue: context });
    if (!isAsyncIterable(stream)) return this.abandon();
    await (stream as AsyncGenerator).return?.(undefined);
    if (reads.all || topics.length !== 1) return this.abandon();
    // Whatever the topic was chosen from, later subscribers must hold the same (see join).
    this.topicReads = reads;
    this.topicContext = Object.fromEntries([...reads.keys].map((k) => [k, first[k]])) as SubscriberContext;
    this.topic = topics[0]!;
    const pubsub = this.fanout.pubsub as unknown as { subscribe(...topic: unknown[]): AsyncIterable<unknown> };
    const events = pubsub.subscribe(...this.topic);
    this.source = (this.coalesceMs > 0 ? coalesce(events, this.coalesceMs) : events)[Symbol.asyncIterator]();
    void this.pump(this.source);
    return true;
  }

  private abandon(): false {
    this.closed = true;
    this.fanout.forget(this);
    return false;
  }

  /** Adds a subscriber; null when its context would have chosen another topic. */
  join(delivery: WsRoot['delivery'], context: SubscriberContext): Member | null {
    if (!sameReads(context, this.topicContext, this.topicReads)) return null;
    const member = new Member(this, delivery.socket, delivery.id, context);
    this.members.add(member);
    return member;
  }

  leave(member: Member) {
    this.members.delete(member);
    if (this.members.size === 0 && !this.closed) {
      this.closed = true;
      this.fanout.forget(this);
      // Ends the pubsub listener (the pump's for-await stops with it).
      void this.source?.return?.(undefined);
    }
  }

  private async pump(source: AsyncIterator<unknown>) {
    let outcome: { error: unknown } | 'done' = 'done';
    try {
      for (;;) {
        const { value: event, done } = await source.next();
        if (done) break;
        if (this.members.size > 0) await this.deliver([...this.members], event);
      }
    } catch (error) {
      outcome = { error };
    }
    for (const member of [...this.members]) member.finish(outcome);
  }

  /**
   * Executes `event` for the first member and sends the result to every member whose context
   * holds the same for whatever the execution read (everyone, when it read nothing of the
   * connection); then the same for the first of those left, until all are served.
   */
  private async deliver(members: Member[], event: unknown): Promise<void> {
    let rest = members;
    while (rest.length > 0) {
      const first = rest[0]!;
      let run: { payloads: string[]; reads: Reads };
      try {
        run = await this.execute(first, event);
      } catch (error) {
        first.finish({ error });
        rest = rest.slice(1);
        continue;
      }
      const shared = !run.reads.all && run.reads.keys.size === 0;
      const others: Member[] = [];
      for (const m of rest) {
        if (shared || sameReads(m.context, first.context, run.reads)) {
          for (const payload of run.payloads) m.send(payload);
        } else {
          others.push(m);
        }
      }
      rest = others;
    }
  }

  /** One execution of `event` as `member` would run it alone, through the envelop pipeline. */
  private async execute(member: Member, event: unknown): Promise<{ payloads: string[]; reads: Reads }> {
    const topic = this.topic;
    const replay = {
      publish: this.fanout.pubsub.publish,
      subscribe: (...asked: unknown[]) => {
        if (canonical(asked) !== canonical(topic)) throw new Error(`shared subscription asked for another topic (${String(asked[0])})`);
        return once(event);
      },
    };
    const reads: Reads = { keys: new Set(), all: false };
    const base = member.context;
    const context = watched({ ...base, pubsub: replay, loaders: createLoaders(base.db) }, reads);
    const outcome = await this.subscribe({ ...this.args, contextValue: context });
    const payloads: string[] = [];
    if (isAsyncIterable(outcome)) {
      for await (const result of outcome) payloads.push(serializePayload(result as ExecutionResult));
    } else {
      payloads.push(serializePayload(outcome as ExecutionResult));
    }
    this.fanout.executions++;
    return { payloads, reads };
  }
}

async function* once(event: unknown) {
  yield event;
}

function emptyStream(): AsyncIterableIterator<never> {
  const done = () => Promise.resolve({ done: true as const, value: undefined as never });
  return { next: done, return: done, [Symbol.asyncIterator]() { return this; } };
}

export class SubscriptionFanout {
  private readonly groups = new Map<string, Group>();
  private readonly printed = new WeakMap<DocumentNode, string>();
  /** Executions of shared events, for tests and diagnostics. */
  executions = 0;

  constructor(
    readonly pubsub: PubSub,
    readonly log: Logger,
  ) {}

  /** graphql-ws `subscribe`: public subscriptions join their group, every other operation runs as before. */
  async subscribe(args: ExecutionArgs): Promise<unknown> {
    const root = args.rootValue as WsRoot;
    const field = this.shareableField(args);
    if (!field) return root.subscribe(args);
    const key = this.groupKey(args);
    for (;;) {
      let group = this.groups.get(key);
      if (!group) {
        group = new Group(this, key, args, root.subscribe, coalescingOf(field));
        this.groups.set(key, group);
      }
      if (!(await group.ready)) return root.subscribe(args);
      // It emptied and closed while this one waited: start a new one.
      if (group.closed) continue;
      return group.join(root.delivery, args.contextValue as SubscriberContext) ?? root.subscribe(args);
    }
  }

  forget(group: Group) {
    if (this.groups.get(group.key) === group) this.groups.delete(group.key);
  }

  /** Open groups and their subscribers. */
  stats(): { groups: number; subscribers: number } {
    let subscribers = 0;
    for (const g of this.groups.values()) subscribers += g.members.size;
    return { groups: this.groups.size, subscribers };
  }

  /** The one root field (no fragment, no directive) of a subscription, when it is marked public. */
  private shareableField(args: ExecutionArgs): GraphQLField<unknown, unknown> | null {
    if (!(args.rootValue as Partial<WsRoot> | undefined)?.delivery) return null;
    const operation = getOperationAST(args.document, args.operationName);
    if (operation?.operation !== 'subscription') return null;
    const selections = operation.selectionSet.selections;
    const selected = selections[0];
    if (selections.length !== 1 || selected?.kind !== Kind.FIELD || selected.directives?.length) return null;
    const field = args.schema.getSubscriptionType()?.getFields()[selected.name.value];
    return isPublicSubscription(field) ? field! : null;
  }

  private groupKey(args: ExecutionArgs): string {
    let document = this.printed.get(args.document);
    if (document === undefined) this.printed.set(args.document, (document = print(args.document)));
    return `${args.operationName ?? ''}\n${canonical(args.variableValues ?? {})}\n${document}`;
  }
}
