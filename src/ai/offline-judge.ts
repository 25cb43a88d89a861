import { createHash, randomInt } from 'node:crypto';
import bank from './dilemmas.json' with { type: 'json' };
import type { Judge } from './judge.js';
import { writtenCaseSchema, type CaseDraft, type JudgeRuling } from './schema.js';

export const OFFLINE_BANK = bank.map((entry) => writtenCaseSchema.parse(entry));

/**
 * Runs Verdict with no AI provider: dilemmas come from a bank shipped with the code, and cases
 * are marked OFFLINE so nobody takes them for a model's work.
 */
export class OfflineJudge implements Judge {
  readonly name = 'offline-bank';
  readonly source = 'OFFLINE' as const;
  private readonly order: number[];
  private next = 0;

  constructor() {
    // A random order, each dilemma once before any repeats.
    this.order = OFFLINE_BANK.map((_, i) => i);
    for (let i = this.order.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [this.order[i], this.order[j]] = [this.order[j]!, this.order[i]!];
    }
  }

  async writeCase() {
    const entry = OFFLINE_BANK[this.order[this.next++ % this.order.length]!]!;
    return structuredClone(entry);
  }

  /** A deterministic ruling for a user's case, labelled plainly as not a model's judgement. */
  async rule(draft: CaseDraft): Promise<JudgeRuling> {
    const digest = createHash('sha256').update(`${draft.title}\n${draft.dilemma}`).digest();
    const side = digest[0]! % 2 === 0 ? 'A' : 'B';
    const label = side === 'A' ? draft.sideA : draft.sideB;
    return {
      side,
      reasoning:
        `Offline ruling: no AI model was available, so this side ("${label}") was chosen by a fixed ` +
        'rule from the text of the case. It is sealed and revealed like any ruling, but it is not a judgement.',
    };
  }
}
