import { Kind, getOperationAST, parse, type OperationTypeNode, type ValueNode } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestApp } from '../app.js';
import type { Op } from './operations.js';
import type { World } from './world.js';

export interface FrameOptions {
  /** The WebSocket subprotocol (default graphql-transport-ws); null: none. */
  protocol?: string | null | undefined;
  /** The connection_init frame (default: one with the op's authorization); null: none. */
  init?: string | null | undefined;
  /** The subscribe ids that must be answered (error or complete); default: every one sent. */
  awaitIds?: string[] | undefined;
}

/** What came back for one operation, whichever the transport. */
export interface Outcome {
  /** HTTP status. */
  status?: number;
  contentType?: string | null;
  /** The body when it was not JSON. */
  text?: string;
  /** Every result payload (one over HTTP; each `next`, and the `error` payload, over WebSocket). */
  results: Result[];
  /** The socket closed under the operation. */
  close?: { code: number; reason: string };
  /** No answer in time. */
  timedOut?: boolean;
  /** The client library refused to send it (never reached the server). */
  notSent?: string;
}

export interface Result {
  data?: unknown;
  errors?: unknown;
  /** What the document asked for, when it parsed (mutation results may change the database). */
  operation?: OperationTypeNode | undefined;
}

/** The `query` of a JSON body, if it has one. */
function queryInBody(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return isObject(parsed) && typeof parsed.query === 'string' ? parsed.query : undefined;
  } catch {
    return undefined;
  }
}

/** The operation type a request asks to run, if its document parses and names one. */
export function operationOf(query: string | undefined, operationName: string | undefined): OperationTypeNode | undefined {
  if (typeof query !== 'string') return undefined;
  try {
    return getOperationAST(parse(query), operationName || undefined)?.operation;
  } catch {
    return undefined;
  }
}

/** What wakes a subscription: its root field, and the arguments that filter its events. */
export interface Wake {
  field: string;
  handle?: string | undefined;
  period?: string | undefined;
  id?: string | undefined;
}

/**
 * Reads the subscription's root field and its filtering arguments (literal, variable, or a
 * variable's default) from the document itself, so the runner publishes what it listens to.
 */
export function wakeOf(query: string, variables: unknown, operationName: string | undefined): Wake | undefined {
  try {
    const operation = getOperationAST(parse(query), operationName || undefined);
    const root = operation?.selectionSet.selections.find((s) => s.kind === Kind.FIELD);
    if (!operation || !root || root.kind !== Kind.FIELD) return undefined;
    const value = (name: string): unknown => {
      const node = root.arguments?.find((a) => a.name.value === name)?.value;
      const read = (v: ValueNode | undefined): unknown => {
        if (!v) return undefined;
        if (v.kind === Kind.STRING || v.kind === Kind.ENUM) return v.value;
        if (v.kind === Kind.VARIABLE) {
          const sent = isObject(variables) ? variables[v.name.value] : undefined;
          if (sent !== undefined) return sent;
          return read(operation.variableDefinitions?.find((d) => d.variable.name.value === v.name.value)?.defaultValue);
        }
        return undefined;
      };
      return read(node);
    };
    const handle = value('userHandle');
    const period = value('period');
    const id = value('id');
    return {
      field: root.name.value,
      handle: typeof handle === 'string' ? handle.trim().toLowerCase() : undefined,
      period: typeof period === 'string' ? period : undefined,
      id: typeof id === 'string' ? id : undefined,
    };
  } catch {
    return undefined;
  }
}

const parseJson = (text: string | undefined): unknown => {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return Symbol.for('invalid');
  }
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Bounded waits: a deadline, never a fixed pause before looking. */
const within = <T>(promise: Promise<T>, ms: number, onTimeout: () => T): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

export const ANSWER_TIMEOUT_MS = 15_000;

/** Subscription fields the runner can wake (it publishes their events); see wakeUntil. */
export const WAKEABLE = new Set(['caseOpened', 'caseClosed', 'caseUpdated', 'jobCompleted', 'myRewardUpdated', 'leaderboardUpdated', 'badgeAwarded', 'notificationAdded']);

