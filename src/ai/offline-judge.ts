import { randomInt } from 'node:crypto';
import { z } from 'zod';
import bank from './dilemmas.json' with { type: 'json' };
import type { Judge } from './judge.js';
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
  async writeCase(): Promise<CaseDraft & { ruling: JudgeRuling }> {
    const { reasoning, ...draft } = this.dilemmas[this.order[this.next++ % this.order.length]!]!;
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
