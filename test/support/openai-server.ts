import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Reply =
  | { status?: number; headers?: Record<string, string>; body: unknown }
  | 'hang';

export interface RecordedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** Answers chat completions the way an OpenAI-compatible endpoint does, from a script per test. */
export async function startOpenAIServer() {
  const replies: Reply[] = [];
  const requests: RecordedRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(raw || '{}') });
      const reply = replies.shift() ?? { status: 500, body: { error: { message: 'no scripted reply' } } };
      if (reply === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    script(...next: Reply[]) {
      replies.length = 0;
      requests.length = 0;
      replies.push(...next);
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A chat.completion whose message content is the given JSON (or raw text). */
export function completion(content: unknown, extra: { refusal?: string } = {}) {
  return {
    body: {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: 'test-model',
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          message: {
            role: 'assistant',
            content: extra.refusal ? null : typeof content === 'string' ? content : JSON.stringify(content),
            refusal: extra.refusal ?? null,
          },
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
    },
  };
}