/**
 * A subscription field the runner cannot wake (a new one: the suite's own check names it) is
 * given this long to answer with an error; silence then means it was accepted.
 */
const UNWAKEABLE_WAIT_MS = 500;

/**
 * Sends operations over HTTP (yoga.fetch, and a real socket), GET, and WebSocket (graphql-ws
 * clients kept per session; a raw socket for what the client library refuses to send).
 */
export class Runner {
  /** Operations that reached the server (or were meant to). */
  sent = 0;
  private clients = new Map<string, { client: Client; closed: { code: number; reason: string } | null }>();

  constructor(
    private readonly t: TestApp,
    private readonly world: World,
    private readonly base: string,
  ) {}

  get wsUrl() {
    return `${this.base.replace(/^http/, 'ws')}${this.t.config.GRAPHQL_PATH}`;
  }

  /** Raw frames on a socket of their own (see rawWs). */
  frames(op: Op, frames: (string | Buffer)[], options: FrameOptions): Promise<Outcome> {
    this.sent += 1;
    return this.rawWs(op, frames, options);
  }

  async run(op: Op): Promise<Outcome> {
    this.sent += 1;
    switch (op.transport) {
      case 'post':
      case 'get':
        return this.http(op, false);
      case 'post-http':
      case 'get-http':
        return this.http(op, true);
      case 'sse':
        return this.http({ ...op, accept: 'text/event-stream' }, false);
      case 'ws':
        return this.ws(op);
    }
  }

  private body(op: Op): string {
    if (op.rawBody !== undefined) return op.rawBody;
    const parts: string[] = [];
    if (op.query !== undefined) parts.push(`"query":${JSON.stringify(op.query)}`);
    if (op.variables !== undefined) parts.push(`"variables":${op.variables}`);
    if (op.operationName !== undefined) parts.push(`"operationName":${JSON.stringify(op.operationName)}`);
    if (op.extensions !== undefined) parts.push(`"extensions":${op.extensions}`);
    return `{${parts.join(',')}}`;
  }

