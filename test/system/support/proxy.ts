import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in the test process, between a Verdict process and one of its dependencies
 * (PostgreSQL, the chain's JSON-RPC node). `cut()` simulates the dependency going away:
 *
 * - `refuse` (a crash or restart): every open connection is reset at once and new ones are reset
 *   as soon as they arrive, as a port nobody listens on would answer;
 * - `hang` (a network partition): open connections are reset, new ones are accepted and then
 *   never answered.
 *
 * `restore()` lets new connections through again. Nothing on the real server is touched, so
 * other test runs sharing it are not disturbed.
 */
export interface TcpProxy {
  port: number;
  url(base: string): string;
  readonly up: boolean;
  /** Connections made through the proxy so far. */
  readonly connections: number;
  cut(mode?: 'refuse' | 'hang'): void;
  /**
   * Arms a tripwire on the next bytes a client sends that contain `marker` (e.g. a JSON-RPC
   * `eth_sendRawTransaction`) and, when given, every string of `alsoContaining`: `onFire` runs at
   * once (before anything else happens), the bytes reach the server only with `deliver`, and with
   * `cut` the link is cut (refuse) right there. Resolves when it fired.
   */
  tripwire(marker: string, options: { alsoContaining?: string[]; deliver: boolean; cut: boolean; onFire?: () => void }): Promise<void>;
  /** Cuts (refuse) at the next bytes containing `marker`, which never reach the server. */
  cutWhenSent(marker: string): Promise<void>;
  disarm(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let up = true;
  let mode: 'refuse' | 'hang' = 'refuse';
  let connections = 0;
  let armed: { marker: string; alsoContaining?: string[]; deliver: boolean; cut: boolean; onFire?: () => void; fired: () => void } | null = null;
  const matches = (chunk: Buffer) => !!armed && chunk.includes(armed.marker) && (armed.alsoContaining ?? []).every((s) => chunk.includes(s));
  const open = new Set<net.Socket>();
  const held = new Set<net.Socket>();

  const reset = (socket: net.Socket) => {
    if (!socket.destroyed) socket.resetAndDestroy();
  };

  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    if (!up) {
      if (mode === 'refuse') reset(client);
      else {
        held.add(client);
        client.on('close', () => held.delete(client));
      }
      return;
    }
    connections++;
    const upstream = net.connect(target.port, target.host);
    upstream.on('error', () => reset(client));
    client.on('error', () => reset(upstream));
    client.on('close', () => {
      open.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      open.delete(upstream);
      client.destroy();
    });
    open.add(client);
    open.add(upstream);
    client.on('data', (chunk: Buffer) => {
      const trip = matches(chunk) ? armed : null;
      if (trip) {
        armed = null;
        trip.onFire?.();
        if (trip.deliver && !upstream.destroyed) upstream.write(chunk);
        if (trip.cut) cut('refuse');
        trip.fired();
        return;
      }
      if (!upstream.destroyed) upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  const cut = (how: 'refuse' | 'hang') => {
    up = false;
    mode = how;
    for (const socket of open) reset(socket);
    open.clear();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    /** `base` with its host and port replaced by the proxy's. */
    url(base: string) {
      const u = new URL(base);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString().replace(/\/$/, base.endsWith('/') ? '/' : '');
    },
    get up() {
      return up;
    },
    get connections() {
      return connections;
    },
    cut(how = 'refuse') {
      cut(how);
    },
    tripwire(marker, options) {
      return new Promise<void>((resolve) => (armed = { marker, ...options, fired: resolve }));
    },
    cutWhenSent(marker: string) {
      return new Promise<void>((resolve) => (armed = { marker, deliver: false, cut: true, fired: resolve }));
    },
    disarm() {
      armed = null;
    },
    restore() {
      up = true;
      armed = null;
      for (const socket of held) reset(socket);
      held.clear();
    },
    async close() {
      up = false;
      for (const socket of [...open, ...held]) reset(socket);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
