import { describe, expect, it } from 'vitest';
import bankJson from '../src/ai/dilemmas.json' with { type: 'json' };
import { OFFLINE_BANK, OfflineJudge } from '../src/ai/offline-judge.js';
import { rulingSchema, writtenCaseSchema, type CaseDraft, type JudgeRuling } from '../src/ai/schema.js';

// The offline judge's side must come from the CSPRNG alone. These tests seal the same dilemma or
// draft thousands of times and check the sides are indistinguishable from a fair coin.

/** Draws per fairness check: 4,000 fair flips stay within 1845..2155 heads unless p < 1e-6. */
const DRAWS = 4_000;
/** So low that a fair coin fails about once in a million runs, yet 55 % of 4,000 is rejected. */
const P_MIN = 1e-6;

/**
 * Exact two-sided binomial test, as R's binom.test: the probability under Binomial(n, p) of all
 * outcomes no more likely than the observed k. Summed in log space, with ln(j!) accumulated
 * exactly, so n in the thousands neither underflows nor loses the tails.
 */
function binomialTwoSidedP(k: number, n: number, p = 0.5): number {
  const logFactorial = new Float64Array(n + 1);
  for (let j = 2; j <= n; j++) logFactorial[j] = logFactorial[j - 1]! + Math.log(j);
  const logPmf = (j: number) =>
    logFactorial[n]! - logFactorial[j]! - logFactorial[n - j]! + j * Math.log(p) + (n - j) * Math.log1p(-p);
  // R's relative tolerance, so outcomes exactly as likely as k are not lost to rounding.
  const cutoff = logPmf(k) + 1e-7;
  const terms: number[] = [];
  for (let j = 0; j <= n; j++) {
    const l = logPmf(j);
    if (l <= cutoff) terms.push(l);
  }
  const max = Math.max(...terms);
  const sum = terms.reduce((s, l) => s + Math.exp(l - max), 0);
  return Math.min(1, Math.exp(max + Math.log(sum)));
}

/** Rules `draws` times and counts side A, checking each ruling on the way. */
async function countA(draws: number, seal: () => Promise<JudgeRuling>, check: (ruling: JudgeRuling) => void) {
  let a = 0;
  for (let i = 0; i < draws; i++) {
    const ruling = await seal();
    check(ruling);
    if (ruling.side === 'A') a++;
  }
  return a;
}

const draft: CaseDraft = {
  title: 'The found wallet',
  dilemma: 'You find a wallet with 400 euros and an ID card on your way home late at night. '.repeat(4).trim(),
  sideA: 'Return it',
  sideB: 'Keep the cash',
};

describe('the binomial test', () => {
  it('matches exact values', () => {
    expect(binomialTwoSidedP(0, 10)).toBeCloseTo(2 / 1024, 12);
    expect(binomialTwoSidedP(2, 10)).toBeCloseTo(112 / 1024, 12);
    expect(binomialTwoSidedP(5, 10)).toBe(1);
    expect(binomialTwoSidedP(3, 10, 0.2)).toBeCloseTo(0.429574656, 9);
    expect(binomialTwoSidedP(9, 20, 0.3)).toBeCloseTo(0.1488145951754471, 12);
  });

  it('accepts a fair count and rejects a 55 % one, so the fairness checks can fail', () => {
    expect(binomialTwoSidedP(DRAWS / 2, DRAWS)).toBe(1);
    expect(binomialTwoSidedP(0.55 * DRAWS, DRAWS)).toBeLessThan(P_MIN);
    expect(binomialTwoSidedP(0.45 * DRAWS, DRAWS)).toBeLessThan(P_MIN);
  });
});