  private async http(op: Op, overNetwork: boolean): Promise<Outcome> {
    const get = op.transport === 'get' || op.transport === 'get-http';
    const headers: Record<string, string> = {};
    if (op.auth !== null) headers.authorization = op.auth;
    let url = `${overNetwork ? this.base : 'http://verdict.test'}${this.t.config.GRAPHQL_PATH}`;
    let body: string | undefined;
    if (get) {
      const params = new URLSearchParams();
      if (op.query !== undefined) params.set('query', op.query);
      if (op.variables !== undefined) params.set('variables', op.variables);
      if (op.operationName !== undefined) params.set('operationName', op.operationName);
      if (op.extensions !== undefined) params.set('extensions', op.extensions);
      url += `?${op.search ?? params}`;
      headers.accept = op.accept ?? 'application/json';
    } else {
      body = this.body(op);
      headers['content-type'] = op.contentType ?? 'application/json';
      if (op.accept !== undefined) headers.accept = op.accept;
    }
    const abort = new AbortController();
    const init: RequestInit = { method: get ? 'GET' : 'POST', headers, signal: abort.signal, ...(body !== undefined ? { body } : {}) };
    // A hand-made body (hostile bodies) carries its query inside: read it, so a write it made counts as one.
    const query = op.search !== undefined ? (new URLSearchParams(op.search).get('query') ?? undefined) : (op.query ?? queryInBody(body));
    const operationName = op.search !== undefined ? (new URLSearchParams(op.search).get('operationName') ?? undefined) : op.operationName;
    const operation = operationOf(query, operationName);
    const timer = setTimeout(() => abort.abort(), ANSWER_TIMEOUT_MS);
    try {
      const response = overNetwork ? await fetch(url, init) : await this.t.app.yoga.fetch(url, init);
      const contentType = response.headers.get('content-type');
      const outcome: Outcome = { status: response.status, contentType, results: [] };
      if (/text\/event-stream|multipart\/mixed/i.test(contentType ?? '') && response.body) {
        // Streamed (SSE or multipart): the first result, or the end of the stream, is the answer.
        const variables = parseJson(op.search !== undefined ? (new URLSearchParams(op.search).get('variables') ?? undefined) : op.variables);
        await this.firstStreamed(response.body, outcome, operation, operation === 'subscription' && query ? wakeOf(query, variables, operationName) : undefined, op.auth);
        abort.abort();
        return outcome;
      }
      const text = await response.text();
      const parsed = parseJson(text);
      if (isObject(parsed)) outcome.results.push({ data: parsed.data, errors: parsed.errors, operation });
      else outcome.text = text;
      return outcome;
    } catch (error) {
      if (abort.signal.aborted) return { results: [], timedOut: true };
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads a streamed answer (text/event-stream or multipart/mixed) until its first result. */
  private async firstStreamed(body: ReadableStream<Uint8Array>, outcome: Outcome, operation: OperationTypeNode | undefined, wake: Wake | undefined, auth: string | null) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const read = (async () => {
      for (;;) {
        const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (chunk.done) break;
        text += decoder.decode(chunk.value, { stream: true });
        // SSE: "event: next\ndata: {...}\n\n"; multipart: headers, a blank line, then the JSON part.
        const payloads = [...text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]!).concat([...text.matchAll(/\r\n\r\n(\{.*?\})\r\n--/gs)].map((m) => m[1]!));
        const results = payloads.map((p) => parseJson(p)).filter(isObject);
        if (results.length > 0 || /event: complete/.test(text)) {
          for (const r of results) outcome.results.push({ data: r.data, errors: r.errors, operation });
          break;
        }
      }
      finish();
    })();
    if (wake && (await this.wakeUntil(done, wake, auth))) finish();
    await within(done, ANSWER_TIMEOUT_MS, () => {
      outcome.timedOut = true;
    });
    await reader.cancel().catch(() => undefined);
    await read;
    if (outcome.results.length === 0 && !outcome.timedOut) outcome.text = text;
  }

  /** One graphql-ws client per session, reused across operations (and made again once closed). */
  private client(auth: string | null) {
    const key = auth ?? '';
    const existing = this.clients.get(key);
    if (existing && !existing.closed) return existing;
    const entry: { client: Client; closed: { code: number; reason: string } | null } = { client: undefined as never, closed: null };
    entry.client = createClient({
      url: this.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: auth === null ? {} : { authorization: auth },
      lazy: true,
      lazyCloseTimeout: 60_000,
      retryAttempts: 0,
      on: {
        closed: (event) => {
          const e = event as { code?: number; reason?: string };
          entry.closed = { code: e.code ?? 0, reason: String(e.reason ?? '') };
        },
      },
    });
    this.clients.set(key, entry);
    return entry;
  }

  private async ws(op: Op): Promise<Outcome> {
    const variables = parseJson(op.variables);
    const extensions = parseJson(op.extensions);
    const wellFormed =
      typeof op.query === 'string' &&
      (variables === undefined || variables === null || isObject(variables)) &&
      (extensions === undefined || extensions === null || isObject(extensions)) &&
      op.rawBody === undefined;
    if (!wellFormed) return this.rawWs(op);
    const operation = operationOf(op.query, op.operationName);
    const { client } = this.client(op.auth);
    const outcome: Outcome = { results: [] };
    const streaming = operation === 'subscription';
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const unsubscribe = client.subscribe(
      {
        query: op.query!,
        ...(isObject(variables) ? { variables } : {}),
        ...(isObject(extensions) ? { extensions } : {}),
        ...(op.operationName !== undefined ? { operationName: op.operationName } : {}),
      },
      {
        next: (result) => {
          outcome.results.push({ data: result.data, errors: result.errors, operation });
          if (streaming) finish();
        },
        error: (error) => {
          if (Array.isArray(error)) outcome.results.push({ errors: error, operation });
          else if (error && typeof error === 'object' && 'code' in error) {
            const e = error as { code: number; reason?: string };
            outcome.close = { code: e.code, reason: String(e.reason ?? '') };
          } else outcome.notSent = String(error);
          finish();
        },
        complete: () => finish(),
      },
    );
    const wake = streaming ? wakeOf(op.query!, variables, op.operationName) : undefined;
    if (wake && (await this.wakeUntil(done, wake, op.auth))) finish();
    await within(done, ANSWER_TIMEOUT_MS, () => {
      outcome.timedOut = true;
    });
    unsubscribe();
    return outcome;
  }

