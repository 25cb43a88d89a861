import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { completion } from '../../support/openai-server.js';

export type AiMode = 'ok' | 'error' | 'hang';

/**
 * An OpenAI-compatible endpoint whose health the test switches: `ok` answers every chat
 * completion with a valid case or ruling (by the requested schema), `error` answers 500, `hang`
 * never answers (the client's timeout decides). Counts requests per mode.
 */
export async function startAiServer() {
  let mode: AiMode = 'ok';
  let served = 0;
  const counts: Record<AiMode, number> = { ok: 0, error: 0, hang: 0 };
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      counts[mode]++;
      if (mode === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (mode === 'error') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'the model is down', type: 'server_error' } }));
        return;
      }
      const body = JSON.parse(raw || '{}') as { response_format?: { json_schema?: { name?: string } } };
      const n = ++served;
      const ruling = { side: n % 2 ? 'A' : 'B', reasoning: `Ruling ${n}: weighing honesty against harm, this side does less damage to everyone involved.` };
      const content =
        body.response_format?.json_schema?.name === 'ruling'
          ? ruling
          : {
              title: `Generated dilemma ${n}`,
              dilemma: `Dilemma ${n}: `.padEnd(260, 'You found a wallet with cash and an ID; the owner lives far away and the bus fare costs you a day. '),
              sideA: 'Return it in person',
              sideB: 'Mail it back',
              ruling,
            };
      const reply = completion(content);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    counts,
    set(next: AiMode) {
      mode = next; // requests already hanging keep hanging until the client gives up
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