describe('offline bank cases', () => {
  it('draw a fair side each time one dilemma is sealed, with the bank reasoning for that side', async () => {
    const entry = OFFLINE_BANK.find((d) => d.title === 'The found wallet')!;
    const judge = new OfflineJudge([entry]);
    const a = await countA(
      DRAWS,
      async () => {
        const written = await judge.writeCase();
        expect(written.title).toBe(entry.title);
        return written.ruling;
      },
      (ruling) => expect(ruling.reasoning).toBe(entry.reasoning[ruling.side]),
    );
    expect(binomialTwoSidedP(a, DRAWS)).toBeGreaterThan(P_MIN);
  });

  it('go either way for every dilemma in the bank', async () => {
    for (const entry of OFFLINE_BANK) {
      const judge = new OfflineJudge([entry]);
      const sides = new Set<string>();
      // Both sides within 64 draws unless the coin is broken (a fair one misses once in 2^63).
      for (let i = 0; i < 64; i++) {
        const { ruling } = await judge.writeCase();
        expect(ruling.reasoning).toBe(entry.reasoning[ruling.side]);
        sides.add(ruling.side);
      }
      expect(sides, entry.title).toEqual(new Set(['A', 'B']));
    }
  });

  it('keep the shape of a written case, and no trace of the other side', async () => {
    const judge = new OfflineJudge();
    for (let i = 0; i < OFFLINE_BANK.length; i++) {
      const written = await judge.writeCase();
      expect(Object.keys(written).sort()).toEqual(['dilemma', 'ruling', 'sideA', 'sideB', 'title']);
      expect(Object.keys(written.ruling).sort()).toEqual(['reasoning', 'side']);
      expect(writtenCaseSchema.parse(written)).toEqual(written);
    }
  });
});

describe('offline rulings on submitted cases', () => {
  it('draw a fair side for one fixed draft, and name the side drawn', async () => {
    const judge = new OfflineJudge();
    const a = await countA(
      DRAWS,
      () => judge.rule(draft),
      (ruling) => {
        const [chosen, other] = ruling.side === 'A' ? [draft.sideA, draft.sideB] : [draft.sideB, draft.sideA];
        expect(ruling.reasoning).toContain(`side ${ruling.side} ("${chosen}")`);
        expect(ruling.reasoning).not.toContain(other);
        expect(ruling.reasoning).toMatch(/coin flip/);
        expect(rulingSchema.parse(ruling)).toEqual(ruling);
      },
    );
    expect(binomialTwoSidedP(a, DRAWS)).toBeGreaterThan(P_MIN);
  });

  it('go both ways when the same draft is ruled on again', async () => {
    const judge = new OfflineJudge();
    const drafts = [draft, { ...draft, title: 'Another title' }, { ...draft, dilemma: `${draft.dilemma} It is raining.` }];
    for (const d of drafts) {
      const sides = new Set<string>();
      for (let i = 0; i < 64 && sides.size < 2; i++) sides.add((await judge.rule(d)).side);
      expect(sides, d.title).toEqual(new Set(['A', 'B']));
    }
  });

  it('stay valid with the longest labels', async () => {
    const long = { ...draft, sideA: 'a'.repeat(60), sideB: 'b'.repeat(60) };
    for (let i = 0; i < 20; i++) rulingSchema.parse(await new OfflineJudge().rule(long));
  });
});

describe('the dilemma bank', () => {
  it('argues both sides of every dilemma and names no ruling', () => {
    expect(bankJson).toHaveLength(OFFLINE_BANK.length);
    for (const entry of bankJson) {
      expect(Object.keys(entry).sort(), entry.title).toEqual(['dilemma', 'reasoning', 'sideA', 'sideB', 'title']);
      expect(Object.keys(entry.reasoning).sort(), entry.title).toEqual(['A', 'B']);
    }
  });

  it('has a distinct, valid reasoning for each side of each dilemma', () => {
    const all = OFFLINE_BANK.flatMap((d) => [d.reasoning.A, d.reasoning.B]);
    for (const entry of OFFLINE_BANK) {
      expect(entry.reasoning.A, entry.title).not.toBe(entry.reasoning.B);
      rulingSchema.shape.reasoning.parse(entry.reasoning.A);
      rulingSchema.shape.reasoning.parse(entry.reasoning.B);
    }
    expect(new Set(all).size).toBe(all.length);
  });
});
