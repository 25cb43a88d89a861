import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JudgeError, createJudge, type Judge } from '../src/ai/judge.js';
import { OFFLINE_BANK } from '../src/ai/offline-judge.js';
import { loadConfig } from '../src/config.js';
import { completion, startOpenAIServer } from './support/openai-server.js';

const log = pino({ level: 'silent' });
let server: Awaited<ReturnType<typeof startOpenAIServer>>;
beforeAll(async () => {
  server = await startOpenAIServer();
});
afterAll(() => server.close());

const written = {
  title: 'The found wallet',
  dilemma: 'You find a wallet with 400 euros and an ID card on your way home late at night. '.repeat(4).trim(),
  sideA: 'Return it',
  sideB: 'Keep it',
  ruling: { side: 'A', reasoning: 'The money belongs to someone who will miss it; returning it costs little and respects them.' },
};
const noDelay = { 'retry-after-ms': '0' };

function judge(env: Record<string, string> = {}): Judge {
  return createJudge(
    loadConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.baseURL, OPENAI_MODEL: 'judge-model', OPENAI_MAX_RETRIES: '2', ...env }),
    log,
  );
}

async function judgeError(promise: Promise<unknown>) {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(JudgeError);
  return error as JudgeError;
}

describe('the OpenAI judge', () => {
  it('asks for structured output and returns the validated case', async () => {
    server.script(completion(written));
    const result = await judge().writeCase();
    expect(result).toEqual(written);
    const [request] = server.requests;
    expect(request!.path).toBe('/v1/chat/completions');
    expect(request!.headers.authorization).toBe('Bearer sk-test');
    expect(request!.body.model).toBe('judge-model');
    expect(request!.body.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'written_case', strict: true } });
  });

  it('rules on a submitted draft', async () => {
    server.script(completion({ side: 'B', reasoning: 'Keeping a promise matters, but not more than a child’s safety in this case.' }));
    const { ruling: _ruling, ...draft } = written;
    const ruling = await judge().rule(draft);
    expect(ruling.side).toBe('B');
    const prompt = JSON.stringify(server.requests[0]!.body.messages);
    expect(prompt).toContain(draft.title);
    expect(server.requests[0]!.body.response_format).toMatchObject({ json_schema: { name: 'ruling' } });
  });

  it('asks again after malformed JSON', async () => {
    server.script(completion('{"title": "cut off'), completion(written));
    expect((await judge().writeCase()).title).toBe(written.title);
    expect(server.requests).toHaveLength(2);
  });

  it('gives up on answers with missing fields after a bounded number of attempts', async () => {
    const { ruling: _ruling, ...missing } = written;
    server.script(completion(missing), completion(missing), completion(missing), completion(written));
    expect((await judgeError(judge().writeCase())).kind).toBe('invalid_output');
    expect(server.requests).toHaveLength(3);
  });

  it('rejects an answer that breaks the rules of a case', async () => {
    const tooShort = { ...written, dilemma: 'Too short.' };
    server.script(completion(tooShort), completion(tooShort), completion(tooShort));
    expect((await judgeError(judge().writeCase())).kind).toBe('invalid_output');
  });

  it('retries a server error and a rate limit', async () => {
    server.script(
      { status: 500, headers: noDelay, body: { error: { message: 'boom' } } },
      { status: 429, headers: noDelay, body: { error: { message: 'slow down' } } },
      completion(written),
    );
    expect((await judge().writeCase()).title).toBe(written.title);
    expect(server.requests).toHaveLength(3);
  });

  it('fails with an http error when the server keeps failing, after bounded attempts', async () => {
    const failure = { status: 503, headers: noDelay, body: { error: { message: 'down' } } };
    server.script(failure, failure, failure, failure, failure);
    expect((await judgeError(judge().writeCase())).kind).toBe('http');
    expect(server.requests).toHaveLength(3);
  });

  it('times out when the model never answers', async () => {
    server.script('hang', 'hang');
    const started = Date.now();
    const error = await judgeError(judge({ OPENAI_TIMEOUT_MS: '200', OPENAI_MAX_RETRIES: '1' }).writeCase());
    expect(error.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reports a refusal without asking again', async () => {
    server.script(completion(null, { refusal: 'I cannot help with that.' }), completion(written));
    expect((await judgeError(judge().writeCase())).kind).toBe('refusal');
    expect(server.requests).toHaveLength(1);
  });
});

describe('without an API key', () => {
  it('uses the offline bank, marked OFFLINE', async () => {
    const offline = createJudge(loadConfig({}), log);
    expect(offline.source).toBe('OFFLINE');
    expect(offline.name).toBe('offline-bank');
    const titles = new Set<string>();
    for (let i = 0; i < OFFLINE_BANK.length; i++) titles.add((await offline.writeCase()).title);
    expect(titles.size).toBe(OFFLINE_BANK.length);
  });

  it('ships at least 30 valid, distinct dilemmas', () => {
    expect(OFFLINE_BANK.length).toBeGreaterThanOrEqual(30);
    expect(new Set(OFFLINE_BANK.map((d) => d.title)).size).toBe(OFFLINE_BANK.length);
    expect(OFFLINE_BANK.every((d) => d.reasoning.A && d.reasoning.B && d.reasoning.A !== d.reasoning.B)).toBe(true);
  });

  it('rules on a user case and says it is an offline coin flip', async () => {
    const offline = createJudge(loadConfig({}), log);
    const { ruling: _ruling, ...draft } = written;
    const ruling = await offline.rule(draft);
    expect(ruling.reasoning).toMatch(/no AI model/);
    expect(ruling.reasoning).toMatch(/coin flip/);
  });
});
