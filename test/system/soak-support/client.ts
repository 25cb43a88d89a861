import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

// The soak's clients: GraphQL over HTTP with every answer classified (success, a refusal the
// caller asked for or allowed, or unexpected), and graphql-ws subscribers that keep every event
// with the time it arrived.

export interface Endpoint {
  name: string;
  http: string;
  ws: string;
}

export interface CallOptions {
  /** Counted under this kind in the report. */
  kind: string;
  server: Endpoint;
  query: string;
  variables?: Record<string, unknown>;
  token?: string | undefined;
  /** A deliberate refusal: the call must fail, with one of these codes. */
  refuse?: string[];
  /** A refusal that a race may explain (checked when it happens). */
  allow?: (code: string) => boolean;
}

export interface CallResult<T> {
  data: T | undefined;
  codes: string[];
  ok: boolean;
}

interface KindStats {
  ok: number;
  refused: Record<string, number>;
  unexpected: number;
  totalMs: number;
  maxMs: number;
}

/** Every operation the soak made, by kind and server, and every one that went wrong. */
export class Stats {
  readonly kinds = new Map<string, KindStats>();
  readonly perServer = new Map<string, number>();
  readonly httpStatus = new Map<number, number>();
  readonly unexpected: string[] = [];
  unexpectedCount = 0;

  private kind(name: string): KindStats {
    let k = this.kinds.get(name);
    if (!k) this.kinds.set(name, (k = { ok: 0, refused: {}, unexpected: 0, totalMs: 0, maxMs: 0 }));
    return k;
  }

  record(kind: string, server: string, ms: number, outcome: { ok: true } | { refused: string } | { unexpected: string }) {
    const k = this.kind(kind);
    k.totalMs += ms;
    k.maxMs = Math.max(k.maxMs, ms);
    this.perServer.set(server, (this.perServer.get(server) ?? 0) + 1);
    if ('ok' in outcome) k.ok++;
    else if ('refused' in outcome) k.refused[outcome.refused] = (k.refused[outcome.refused] ?? 0) + 1;
    else {
      k.unexpected++;
      this.unexpectedCount++;
      if (this.unexpected.length < 40) this.unexpected.push(`${new Date().toISOString()} ${kind} on ${server}: ${outcome.unexpected}`);
    }
  }

  /** Failures found outside a single call (a subscription, a protocol check). */
  problem(what: string) {
    this.unexpectedCount++;
    if (this.unexpected.length < 40) this.unexpected.push(`${new Date().toISOString()} ${what}`);
  }

  total() {
    let n = 0;
    for (const k of this.kinds.values()) n += k.ok + k.unexpected + Object.values(k.refused).reduce((a, b) => a + b, 0);
    return n;
  }

  table() {
    return [...this.kinds.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, k]) => {
        const refused = Object.values(k.refused).reduce((a, b) => a + b, 0);
        const n = k.ok + refused + k.unexpected;
        return {
          kind,
          total: n,
          ok: k.ok,
          refused: Object.entries(k.refused)
            .map(([code, c]) => `${code}×${c}`)
            .join(' '),
          unexpected: k.unexpected,
          avgMs: Math.round(k.totalMs / Math.max(1, n)),
          maxMs: Math.round(k.maxMs),
        };
      });
  }
}

