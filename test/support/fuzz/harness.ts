import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { TestApp } from '../app.js';
import { LogCapture, snapshot, snapshotDiff, violations, wroteWithData } from './invariants.js';
import { describeOp, type Op } from './operations.js';
import type { Outcome, Runner } from './runner.js';

/**
 * One seed for the whole file: FUZZ_SEED replays a run (the same operations in the same order;
 * ids and timestamps differ, values drawn from them do not). Each property derives its own seed
 * from it, so properties do not draw the same random stream.
 */
export const FUZZ_SEED: number = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : (Date.now() ^ Math.floor(Math.random() * 0x1_0000_0000)) | 0;
if (!Number.isInteger(FUZZ_SEED)) throw new Error(`FUZZ_SEED must be an integer, not ${process.env.FUZZ_SEED}`);

/**
 * FUZZ_PATH replays one counterexample of one property directly (with its FUZZ_SEED, and
 * `-t '<test name>'` to run that property alone); the failure message prints the command.
 */
export const FUZZ_PATH: string | undefined = process.env.FUZZ_PATH || undefined;

/** FUZZ_RUNS scales every property's number of runs (default 1). */
export const RUNS_SCALE = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : 1;

const derivedSeed = (name: string) => createHash('sha256').update(`${FUZZ_SEED}:${name}`).digest().readInt32BE(0);

/** Runs one operation and checks every invariant, the database's included. */
export class Checker {
  private last: Record<string, string> | null = null;
  constructor(
    private readonly t: TestApp,
    private readonly runner: Runner,
    readonly logs: LogCapture,
    private readonly codes: Set<string>,
  ) {}

  /**
   * Sends `op` (or runs `send`) and returns what broke. The database is compared with its state
   * right before: unchanged unless a mutation answered with data.
   */
  async check(op: Op, send: () => Promise<Outcome> = () => this.runner.run(op)): Promise<string[]> {
    const before = this.last ?? (await snapshot(this.t.db));
    const mark = this.logs.errors.length;
    let outcome: Outcome;
    try {
      outcome = await send();
    } catch (error) {
      // The test's own transport failed (e.g. fetch refused a header): that says nothing of the server.
      this.last = null;
      return [`the request could not be sent: ${error instanceof Error ? error.message : String(error)}`];
    }
    const after = await snapshot(this.t.db);
    this.last = after;
    const found = violations(op, outcome, this.codes, this.logs.errors.slice(mark));
    if (!outcome.results.some(wroteWithData)) {
      const diff = snapshotDiff(before, after);
      if (diff) found.push(`refused, yet the database changed: ${diff}`);
    }
    if (found.length) found.push(`answer: ${JSON.stringify({ status: outcome.status, results: outcome.results, close: outcome.close, text: outcome.text?.slice(0, 300) }).slice(0, 2000)}`);
    return found;
  }
}

export class FuzzFailure extends Error {}

/** Properties that failed in this file so far (the volume check only counts complete runs). */
export const failedProperties: string[] = [];

/**
 * fast-check over async operations, one operation per run. A failure reports the shrunk
 * operation, what it broke, and how to replay the run.
 */
export async function fuzz<T>(name: string, testName: string, arbitrary: fc.Arbitrary<T>, runs: number, property: (value: T) => Promise<string[]>, timeLimitMs: number) {
  const numRuns = Math.max(1, Math.round(runs * RUNS_SCALE));
  const details = await fc.check(
    fc.asyncProperty(arbitrary, async (value) => {
      const broken = await property(value);
      if (broken.length) throw new FuzzFailure(broken.join('\n'));
    }),
    {
      seed: derivedSeed(name),
      numRuns,
      interruptAfterTimeLimit: timeLimitMs,
      markInterruptAsFailure: true,
      ...(FUZZ_PATH ? { path: FUZZ_PATH, endOnFailure: true } : {}),
    },
  );
  if (details.failed) {
    failedProperties.push(name);
    const head =
      details.interrupted && details.counterexample === null
        ? `${name}: interrupted after ${timeLimitMs} ms (${details.numRuns} of ${numRuns} runs)`
        : `${name}: an operation broke the server's contract`;
    const broken =
      details.errorInstance instanceof FuzzFailure
        ? `\nWhat it broke:\n${details.errorInstance.message}\n`
        : details.errorInstance
          ? `\nError: ${details.errorInstance instanceof Error ? (details.errorInstance.stack ?? details.errorInstance.message) : String(details.errorInstance)}\n`
          : '';
    const replay = details.counterexamplePath
      ? `Replay this counterexample: FUZZ_SEED=${FUZZ_SEED} FUZZ_PATH=${details.counterexamplePath} npx vitest run test/fuzz.test.ts -t '${testName}'\n`
      : '';
    throw new Error(
      `${head}\nReplay this run: FUZZ_SEED=${FUZZ_SEED} npx vitest run test/fuzz.test.ts (fast-check seed of this property: ${details.seed})\n${replay}${broken}\n${fc.defaultReportMessage(details)}`,
    );
  }
  return details.numRuns;
}

export { describeOp };