  /**
   * Subscriptions start asynchronously: publish the events that wake this one until it answers
   * (its first event, or its error), a bounded number of times.
   */
  private async wakeUntil(done: Promise<void>, wake: Wake, auth: string | null): Promise<boolean> {
    let answered = false;
    let unwoken = false;
    void done.then(() => (answered = true));
    const w = this.world;
    const viewer = auth?.includes(w.tokens.admin) ? w.admin.id : auth?.includes(w.tokens.user) ? w.user.id : null;
    const publish = () => {
      const { pubsub } = this.t;
      switch (wake.field) {
        case 'caseOpened':
          pubsub.publish('caseOpened', { caseId: w.cases.open[0]!.id });
          break;
        case 'caseClosed':
          pubsub.publish('caseClosed', { caseId: w.cases.closed[0]!.id });
          break;
        case 'caseUpdated': {
          // The case named, in any accepted spelling (a PENDING one may have opened meanwhile);
          // any other id is refused at once (NOT_FOUND).
          const named = [...w.cases.open, ...w.cases.closed, ...w.cases.pending].find((c) => [c.id, c.globalId, c.id.toUpperCase()].includes(wake.id ?? ''));
          if (named) pubsub.publish('caseUpdated', named.id, { caseId: named.id });
          break;
        }
        case 'jobCompleted':
          pubsub.publish('jobCompleted', { runId: w.jobRunIds[0]! });
          break;
        case 'myRewardUpdated':
          if (viewer) pubsub.publish('rewardUpdated', viewer, { rewardId: w.rewardIds[0]! });
          break;
        case 'leaderboardUpdated':
          for (const period of wake.period ? [wake.period] : ['ALL_TIME', 'WEEKLY', 'DAILY']) {
            pubsub.publish('leaderboardUpdated', period, {
              period,
              computedAt: new Date().toISOString(),
              entries: [{ rank: 1, points: 10, userId: w.user.id, handle: w.user.handle }],
            });
          }
          break;
        case 'notificationAdded': {
          const id = w.notificationIds[0] ? Buffer.from(w.notificationIds[0], 'base64').toString().replace(/^Notification:/, '') : undefined;
          // Published untyped: the topic exists only in versions that have notifications.
          if (viewer && id) (pubsub.publish as (...args: unknown[]) => void)('notificationAdded', viewer, { notificationId: id });
          break;
        }
        case 'badgeAwarded':
          pubsub.publish('badgeAwarded', {
            awardId: w.user.id,
            userId: w.user.id,
            handle: wake.handle || w.user.handle,
            badgeKey: w.badgeKeys[0]!,
            awardedAt: new Date().toISOString(),
          });
          break;
      }
    };
    if (!WAKEABLE.has(wake.field)) return within(done, UNWAKEABLE_WAIT_MS, () => (unwoken = true)).then(() => unwoken);
    // Quickly at first (the subscription is usually ready within milliseconds), then every 20 ms.
    for (let i = 0; i < 160 && !answered; i++) {
      publish();
      await within(done, Math.min(20, 1 + i * 2), () => undefined);
    }
    return false;
  }

