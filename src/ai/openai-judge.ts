import type OpenAI from 'openai';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { JudgeError, type Inspiration, type Judge } from './judge.js';
import { JSON_SCHEMAS, rulingSchema, writtenCaseSchema, type CaseDraft, type JudgeRuling } from './schema.js';

export interface OpenAIJudgeOptions {
  apiKey: string;
  baseURL?: string | undefined;
  model: string;
  timeoutMs: number;
  /** Retries of a request (5xx, 429, timeouts: done by the SDK) and of an invalid answer (here). */
  maxRetries: number;
}

const SYSTEM_PROMPT = [
  'You are the judge of Verdict, a court of everyday moral dilemmas.',
  'You are fair, careful and plain-spoken. You weigh the interests of everyone involved, honesty,',
  'harm, fairness, loyalty and the law, and you explain your ruling so a thoughtful reader could',
  'disagree with it but not call it careless. Reply only with JSON in the requested shape.',
].join(' ');

const WRITE_PROMPT = [
  'Write one fresh, realistic moral dilemma that reasonable people would split on, about ordinary',
  'life (work, family, friends, money, honesty, neighbours, technology, animals, civic duty …).',
  'Write it in the second person, 200 to 1500 characters, without hinting at an answer. Give two',
  'clearly opposed choices as short labels (side A and side B). Then rule on it: pick the side you',
  'find right and give your reasoning (at most 1500 characters).',
].join(' ');

type Schema = (typeof JSON_SCHEMAS)[keyof typeof JSON_SCHEMAS];

export class OpenAIJudge implements Judge {
  readonly source = 'AI' as const;
  readonly name: string;
  /** Made on first use: the SDK is loaded only when a case is written or ruled. */
  private client: OpenAI | undefined;
  private sdk: typeof import('openai') | undefined;

  constructor(
    private readonly options: OpenAIJudgeOptions,
    private readonly log: Logger,
  ) {
    this.name = options.model;
  }

  writeCase(inspiration?: Inspiration) {
    const prompt = inspiration
      ? [
          WRITE_PROMPT,
          'Draw it from this topic people are discussing now: keep its moral question, not its names',
          'or details, and do not judge the real people involved.',
          `Topic (from ${inspiration.source}): ${inspiration.title}`,
        ].join('\n')
      : WRITE_PROMPT;
    return this.ask(prompt, JSON_SCHEMAS.writtenCase, writtenCaseSchema);
  }

  rule(draft: CaseDraft): Promise<JudgeRuling> {
    const prompt = [
      'A user submitted this dilemma. Rule on it: pick side A or side B and give your reasoning.',
      `Title: ${draft.title}`,
      `Side A: ${draft.sideA}`,
      `Side B: ${draft.sideB}`,
      `Dilemma:\n${draft.dilemma}`,
    ].join('\n');
    return this.ask(prompt, JSON_SCHEMAS.ruling, rulingSchema);
  }

  /** One structured answer, asked again (bounded) when it is not valid JSON of the right shape. */
  private async ask<T>(prompt: string, jsonSchema: Schema, schema: z.ZodType<T>): Promise<T> {
    const attempts = this.options.maxRetries + 1;
    let problem = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const message = await this.complete(prompt, jsonSchema);
      if (message.refusal) throw new JudgeError('refusal', `The model refused: ${message.refusal}`);
      const parsed = schema.safeParse(parseJson(message.content));
      if (parsed.success) return parsed.data;
      problem = parsed.error.issues[0]?.message ?? 'invalid output';
      // The content may hold a ruling: never log it above debug.
      this.log.warn({ attempt, attempts, problem }, 'the judge answered in the wrong shape; asking again');
    }
    throw new JudgeError('invalid_output', `No valid answer after ${attempts} attempts (${problem})`);
  }

  private async complete(prompt: string, jsonSchema: Schema) {
    try {
      this.sdk ??= await import('openai');
      this.client ??= new this.sdk.default({
        apiKey: this.options.apiKey,
        baseURL: this.options.baseURL ?? null,
        timeout: this.options.timeoutMs,
        maxRetries: this.options.maxRetries,
      });
      const completion = await this.client.chat.completions.create({
        model: this.options.model,
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: prompt },
        ],
        response_format: { type: 'json_schema', json_schema: structuredClone(jsonSchema) as never },
      });
      const message = completion.choices[0]?.message;
      if (!message) throw new JudgeError('invalid_output', 'The answer has no message');
      return message;
    } catch (error) {
      if (error instanceof JudgeError) throw error;
      if (this.sdk && error instanceof this.sdk.APIConnectionTimeoutError) throw new JudgeError('timeout', 'The model did not answer in time', { cause: error });
      if (this.sdk && error instanceof this.sdk.APIError) throw new JudgeError('http', `The model endpoint failed: ${error.message}`, { cause: error });
      throw error;
    }
  }
}

function parseJson(content: string | null | undefined): unknown {
  try {
    return JSON.parse(content ?? '');
  } catch {
    return undefined;
  }
}