/** POST one operation and classify the answer. */
export async function call<T = Record<string, unknown>>(stats: Stats, op: CallOptions): Promise<CallResult<T>> {
  const started = performance.now();
  const finish = (outcome: Parameters<Stats['record']>[3]) => stats.record(op.kind, op.server.name, performance.now() - started, outcome);
  let status = 0;
  let body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  try {
    const response = await fetch(`${op.server.http}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(op.token ? { authorization: `Bearer ${op.token}` } : {}) },
      body: JSON.stringify({ query: op.query, variables: op.variables ?? {} }),
      signal: AbortSignal.timeout(30_000),
    });
    status = response.status;
    stats.httpStatus.set(status, (stats.httpStatus.get(status) ?? 0) + 1);
    const text = await response.text();
    try {
      body = JSON.parse(text);
    } catch {
      finish({ unexpected: `HTTP ${status}, not JSON: ${text.slice(0, 200)}` });
      return { data: undefined, codes: [], ok: false };
    }
  } catch (error) {
    finish({ unexpected: `request failed: ${(error as Error).message}` });
    return { data: undefined, codes: [], ok: false };
  }
  const errors = body.errors ?? [];
  const codes = errors.map((e) => String(e.extensions?.code ?? 'NO_CODE'));
  if (status >= 500) {
    finish({ unexpected: `HTTP ${status}: ${JSON.stringify(body).slice(0, 300)}` });
    return { data: body.data, codes, ok: false };
  }
  if (errors.length === 0) {
    if (op.refuse) {
      finish({ unexpected: `expected a refusal (${op.refuse.join('|')}), got ${JSON.stringify(body.data).slice(0, 200)}` });
      return { data: body.data, codes, ok: false };
    }
    finish({ ok: true });
    return { data: body.data, codes, ok: true };
  }
  const explained = codes.every((code) => op.refuse?.includes(code) || op.allow?.(code));
  const rateLimitedWithoutWait = errors.some((e) => e.extensions?.code === 'RATE_LIMITED' && !(Number(e.extensions.retryAfterSeconds) > 0));
  if (!explained || rateLimitedWithoutWait) {
    finish({ unexpected: `HTTP ${status} ${errors.map((e) => `${e.extensions?.code ?? 'NO_CODE'}: ${e.message}`).join('; ')}` });
    return { data: body.data, codes, ok: false };
  }
  finish({ refused: codes.join('+') });
  return { data: body.data, codes, ok: false };
}

export interface ReceivedEvent {
  at: number;
  data: Record<string, unknown>;
}

/**
 * One graphql-ws connection and its subscriptions; every `next` is kept per subscription key.
 * Anything other than data (an error payload, an error or complete message, the socket closing)
 * before close() is a problem, except on keys opened with `expectError`.
 */
export class Subscriber {
  readonly events = new Map<string, ReceivedEvent[]>();
  readonly problems: string[] = [];
  readonly expectedErrors = new Map<string, string[]>();
  private readonly client: Client;
  private readonly stops: (() => void)[] = [];
  private closing = false;

  constructor(
    readonly name: string,
    readonly server: Endpoint,
    token?: string,
  ) {
    this.client = createClient({
      url: server.ws,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      onNonLazyError: (error) => this.problems.push(`${name}: connection failed: ${String((error as Error)?.message ?? error)}`),
    });
    this.client.on('closed', (event) => {
      if (!this.closing) this.problems.push(`${name}: socket closed during the soak (${(event as { code?: number }).code})`);
    });
  }

  subscribe(key: string, query: string, variables: Record<string, unknown> = {}, expectError?: string) {
    const list: ReceivedEvent[] = [];
    this.events.set(key, list);
    if (expectError) this.expectedErrors.set(key, []);
    const stop = this.client.subscribe(
      { query, variables },
      {
        next: (result) => {
          if (result.errors?.length) {
            const codes = result.errors.map((e) => String(e.extensions?.code ?? 'NO_CODE'));
            if (expectError) this.expectedErrors.get(key)!.push(...codes);
            else this.problems.push(`${this.name} ${key}: error payload ${JSON.stringify(result.errors).slice(0, 300)}`);
            return;
          }
          list.push({ at: Date.now(), data: result.data as Record<string, unknown> });
        },
        error: (error) => {
          const errors = Array.isArray(error) ? error : [error];
          const codes = errors.map((e) => String((e as { extensions?: { code?: unknown } })?.extensions?.code ?? 'NO_CODE'));
          if (expectError) this.expectedErrors.get(key)!.push(...codes);
          else if (!this.closing) this.problems.push(`${this.name} ${key}: error ${JSON.stringify(error).slice(0, 300)}`);
        },
        complete: () => {
          if (!this.closing && !expectError) this.problems.push(`${this.name} ${key}: completed during the soak`);
        },
      },
    );
    this.stops.push(stop);
  }

  count(key: string) {
    return this.events.get(key)?.length ?? 0;
  }

  async close() {
    this.closing = true;
    for (const stop of this.stops) stop();
    await this.client.dispose();
  }
}

/** The uuid behind a Relay global id (base64 of "Type:uuid"). */
export function uuidOf(globalId: string, type: string): string {
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  const [t, id] = [decoded.slice(0, decoded.indexOf(':')), decoded.slice(decoded.indexOf(':') + 1)];
  if (t !== type || !/^[0-9a-f-]{36}$/i.test(id)) throw new Error(`not a ${type} id: ${globalId} (${decoded})`);
  return id.toLowerCase();
}