  /**
   * One operation on a socket of its own, spoken to frame by frame (graphql-transport-ws), for
   * what the client library would refuse to send: the server must answer for that operation
   * or close the socket with a protocol code, never fail.
   */
  async rawWs(op: Op, frames?: (string | Buffer)[], options: FrameOptions = {}): Promise<Outcome> {
    const outcome: Outcome = { results: [] };
    const protocol = options.protocol === undefined ? 'graphql-transport-ws' : options.protocol;
    const socket = protocol === null ? new WebSocket(this.wsUrl) : new WebSocket(this.wsUrl, protocol);
    let handshake: string | undefined;
    const operation = operationOf(op.query, op.operationName);
    const waiting = new Set<string>();
    let acked!: () => void;
    const ack = new Promise<void>((resolve) => (acked = resolve));
    let closed!: () => void;
    const gone = new Promise<void>((resolve) => (closed = resolve));
    let answered!: () => void;
    const allAnswered = new Promise<void>((resolve) => (answered = resolve));
    socket.on('message', (data) => {
      const message = parseJson(String(data));
      if (!isObject(message)) {
        outcome.text = String(data);
        return;
      }
      if (message.type === 'connection_ack') acked();
      if (message.type === 'next' && isObject(message.payload)) outcome.results.push({ data: message.payload.data, errors: message.payload.errors, operation });
      if (message.type === 'error') outcome.results.push({ errors: message.payload, operation });
      if ((message.type === 'error' || message.type === 'complete') && typeof message.id === 'string') {
        waiting.delete(message.id);
        if (waiting.size === 0) answered();
      }
    });
    socket.on('close', (code, reason) => {
      outcome.close = { code, reason: String(reason) };
      acked();
      answered();
      closed();
    });
    // A subprotocol the server does not speak is refused in the handshake (the client aborts).
    socket.on('error', (error) => (handshake = error.message));
    await within(new Promise<void>((resolve) => socket.once('open', () => resolve()).once('close', () => resolve())), ANSWER_TIMEOUT_MS, () => {
      outcome.timedOut = true;
    });
    if (socket.readyState === WebSocket.OPEN) {
      const init = options.init === undefined ? JSON.stringify({ type: 'connection_init', payload: op.auth === null ? {} : { authorization: op.auth } }) : options.init;
      if (init !== null) socket.send(init);
      if (init !== null) await within(ack, ANSWER_TIMEOUT_MS, () => undefined);
      const payload = `{${[
        op.query !== undefined ? `"query":${JSON.stringify(op.query)}` : null,
        op.variables !== undefined ? `"variables":${op.variables}` : null,
        op.operationName !== undefined ? `"operationName":${JSON.stringify(op.operationName)}` : null,
        op.extensions !== undefined ? `"extensions":${op.extensions}` : null,
      ]
        .filter(Boolean)
        .join(',')}}`;
      const toSend = frames ?? [`{"id":"1","type":"subscribe","payload":${op.rawBody ?? payload}}`];
      if (options.awaitIds) for (const id of options.awaitIds) waiting.add(id);
      else {
        for (const frame of toSend) {
          const message = typeof frame === 'string' ? parseJson(frame) : undefined;
          if (isObject(message) && message.type === 'subscribe' && typeof message.id === 'string' && message.id) waiting.add(message.id);
        }
      }
      if (waiting.size === 0) answered();
      for (const frame of toSend) if (socket.readyState === WebSocket.OPEN) socket.send(frame);
      // Frames that ask for no answer: a ping after them is answered in order, once they are read.
      if (socket.readyState === WebSocket.OPEN && waiting.size === 0) {
        const pong = new Promise<void>((resolve) => socket.on('message', (data) => String(data).includes('"pong"') && resolve()));
        socket.send('{"type":"ping"}');
        await within(Promise.race([pong, gone]), ANSWER_TIMEOUT_MS, () => undefined);
      }
      await within(allAnswered, ANSWER_TIMEOUT_MS, () => {
        outcome.timedOut = true;
      });
    }
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
      socket.close();
      await within(gone, ANSWER_TIMEOUT_MS, () => undefined);
      // Our own close is not the server's answer.
      if (outcome.close?.code === 1005 || outcome.close?.code === 1000) delete outcome.close;
    }
    if (handshake && /subprotocol/i.test(handshake) && outcome.close?.code === 1006) {
      delete outcome.close;
      delete outcome.timedOut;
    }
    return outcome;
  }

  async close() {
    await Promise.all([...this.clients.values()].map(({ client }) => client.dispose()));
  }
}
