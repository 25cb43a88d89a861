import { randomInt } from 'node:crypto';
import { z } from 'zod';
import bank from './dilemmas.json' with { type: 'json' };
import type { Inspiration, Judge } from './judge.js';
import { caseDraftSchema, rulingSchema, type CaseDraft, type JudgeRuling } from './schema.js';

type Side = JudgeRuling['side'];

/**
 * A bank entry argues for both sides and names neither as the ruling: the side is drawn when the
 * case is sealed, so nothing shipped with the code (or kept in its history) says which it will be.
 * Strict, so a stale `ruling` field cannot slip back into the bank.
 */
const bankEntrySchema = caseDraftSchema
  .extend({
    reasoning: z.strictObject({ A: rulingSchema.shape.reasoning, B: rulingSchema.shape.reasoning }),
  })
  .strict()
  .refine((c) => c.sideA.toLowerCase() !== c.sideB.toLowerCase(), { message: 'The two sides must differ', path: ['sideB'] })
  .refine((c) => c.reasoning.A !== c.reasoning.B, { message: 'Each side needs its own reasoning', path: ['reasoning', 'B'] });

export type OfflineBankEntry = z.infer<typeof bankEntrySchema>;

export const OFFLINE_BANK: readonly OfflineBankEntry[] = z.array(bankEntrySchema).min(1).parse(bank);

const words = (text: string) => new Set(text.toLowerCase().match(/\p{L}{4,}/gu) ?? []);

/**
 * The bank's stand-in for writing from a topic: the dilemma sharing the most words (of four
 * letters or more) with the topic's title; undefined when none shares any.
 */
export function closestTo(dilemmas: readonly OfflineBankEntry[], title: string): number | undefined {
  const wanted = words(title);
  let best: number | undefined;
  let bestShared = 0;
  dilemmas.forEach((d, i) => {
    let shared = 0;
    for (const w of words(`${d.title} ${d.dilemma}`)) if (wanted.has(w)) shared++;
    if (shared > bestShared) [best, bestShared] = [i, shared];
  });
  return best;
}

/** A fair coin from the CSPRNG: the only thing that decides an offline ruling's side. */
function drawSide(): Side {
  return randomInt(2) === 0 ? 'A' : 'B';
}

/**
 * Runs Verdict with no AI provider: dilemmas come from a bank shipped with the code, and cases
 * are marked OFFLINE so nobody takes them for a model's work. Every ruling's side is drawn afresh
 * when it is asked for, so the same dilemma or draft can go either way.
 */
export class OfflineJudge implements Judge {
  readonly name = 'offline-bank';
  readonly source = 'OFFLINE' as const;
  private readonly order: number[];
  private next = 0;

  /** `dilemmas` is for tests that need to seal one dilemma many times. */
  constructor(private readonly dilemmas: readonly OfflineBankEntry[] = OFFLINE_BANK) {
    if (dilemmas.length === 0) throw new Error('The offline judge needs at least one dilemma');
    // A random order, each dilemma once before any repeats.
    this.order = dilemmas.map((_, i) => i);
    for (let i = this.order.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [this.order[i], this.order[j]] = [this.order[j]!, this.order[i]!];
    }
  }

  /** The next dilemma, with the bank's reasoning for a freshly drawn side. */
  async writeCase(inspiration?: Inspiration): Promise<CaseDraft & { ruling: JudgeRuling }> {
    const index = (inspiration && closestTo(this.dilemmas, inspiration.title)) ?? this.order[this.next++ % this.order.length]!;
    const { reasoning, ...draft } = this.dilemmas[index]!;
    const side = drawSide();
    return { ...draft, ruling: { side, reasoning: reasoning[side] } };
  }

  /**
   * A coin-flip ruling for a user's case, labelled plainly as not a judgement. The case's text is
   * only used to name the side that came up, never to choose it.
   */
  async rule(draft: CaseDraft): Promise<JudgeRuling> {
    const side = drawSide();
    const label = side === 'A' ? draft.sideA : draft.sideB;
    return {
      side,
      reasoning:
        `Offline ruling: no AI model was available, so side ${side} ("${label}") was chosen by a random coin flip, ` +
        'a stand-in used in development. It is sealed and revealed like any ruling, but it is not a judgement of the case.',
    };
  }
}
