// Property-based fuzzing of the whole GraphQL surface. Operations are generated from the committed
// schema.graphql: every root Query, Mutation and Subscription field, with arguments as literals or
// variables of every input type (real ids, foreign ids and cursors, malformed ones, NUL, lone
// surrogates, huge and negative numbers, wrong types, nulls, long text), random selections, aliases
// and repeats; then hostile documents, request bodies, GET parameters and raw WebSocket frames.
// They go over HTTP (yoga.fetch, and a real socket: POST, GET, Server-Sent Events) and WebSocket
// (graphql-ws), anonymous (or with a session that must not count) and signed in as a user and as
// an admin. Every answer is held to the README's error contract:
//   - no HTTP 5xx; every error has an extensions.code from the README's table, and none is
//     INTERNAL_SERVER_ERROR; a WebSocket is closed only with a code a client can cause;
//   - no log line at error level (that level is for what an operator must look at);
//   - a write that was refused (an error and no data) left the database unchanged.
//
// Deterministic structure (the same properties, run counts and order every time), random values:
// the seed is printed at the start and on any failure. FUZZ_SEED=<n> replays a run, FUZZ_PATH
// (with -t) one counterexample, FUZZ_RUNS=<x> scales the number of operations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { documentCategories } from './support/fuzz/documents.js';
import { rawFrames } from './support/fuzz/frames.js';
import { Checker, FUZZ_SEED, RUNS_SCALE, failedProperties, fuzz } from './support/fuzz/harness.js';
import { LogCapture } from './support/fuzz/invariants.js';
import { Pools, Selections, fieldOperations, loadSchema, rootFields, type Identity, type Kind } from './support/fuzz/operations.js';
import { readmeErrorCodes } from './support/fuzz/readme-codes.js';
import { Runner, WAKEABLE } from './support/fuzz/runner.js';
import { buildWorld, type World } from './support/fuzz/world.js';

const schema = loadSchema();
const KINDS: Kind[] = ['query', 'mutation', 'subscription'];
const IDENTITIES: Identity[] = ['anonymous', 'user', 'admin'];

/**
 * Runs per root field and identity: a fixed budget of operations shared evenly by every root field
 * of the schema (so the suite keeps its running time as the schema grows), at least 30 each. Fewer
 * where each run is expensive: scrypt makes every sign-in and sign-up attempt cost ~100 ms, and an
 * admin's runJob runs a real job.
 */
const FIELD_BUDGET = 4_500;
const FIXED_RUNS: Record<string, number> = { signIn: 14, signUp: 14, 'runJob.admin': 15 };
const fixedRuns = (field: string, as: Identity) => FIXED_RUNS[`${field}.${as}`] ?? FIXED_RUNS[field];
const slots = KINDS.flatMap((kind) => rootFields(schema, kind).flatMap((f) => IDENTITIES.map((as) => fixedRuns(f.name, as))));
const RUNS_PER_FIELD = Math.max(30, Math.floor((FIELD_BUDGET - slots.reduce<number>((sum, n) => sum + (n ?? 0), 0)) / slots.filter((n) => n === undefined).length));
const runsFor = (field: string, as: Identity) => fixedRuns(field, as) ?? RUNS_PER_FIELD;

const RUNS_DOCUMENTS: Record<string, number> = {
  'edited operations': 120,
  'hostile documents': 150,
  'hostile bodies': 80,
  'GET parameters': 60,
  'operations over the wrong transport': 60,
  'operation names and extensions': 60,
};
const RUNS_FRAMES = 300;
const MIN_OPERATIONS = 5_000;

/** fast-check stops a property after this long (a failure then still reports its counterexample). */
const PROPERTY_TIME_LIMIT_MS = 40_000;
const TEST_TIMEOUT_MS = PROPERTY_TIME_LIMIT_MS + 20_000;

let t: TestApp;
let world: World;
let runner: Runner;
let checker: Checker;
let pools: Pools;
let selections: Selections;
const logs = new LogCapture();
const codes = readmeErrorCodes();
const started = Date.now();

beforeAll(async () => {
  console.log(`fuzz: FUZZ_SEED=${FUZZ_SEED}${RUNS_SCALE !== 1 ? ` FUZZ_RUNS=${RUNS_SCALE}` : ''}; README error codes: ${[...codes].join(' ')}`);
  t = await createTestApp({ LOG_LEVEL: 'debug' }, { logStream: logs.stream });
  const base = `http://127.0.0.1:${await t.app.start(0, '127.0.0.1')}`;
  world = await buildWorld(t);
  runner = new Runner(t, world, base);
  checker = new Checker(t, runner, logs, codes);
  pools = new Pools(world);
  selections = new Selections(schema, pools);
  // Building the world logs nothing at error level either.
  expect(logs.errors).toEqual([]);
}, 120_000);

afterAll(async () => {
  await runner?.close();
  await t?.close();
}, 60_000);

describe('fuzz: coverage', () => {
  it('knows how to wake every subscription field of the schema', () => {
    // A subscription the runner cannot wake is only checked for an immediate refusal: add its
    // event to Runner.wakeUntil.
    expect(rootFields(schema, 'subscription').map((f) => f.name).filter((name) => !WAKEABLE.has(name))).toEqual([]);
  });
});

describe.sequential('fuzz: every root field, as every identity', () => {
  for (const kind of KINDS) {
    for (const field of rootFields(schema, kind)) {
      for (const as of IDENTITIES) {
        const title = `${kind} ${field.name} as ${as}`;
        it(
          title,
          async () => {
            const operations = fieldOperations(schema, pools, selections, kind, field, as);
            await fuzz(`${kind}.${field.name}.${as}`, title, operations, runsFor(field.name, as), (op) => checker.check(op), PROPERTY_TIME_LIMIT_MS);
          },
          TEST_TIMEOUT_MS,
        );
      }
    }
  }
});

describe.sequential('fuzz: hostile documents, bodies and GET parameters', () => {
  for (const [category, runs] of Object.entries(RUNS_DOCUMENTS)) {
    it(
      category,
      async () => {
        const operations = documentCategories(schema, pools, selections)[category]!;
        await fuzz(`documents.${category}`, category, operations, runs, (op) => checker.check(op), PROPERTY_TIME_LIMIT_MS);
      },
      TEST_TIMEOUT_MS,
    );
  }
});

describe.sequential('fuzz: raw WebSocket frames', () => {
  const title = 'frames the graphql-ws client would never send';
  it(
    title,
    async () => {
      await fuzz('frames', title, rawFrames(schema, pools, selections), RUNS_FRAMES, (f) => checker.check(f.op, () => runner.frames(f.op, f.frames, f.options)), PROPERTY_TIME_LIMIT_MS);
    },
    TEST_TIMEOUT_MS,
  );
});

describe.sequential('fuzz: volume', () => {
  it(`sent at least ${MIN_OPERATIONS} operations`, () => {
    console.log(`fuzz: ${runner.sent} operations in ${Math.round((Date.now() - started) / 1000)} s, ${logs.lines} log lines; FUZZ_SEED=${FUZZ_SEED}`);
    // A failed property stops at its first counterexample (then shrinks it): only a run where
    // every property ran to the end must reach the count.
    if (RUNS_SCALE >= 1 && failedProperties.length === 0) expect(runner.sent).toBeGreaterThanOrEqual(MIN_OPERATIONS);
  });
});
