// The Chrome DevTools Protocol of a server started with `NODE_OPTIONS=--inspect=127.0.0.1:<port>`,
// for the benchmarks that look inside it: CPU profiles of a chosen window, garbage collection and
// heap statistics on demand (no --expose-gc needed, and --cpu-prof is not allowed in NODE_OPTIONS).
import WebSocket from 'ws';

export interface Inspector {
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Protocol events (e.g. HeapProfiler.addHeapSnapshotChunk); returns a function that removes the listener. */
  on(method: string, listener: (params: Record<string, unknown>) => void): () => void;
  close(): void;
}

export async function connectInspector(port: number): Promise<Inspector> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl, { perMessageDeflate: false, maxPayload: 2 ** 31 });
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, ((params: Record<string, unknown>) => void)[]>();
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; method?: string; params?: Record<string, unknown>; result?: unknown; error?: { message: string } };
    if (message.method) for (const l of listeners.get(message.method) ?? []) l(message.params ?? {});
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id!);
    if (message.error) waiter.reject(new Error(message.error.message));
    else waiter.resolve(message.result);
  });
  return {
    send<T>(method: string, params: Record<string, unknown> = {}) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    on(method, listener) {
      listeners.set(method, [...(listeners.get(method) ?? []), listener]);
      return () => listeners.set(method, (listeners.get(method) ?? []).filter((l) => l !== listener));
    },
    close: () => ws.close(),
  };
}

/** Writes a heap snapshot of the inspected process to `file`. */
export async function heapSnapshot(inspector: Inspector, file: string): Promise<void> {
  const fs = await import('node:fs');
  const out = fs.openSync(file, 'w');
  const off = inspector.on('HeapProfiler.addHeapSnapshotChunk', (p) => fs.writeSync(out, String(p.chunk)));
  try {
    await inspector.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    off();
    fs.closeSync(out);
  }
}

/** Self time (ms) per package or area of a CPU profile, largest first. */
export function selfTimesByArea(profile: CpuProfile): { ms: number; area: string }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byArea = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const f = byId.get(profile.samples[i]!)!.callFrame;
    const pkg = f.url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1];
    const area = pkg ?? (f.url.includes('/src/') ? 'verdict src' : f.url.startsWith('node:') ? 'node:' + f.url.slice(5).split('/')[0] : f.functionName || f.url || '(native)');
    byArea.set(area, (byArea.get(area) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return [...byArea.entries()].map(([area, ms]) => ({ area, ms })).sort((a, b) => b.ms - a.ms);
}

/** Self time per function (ms) of a CPU profile, largest first. */
export function selfTimes(profile: CpuProfile, top = 40): { ms: number; fn: string }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFn = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '')}:${f.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us / 1000);
  }
  return [...byFn.entries()].map(([fn, ms]) => ({ fn, ms })).sort((a, b) => b.ms - a.ms).slice(0, top);
}

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}
