import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { OfflineJudge } from './offline-judge.js';
import { OpenAIJudge } from './openai-judge.js';
import type { CaseDraft, JudgeRuling } from './schema.js';

export type { CaseDraft, JudgeRuling } from './schema.js';

/** A trending topic a case is written from (job topic-scan). */
export interface Inspiration {
  title: string;
  source: string;
  url: string;
}

/** The AI judge: writes dilemmas and rules on them. The ruling stays secret until closure. */
export interface Judge {
  /** The model's name, or `offline-bank`. */
  readonly name: string;
  readonly source: 'AI' | 'OFFLINE';
  /** A fresh dilemma; with `inspiration`, one drawn from that trending topic. */
  writeCase(inspiration?: Inspiration): Promise<CaseDraft & { ruling: JudgeRuling }>;
  rule(draft: CaseDraft): Promise<JudgeRuling>;
}

export type JudgeErrorKind = 'invalid_output' | 'refusal' | 'http' | 'timeout';

export class JudgeError extends Error {
  override name = 'JudgeError';
  constructor(
    readonly kind: JudgeErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The model at OPENAI_BASE_URL when OPENAI_API_KEY is set; otherwise the offline dilemma bank. */
export function createJudge(config: Config, log: Logger): Judge {
  if (!config.OPENAI_API_KEY) {
    log.warn('OPENAI_API_KEY is not set: cases come from the offline dilemma bank, marked OFFLINE');
    return new OfflineJudge();
  }
  return new OpenAIJudge(
    {
      apiKey: config.OPENAI_API_KEY,
      baseURL: config.OPENAI_BASE_URL,
      model: config.OPENAI_MODEL,
      timeoutMs: config.OPENAI_TIMEOUT_MS,
      maxRetries: config.OPENAI_MAX_RETRIES,
    },
    log,
  );
}
