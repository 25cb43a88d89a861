// Faults with real processes: Verdict servers (`src/main.ts`) and job runs (`scripts/job.ts`)
// are SIGKILLed at seeded random points and restarted; the chain's RPC, the AI endpoint and
// PostgreSQL are cut behind proxies the test controls. The chain (Ganache) and the proxies live in
// the test process, so they survive every kill; PostgreSQL is the machine's, never restarted.
//
// FAULT_SEED=<n> replays another sequence of kill points (the seed in use is printed).
import { Contract, Interface, type InterfaceAbi } from 'ethers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pointsArtifact from '../../contracts/artifacts/VerdictPoints.json' with { type: 'json' };
import registryArtifact from '../../contracts/artifacts/VerdictRegistry.json' with { type: 'json' };
import { caseKeyOf } from '../../src/chain/index.js';
import { startAiServer } from './support/ai-server.js';
import { chainViolations, conservationViolations, stuckRuns } from './support/checks.js';
import { gql, killAll, runJobCli, startServer, until, type Server, type VerdictProcess } from './support/processes.js';
import { startTcpProxy, type TcpProxy } from './support/proxy.js';
import {
  ageSentChainTransactions,
  createWorld,
  lapseJobLeases,
  makeDueAndSeal,
  rng,
  sealCase,
  seedOpenCase,
  seedUsers,
  serverUrl,
  startSharedChain,
  type Rng,
  type SharedChain,
  type World,
} from './support/world.js';

const SEED = Number(process.env.FAULT_SEED ?? 20_261_130);
const EVERY_SECOND = '* * * * * *';

let chain: SharedChain;
const worlds: World[] = [];
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  chain = await startSharedChain();
});
afterAll(async () => {
  await killAll();
  for (const close of closers.reverse()) await close().catch(() => undefined);
  for (const world of worlds) await world.close().catch(() => undefined);
  await chain?.stop();
});

async function newWorld(label: string) {
  const world = await createWorld(label, chain);
  worlds.push(world);
  return world;
}

// ---------------------------------------------------------------------------------------------
// (a) SIGKILL at random points of closure, payouts, badge awards and reveals
// ---------------------------------------------------------------------------------------------

type KillPoint =
  | { proc: 'server'; trigger: 'uniform' }
  | { proc: 'server'; trigger: 'job'; job: 'case-closure' | 'tx-monitor' | 'badges' }
  | { proc: 'server'; trigger: 'log'; msg: 'payout batch sent' | 'ruling revealed on chain' }
  /** Killed the instant it broadcasts a payout (mintBatch) or a reveal: the bytes reach the node, or are lost with it. */
  | { proc: 'server'; trigger: 'broadcast'; tx: 'payout' | 'reveal'; deliver: boolean }
  | { proc: 'cli'; job: 'case-closure' | 'tx-monitor' | 'badges' };

/** Every kind of kill point at least once; the seed decides their order and every delay. */
const KILL_POINTS: KillPoint[] = [
  { proc: 'server', trigger: 'uniform' },
  { proc: 'server', trigger: 'uniform' },
  { proc: 'server', trigger: 'job', job: 'case-closure' },
  { proc: 'server', trigger: 'job', job: 'tx-monitor' },
  { proc: 'server', trigger: 'job', job: 'badges' },
  { proc: 'server', trigger: 'log', msg: 'payout batch sent' },
  { proc: 'server', trigger: 'log', msg: 'ruling revealed on chain' },
  { proc: 'server', trigger: 'broadcast', tx: 'payout', deliver: true },
  { proc: 'server', trigger: 'broadcast', tx: 'payout', deliver: false },
  { proc: 'server', trigger: 'broadcast', tx: 'reveal', deliver: true },
  { proc: 'server', trigger: 'broadcast', tx: 'reveal', deliver: false },
  { proc: 'cli', job: 'case-closure' },
  { proc: 'cli', job: 'tx-monitor' },
  { proc: 'cli', job: 'badges' },
];

const describePoint = (p: KillPoint) =>
  p.proc === 'cli'
    ? `job.ts ${p.job}`
    : p.trigger === 'uniform'
      ? 'server, at a random time'
      : p.trigger === 'job'
        ? `server, in ${p.job}`
        : p.trigger === 'broadcast'
          ? `server, at a ${p.tx} broadcast (${p.deliver ? 'delivered' : 'lost'})`
          : `server, after "${p.msg}"`;

/** A signed transaction's hex holds its call data as is: the function selector finds it. */
const SELECTORS = {
  payout: new Interface(pointsArtifact.abi as InterfaceAbi).getFunction('mintBatch')!.selector.slice(2),
  reveal: new Interface(registryArtifact.abi as InterfaceAbi).getFunction('reveal')!.selector.slice(2),
};

const runningJobs = { JOB_CASE_CLOSURE: EVERY_SECOND, JOB_TX_MONITOR: EVERY_SECOND, JOB_BADGES: EVERY_SECOND };

/** Starts a process, waits for the kill point (bounded), waits a seeded delay, SIGKILLs it. */
async function killAt(world: World, rpc: TcpProxy, point: KillPoint, r: Rng, iteration: number) {
  const startedAt = Date.now();
  const env = world.env({ CHAIN_RPC_URL: rpc.url(chain.rpcUrl), ...(point.proc === 'server' ? runningJobs : {}) });
  let proc: VerdictProcess;
  let trigger: Promise<unknown>;
  let delay: number;
  const runStarted = (job: string) =>
    until(async () => (await world.db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM job_runs WHERE job = ${job} AND holder LIKE ${`%:${proc.pid}:%`}`)[0]!.n > 0, 15_000, `${job} run of ${proc.label}`, 15);
  if (point.proc === 'cli') {
    proc = runJobCli(`job.ts ${point.job} #${iteration}`, point.job, env);
    delay = point.job === 'badges' ? r.int(0, 40) : r.int(0, 300); // a badge pass takes tens of ms
    trigger = runStarted(point.job);
  } else if (point.trigger === 'broadcast') {
    // Armed before the start: the SIGKILL goes out synchronously, the moment the bytes arrive.
    let victim: VerdictProcess | undefined;
    const tripped = rpc.tripwire('eth_sendRawTransaction', {
      alsoContaining: [SELECTORS[point.tx]],
      deliver: point.deliver,
      cut: !point.deliver,
      onFire: () => victim?.child.kill('SIGKILL'),
    });
    proc = victim = await startServer(`server #${iteration}`, env, { waitReady: false });
    delay = 0;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${point.tx} broadcast within 20 s`)), 20_000)));
    trigger = Promise.race([tripped, proc.exited, deadline]).finally(() => clearTimeout(timer));
  } else {
    const server = await startServer(`server #${iteration}`, env, { waitReady: false });
    proc = server;
    const ready = server.waitForLog((l) => l.msg === 'Verdict is ready', 30_000, 'readiness');
    if (point.trigger === 'uniform') {
      delay = r.int(0, 4000);
      trigger = ready;
    } else if (point.trigger === 'job') {
      delay = r.int(0, 250);
      trigger = ready.then(() => runStarted(point.job));
    } else {
      delay = r.int(0, 50);
      trigger = server.waitForLog((l) => l.msg === point.msg, 12_000, `"${point.msg}"`);
    }
  }
  const how = await trigger.then(
    () => 'at its point',
    (error: Error) => `point not reached (${error.message.split('\n')[0]})`,
  );
  await new Promise((resolve) => setTimeout(resolve, delay));
  const wasAlive = proc.alive;
  const exit = await proc.kill('SIGKILL');
  rpc.restore();
  // Transactions on file as sent that the node has never seen (recorded, then killed before the broadcast).
  const sent = await world.db.chainTransaction.findMany({ where: { status: 'SENT' }, select: { hash: true, kind: true } });
  const unseen = [];
  for (const t of sent) if (!(await chain.provider.getTransaction(t.hash))) unseen.push(`${t.kind} ${t.hash.slice(0, 8)}`);
  return {
    iteration,
    point: describePoint(point),
    how,
    delayMs: delay,
    killedAfterMs: Date.now() - startedAt,
    killed: exit.signal === 'SIGKILL' && (wasAlive || point.proc === 'server'),
    recordedUnseen: unseen.join(' ') || '-',
    lastWords: proc.lines.filter((l) => l.msg && l.level! >= 30 && !l.msg.startsWith('OPENAI_API_KEY')).slice(-3).map((l) => `${l.msg}${l.job ? ` (${l.job})` : ''}`),
  };
}

describe('SIGKILL at random points, then restart', () => {
  it('conserves every point, pays every payout on chain exactly once and reveals every ruling at most once', async () => {
    const r = rng(SEED);
    console.log(`fault suite seed: ${SEED} (FAULT_SEED=${SEED} replays it)`);
    const world = await newWorld('kill');
    const { db } = world;
    const rpc = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(chain.rpcUrl).port) });
    closers.push(() => rpc.close());
    const users = await seedUsers(db, 40, { wallets: 20, beta: 8 });
    // An open case far from closing: no Verdict process writes a first case at start.
    const keeper = await seedOpenCase(db, r, users, { voters: 2, arguers: 0 });
    await sealCase(world, keeper.id, keeper.closesAt);
    const cases = [];
    for (let i = 0; i < KILL_POINTS.length + 2; i++) cases.push(await seedOpenCase(db, r, users, { voters: r.int(6, 14), arguers: r.int(1, 4) }));
    chain.tick(400);

    const kills = [];
    let released = 0;
    for (const [i, point] of r.shuffle(KILL_POINTS).entries()) {
      // New work for this round: a case falls due, its ruling committed just before.
      await makeDueAndSeal(world, cases[released++]!.id);
      await lapseJobLeases(db);
      kills.push(await killAt(world, rpc, point, r, i));
      // Whatever the kill interrupted, the database is consistent at rest.
      expect(await conservationViolations(db, { settled: false }), `after kill ${i} (${describePoint(point)})`).toEqual([]);
      expect(await chainViolations(db, world.chain, chain.provider, { settled: false }), `chain after kill ${i} (${describePoint(point)})`).toEqual([]);
    }
    console.table(kills.map((k) => ({ ...k, lastWords: k.lastWords.join(' | ') })));
    expect(kills.filter((k) => k.killed).length).toBeGreaterThanOrEqual(KILL_POINTS.length - 2);

    // Restart: every remaining case falls due; the claims of the killed processes lapse.
    while (released < cases.length) await makeDueAndSeal(world, cases[released++]!.id);
    await lapseJobLeases(db);
    const aged = await ageSentChainTransactions(db);
    const server = await startServer('recovery server', world.env(runningJobs));
    const ids = cases.map((c) => c.id);
    await until(async () => (await db.case.count({ where: { id: { in: ids }, status: 'CLOSED' } })) === ids.length, 60_000, 'every case closed', 200);
    // Badges on schedule look at users active since the last run: wait for a run that began after
    // every closure, then until every reward is paid and every reveal confirmed.
    const allClosed = (await db.$queryRaw<{ t: Date }[]>`SELECT now() AS t`)[0]!.t;
    await until(
      async () => {
        const badgeRun = await db.jobRun.findFirst({ where: { job: 'badges', status: 'SUCCEEDED', startedAt: { gt: allClosed } } });
        if (!badgeRun) return false;
        const unpaid = await db.reward.count({ where: { status: { not: 'COMPLETED' } } });
        const sent = await db.chainTransaction.count({ where: { status: 'SENT' } });
        const unrevealed = await db.case.count({ where: { id: { in: ids }, settlement: { outcome: 'SETTLED' }, OR: [{ revealTxId: null }, { revealTx: { status: { not: 'CONFIRMED' } } }] } });
        return unpaid === 0 && sent === 0 && unrevealed === 0;
      },
      90_000,
      'every reward paid and every ruling revealed after the restart',
      250,
    );
    // Ctrl-C stops it cleanly: it waits for its running jobs.
    expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    // A full badge pass (job.ts on its own) finds nothing that the crashes made the scheduled,
    // incremental passes miss.
    const fullPass = runJobCli('job.ts badges (full pass)', 'badges', world.env());
    expect((await fullPass.exited).code, fullPass.tail()).toBe(0);
    expect(JSON.parse(fullPass.output.slice(fullPass.output.indexOf('\n{\n') + 1))).toMatchObject({ job: 'badges', trigger: 'cli', status: 'SUCCEEDED', items: 0 });
    chain.tick(null);

    expect(await db.case.count({ where: { settlement: { outcome: 'VOID' } } }), 'no case voided by a crash').toBe(0);
    expect(await conservationViolations(db, { settled: true })).toEqual([]);
    expect(await chainViolations(db, world.chain, chain.provider, { settled: true })).toEqual([]);
    expect(await stuckRuns(db), 'job runs left RUNNING').toEqual([]);
    const abandoned = await db.jobRun.count({ where: { status: 'ABANDONED' } });
    expect(abandoned, 'the killed runs are marked ABANDONED by the next claim').toBeGreaterThan(0);
    const paid = await db.reward.count({ where: { payoutTxId: { not: null }, status: 'COMPLETED' } });
    const revealed = await db.case.count({ where: { revealTx: { status: 'CONFIRMED' } } });
    console.log(
      `after ${kills.length} kills: ${ids.length} cases closed, ${revealed} reveals, ${paid} rewards paid on chain, ${abandoned} runs abandoned, ` +
        `${aged} commitments/reveals still SENT at the restart (aged past the resend delay)`,
    );
  }, 200_000);
});

// ---------------------------------------------------------------------------------------------
// (b) The chain's RPC and the AI endpoint go away during each job
// ---------------------------------------------------------------------------------------------

interface JobRunView {
  id: string;
  job: string;
  status: string;
  items: number;
  successes: number;
  failures: number;
  error: string | null;
  result: string | null;
}

describe('chain RPC and AI outages during each job', () => {
  let world: World;
  let rpc: TcpProxy;
  let ai: Awaited<ReturnType<typeof startAiServer>>;
  let server: Server;
  let admin: string;
  let users: Awaited<ReturnType<typeof seedUsers>>;
  const r = rng(SEED + 1);

  beforeAll(async () => {
    world = await newWorld('outage');
    chain.tick(400); // the chain makes blocks on its own; only Verdict's link to its RPC is cut
    rpc = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(chain.rpcUrl).port) });
    closers.push(() => rpc.close());
    ai = await startAiServer();
    closers.push(() => ai.close());
    users = await seedUsers(world.db, 14, { wallets: 7, beta: 3 });
    const keeper = await seedOpenCase(world.db, r, users, { voters: 2, arguers: 0 });
    await sealCase(world, keeper.id, keeper.closesAt);
    server = await startServer(
      'outage server',
      world.env({
        CHAIN_RPC_URL: rpc.url(chain.rpcUrl),
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: ai.baseURL,
        OPENAI_TIMEOUT_MS: '1500',
        OPENAI_MAX_RETRIES: '1',
        ADMIN_HANDLES: 'ops_admin',
      }),
    );
    const signedUp = await gql<{ signUp: { token: string } }>(server.origin, 'mutation { signUp(input: { handle: "ops_admin", password: "a long admin passphrase" }) { token } }');
    admin = signedUp.data!.signUp.token;
  });

  async function runJob(name: string): Promise<JobRunView> {
    const answer = await gql<{ runJob: JobRunView }>(
      server.origin,
      `mutation { runJob(name: ${name}) { id job status items successes failures error result } }`,
      {},
      { token: admin, timeoutMs: 60_000 },
    );
    expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
    return answer.data!.runJob;
  }
  /** The run made during an outage, as job_runs holds it: FAILED, finished, its failures counted. */
  async function expectRecordedFailed(run: JobRunView) {
    const row = await world.db.jobRun.findUniqueOrThrow({ where: { id: run.id } });
    const shown = JSON.stringify({ job: row.job, status: row.status, items: row.items, successes: row.successes, failures: row.failures, error: row.error, result: row.result });
    expect.soft(row.status, `job_runs row of the run during the outage: ${shown}`).toBe('FAILED');
    expect(row.finishedAt).not.toBeNull();
    expect(row.failures, shown).toBeGreaterThan(0);
  }
  const chainCount = () => world.db.chainTransaction.count();
  const onChainCommitment = (caseId: string) => world.chain.readCommitment(caseKeyOf(caseId));
  const registry = () => new Contract(world.chain.registryAddress, registryArtifact.abi as InterfaceAbi, chain.provider);
  const revealsOnChain = async (caseId: string) => (await registry().queryFilter(registry().filters.Revealed!(caseKeyOf(caseId)), 0, 'latest')).length;
  const commitsOnChain = async (caseId: string) => (await registry().queryFilter(registry().filters.Committed!(caseKeyOf(caseId)), 0, 'latest')).length;

  it('case-generation, AI down (500s): FAILED, no case written; the next run writes, commits and opens one', async () => {
    const before = { cases: await world.db.case.count(), txs: await chainCount() };
    ai.set('error');
    const failed = await runJob('CASE_GENERATION');
    ai.set('ok');
    expect(ai.counts.error).toBeGreaterThan(0);
    await expectRecordedFailed(failed);
    expect(await world.db.case.count()).toBe(before.cases);
    expect(await chainCount()).toBe(before.txs);

    const recovered = await runJob('CASE_GENERATION');
    expect(recovered).toMatchObject({ status: 'SUCCEEDED', failures: 0 });
    const made = await world.db.case.findMany({ where: { status: 'OPEN', ruling: { judge: 'gpt-4o-mini' } } });
    expect(made).toHaveLength(1);
    expect(made[0]!.commitmentStatus).toBe('VERIFIED');
    expect(await onChainCommitment(made[0]!.id)).toBe(made[0]!.commitment);
  });

  it('case-generation, AI hanging: FAILED within the timeout, no case written; the next run writes one', async () => {
    const before = await world.db.case.count();
    ai.set('hang');
    const failed = await runJob('CASE_GENERATION');
    ai.set('ok');
    expect(ai.counts.hang).toBeGreaterThan(0);
    await expectRecordedFailed(failed);
    expect(await world.db.case.count()).toBe(before);
    expect(await runJob('CASE_GENERATION')).toMatchObject({ status: 'SUCCEEDED', failures: 0 });
    expect(await world.db.case.count({ where: { status: 'OPEN', ruling: { judge: 'gpt-4o-mini' } } })).toBe(2);
  });

  it('case-generation, chain down: FAILED, the new case stays PENDING and unsent; the next run commits it once and opens it', async () => {
    const before = await world.db.case.findMany({ select: { id: true } });
    rpc.cut();
    const failed = await runJob('CASE_GENERATION');
    rpc.restore();
    await expectRecordedFailed(failed);
    const stuck = await world.db.case.findMany({ where: { id: { notIn: before.map((c) => c.id) } }, include: { ruling: true } });
    expect(stuck).toHaveLength(1);
    expect(stuck[0]).toMatchObject({ status: 'PENDING', commitmentStatus: 'UNSENT', commitTxId: null });
    expect(stuck[0]!.ruling).not.toBeNull();
    expect(await onChainCommitment(stuck[0]!.id)).toBeNull();

    const recovered = await runJob('CASE_GENERATION');
    expect(recovered).toMatchObject({ status: 'SUCCEEDED', failures: 0 });
    const opened = await world.db.case.findUniqueOrThrow({ where: { id: stuck[0]!.id }, include: { commitTx: true } });
    expect(opened).toMatchObject({ status: 'OPEN', commitmentStatus: 'VERIFIED' });
    expect(await commitsOnChain(opened.id)).toBe(1);
    expect(await onChainCommitment(opened.id)).toBe(opened.commitment);
  });

  let due: { id: string }[] = [];
  it('case-closure, chain down: FAILED, due cases stay OPEN and untouched; the next run closes, settles and reveals them', async () => {
    // Two due cases; the second's reveal is accepted only from a few seconds after its closing
    // (the chain's clock behind the database's, as on any chain between blocks): it waits for tx-monitor.
    const first = await seedOpenCase(world.db, r, users, { voters: 9, arguers: 3 });
    const second = await seedOpenCase(world.db, r, users, { voters: 8, arguers: 2 });
    await makeDueAndSeal(world, first.id);
    const firstRevealAfter = (await world.db.case.findUniqueOrThrow({ where: { id: first.id } })).revealAfter!;
    await until(async () => (await world.chain.latestBlockTime()) >= firstRevealAfter, 10_000, 'a block past the first reveal time', 100);
    await makeDueAndSeal(world, second.id, new Date(Date.now() + 8_000));
    due = [first, second];
    const ids = due.map((c) => c.id);
    const points = await world.db.user.aggregate({ _sum: { totalPoints: true } });

    rpc.cut();
    const failed = await runJob('CASE_CLOSURE');
    // `npm run job` beside the server (it asks the server): its exit status follows the run's.
    const cli = runJobCli('job.ts case-closure (chain down)', 'case-closure', world.env());
    const cliExit = await cli.exited;
    rpc.restore();
    await expectRecordedFailed(failed);
    expect.soft(cliExit.code, `npm run job -- case-closure during the outage:\n${cli.tail(12)}`).toBe(1);
    expect(await world.db.case.count({ where: { id: { in: ids }, status: 'OPEN', closedAt: null } })).toBe(2);
    expect(await world.db.reward.count({ where: { caseId: { in: ids } } })).toBe(0);
    expect(await world.db.caseSettlement.count({ where: { caseId: { in: ids } } })).toBe(0);
    expect(await world.db.argument.count({ where: { caseId: { in: ids }, topRank: { not: null } } })).toBe(0);
    expect(await world.db.user.aggregate({ _sum: { totalPoints: true } })).toEqual(points);

    const recovered = await runJob('CASE_CLOSURE');
    expect(recovered).toMatchObject({ status: 'SUCCEEDED', items: 2, failures: 0 });
    expect(await world.db.case.count({ where: { id: { in: ids }, status: 'CLOSED', settlement: { outcome: 'SETTLED' } } })).toBe(2);
    expect(await revealsOnChain(first.id)).toBe(1);
    expect(await revealsOnChain(second.id)).toBe(0); // too early for the registry: tx-monitor sends it
    expect(await world.db.reward.count({ where: { caseId: { in: ids }, status: 'PENDING' } })).toBeGreaterThan(0);
    expect(await conservationViolations(world.db, { settled: false })).toEqual([]);
  });

  it('tx-monitor, chain down: FAILED, nothing sent or given up; the next run pays every reward once and reveals', async () => {
    const [first, second] = due as [{ id: string }, { id: string }];
    const pending = await world.db.reward.count({ where: { status: 'PENDING' } });
    const txs = await world.db.chainTransaction.findMany({ orderBy: { id: 'asc' } });
    const revealAfter = (await world.db.case.findUniqueOrThrow({ where: { id: second.id } })).revealAfter!;
    // The second case's reveal is due by now, but the chain is gone.
    await until(async () => Date.now() > revealAfter.getTime() + 1000, 10_000, 'the second reveal time', 100);

    rpc.cut();
    const failed = await runJob('TX_MONITOR');
    rpc.restore();
    await expectRecordedFailed(failed);
    // Nothing half-made: the same rewards wait, no transaction was recorded or given up on.
    expect(await world.db.reward.count({ where: { status: 'PENDING' } })).toBe(pending);
    expect(await world.db.chainTransaction.findMany({ orderBy: { id: 'asc' } })).toEqual(txs);
    expect((await world.db.case.findUniqueOrThrow({ where: { id: second.id } })).revealTxId).toBeNull();

    await chain.mine();
    const recovered = await runJob('TX_MONITOR');
    expect(recovered).toMatchObject({ status: 'SUCCEEDED', failures: 0 });
    await until(async () => (await runJob('TX_MONITOR')) && (await world.db.chainTransaction.count({ where: { status: 'SENT' } })) === 0, 20_000, 'every transaction followed to its end', 200);
    expect(await world.db.reward.count({ where: { status: { not: 'COMPLETED' } } })).toBe(0);
    expect(await revealsOnChain(first.id)).toBe(1);
    expect(await revealsOnChain(second.id)).toBe(1);
    expect(await chainViolations(world.db, world.chain, chain.provider, { settled: true })).toEqual([]);
  });

  it('tx-monitor, AI hanging: a submitted case is not ruled, the run FAILED; the next run rules, commits and opens it', async () => {
    const author = await gql<{ signUp: { token: string } }>(server.origin, 'mutation { signUp(input: { handle: "case_author", password: "a long author passphrase" }) { token } }');
    const token = author.data!.signUp.token;
    ai.set('hang');
    const submitted = await gql<{ createCase: { id: string; status: string } }>(
      server.origin,
      'mutation($input: CreateCaseInput!) { createCase(input: $input) { id status } }',
      { input: { title: 'A neighbour’s parcel', dilemma: 'You signed for a neighbour’s parcel. '.padEnd(240, 'It has been a week and they have not asked for it; it looks expensive. '), sideA: 'Knock on their door', sideB: 'Wait until they ask' } },
      { token },
    );
    expect(submitted.errors).toBeUndefined();
    const caseId = (await world.db.case.findFirstOrThrow({ where: { title: 'A neighbour’s parcel' } })).id;
    const failed = await runJob('TX_MONITOR');
    // The submission's own background ruling (started by createCase) gives up too.
    await server.waitForLog((l) => l.msg === 'ruling on a submitted case failed; the job will retry' && l.caseId === caseId, 20_000, 'the background ruling to give up');
    ai.set('ok');
    await expectRecordedFailed(failed);
    const stuck = await world.db.case.findUniqueOrThrow({ where: { id: caseId }, include: { ruling: true } });
    expect(stuck).toMatchObject({ status: 'PENDING', commitment: null, commitmentStatus: 'UNSENT', ruling: null });

    // The background ruling of the submission may still be waiting for its own timeout: the
    // next run after it gave up finishes the work.
    await until(async () => (await runJob('TX_MONITOR')).failures === 0 && (await world.db.case.findUniqueOrThrow({ where: { id: caseId } })).status === 'OPEN', 30_000, 'the submitted case opened', 200);
    const opened = await world.db.case.findUniqueOrThrow({ where: { id: caseId } });
    expect(opened).toMatchObject({ status: 'OPEN', commitmentStatus: 'VERIFIED' });
    expect(await commitsOnChain(caseId)).toBe(1);
  });

  it('verdict-check, chain down: FAILED, and no case is marked MISMATCH by the outage', async () => {
    rpc.cut();
    const failed = await runJob('VERDICT_CHECK');
    rpc.restore();
    await expectRecordedFailed(failed);
    expect(await world.db.case.count({ where: { commitmentStatus: 'MISMATCH' } })).toBe(0);
    expect(await runJob('VERDICT_CHECK')).toMatchObject({ status: 'SUCCEEDED', failures: 0 });
  });

  it('badges and leaderboard need no chain: they succeed during the outage; wallet bonuses are paid after it', async () => {
    rpc.cut();
    const badges = await runJob('BADGES');
    const leaderboard = await runJob('LEADERBOARD');
    rpc.restore();
    expect(badges).toMatchObject({ status: 'SUCCEEDED', failures: 0 });
    expect(badges.items).toBeGreaterThan(0);
    expect(leaderboard).toMatchObject({ status: 'SUCCEEDED', failures: 0 });
    // Wallet users' bonuses wait for tx-monitor.
    expect(await world.db.reward.count({ where: { kind: 'BADGE_BONUS', status: 'PENDING' } })).toBeGreaterThan(0);
  });

  it('tx-monitor, chain lost at the broadcast: FAILED, the payout stays on file; the next run sends the very same transaction, paid once', async () => {
    const pending = await world.db.reward.findMany({ where: { status: 'PENDING' }, select: { id: true } });
    expect(pending.length).toBeGreaterThan(0);
    const lost = rpc.cutWhenSent('eth_sendRawTransaction');
    const failed = await runJob('TX_MONITOR');
    await lost;
    rpc.restore();
    await expectRecordedFailed(failed);
    // Recorded before the broadcast: the rewards are PROCESSING under a payout that the chain never saw.
    const payout = await world.db.chainTransaction.findFirstOrThrow({ where: { kind: 'PAYOUT', status: 'SENT' }, include: { rewards: true } });
    expect(payout.rewards.map((r) => r.id).sort()).toEqual(pending.map((r) => r.id).sort());
    expect(payout.rewards.every((r) => r.status === 'PROCESSING')).toBe(true);
    expect(await chain.provider.getTransaction(payout.hash)).toBeNull();

    await until(async () => (await runJob('TX_MONITOR')) && (await world.db.reward.count({ where: { status: { not: 'COMPLETED' } } })) === 0, 20_000, 'every bonus paid', 200);
    const paid = await world.db.chainTransaction.findUniqueOrThrow({ where: { id: payout.id } });
    expect(paid.status).toBe('CONFIRMED'); // the same transaction, broadcast again byte for byte
    expect(await world.db.chainTransaction.count({ where: { kind: 'PAYOUT', rewards: { some: { id: { in: pending.map((r) => r.id) } } } } })).toBe(1);
  });

  it('leaves points conserved and the chain in agreement, with every outage run on file', async () => {
    expect(await conservationViolations(world.db, { settled: true })).toEqual([]);
    expect(await chainViolations(world.db, world.chain, chain.provider, { settled: true })).toEqual([]);
    expect(await stuckRuns(world.db)).toEqual([]);
    const runs = await world.db.jobRun.groupBy({ by: ['job', 'status'], _count: true, orderBy: [{ job: 'asc' }, { status: 'asc' }] });
    console.table(runs.map((g) => ({ job: g.job, status: g.status, runs: g._count })));
    expect(server.alive).toBe(true);
    expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});

// ---------------------------------------------------------------------------------------------
// (c) PostgreSQL goes away under load, and comes back
// ---------------------------------------------------------------------------------------------

describe('PostgreSQL outage under load', () => {
  it('answers /readyz 503 while the database is unreachable, and the same process recovers without a restart', async () => {
    const world = await newWorld('pg');
    const r = rng(SEED + 2);
    const users = await seedUsers(world.db, 6, { wallets: 0, beta: 0 });
    const keeper = await seedOpenCase(world.db, r, users, { voters: 4, arguers: 2 });
    await sealCase(world, keeper.id, keeper.closesAt);
    // A due case whose row the test holds locked (as a vote in flight would): the server's
    // closure run waits on it, so the outage is sure to hit a job run in the middle.
    const due = await seedOpenCase(world.db, r, users, { voters: 5, arguers: 1 });
    await makeDueAndSeal(world, due.id);
    const voter = new pg.Client({ connectionString: world.url });
    await voter.connect();
    closers.push(() => voter.end());
    await voter.query('BEGIN');
    await voter.query('SELECT 1 FROM cases WHERE id = $1 FOR UPDATE', [due.id]);

    const proxy = await startTcpProxy({ host: new URL(serverUrl).hostname, port: Number(new URL(serverUrl).port || 5432) });
    closers.push(() => proxy.close());
    const server = await startServer(
      'pg server',
      world.env({ DATABASE_URL: proxy.url(world.url), ADMIN_HANDLES: 'pg_admin', JOB_LEADERBOARD: '*/2 * * * * *', JOB_CASE_CLOSURE: '*/2 * * * * *' }),
    );
    const pid = server.pid;
    const admin = (await gql<{ signUp: { token: string } }>(server.origin, 'mutation { signUp(input: { handle: "pg_admin", password: "a long admin passphrase" }) { token } }')).data!.signUp.token;
    const readyz = async () => {
      const response = await fetch(`${server.origin}/readyz`, { signal: AbortSignal.timeout(10_000) });
      return { status: response.status, body: (await response.json()) as { status: string } };
    };
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready' } });

    // Load: readers (a case with its counts, the viewer's points, a page of cases) and a writer (sign-ups).
    interface Outcome {
      at: number;
      ok: boolean;
      what: string;
      ms: number;
    }
    const outcomes: Outcome[] = [];
    let loading = true;
    let signUps = 0;
    const requests = [
      () => gql(server.origin, `{ case(id: "${keeper.id}") { id title voteCount argumentCount } }`, {}, { timeoutMs: 15_000 }),
      () => gql(server.origin, '{ me { handle totalPoints } }', {}, { token: admin, timeoutMs: 15_000 }),
      () => gql(server.origin, '{ cases(first: 5) { edges { node { id status } } } }', {}, { timeoutMs: 15_000 }),
      () => gql(server.origin, `mutation { signUp(input: { handle: "load_${signUps++}", password: "a long load passphrase" }) { token } }`, {}, { timeoutMs: 15_000 }),
    ];
    const worker = async (n: number) => {
      for (let i = n; loading; i++) {
        const started = Date.now();
        let outcome: Outcome;
        try {
          const answer = await requests[i % requests.length]!();
          outcome = { at: started, ok: answer.status === 200 && !answer.errors && !!answer.data, what: answer.errors?.[0]?.extensions?.code ?? String(answer.status), ms: Date.now() - started };
        } catch (error) {
          outcome = { at: started, ok: false, what: `no answer: ${(error as Error).name}`, ms: Date.now() - started };
        }
        outcomes.push(outcome);
      }
    };
    const load = Promise.all([0, 1, 2, 3, 4, 5].map(worker));
    await until(async () => outcomes.filter((o) => o.ok).length >= 20, 20_000, 'requests flowing', 50);
    const inFlight = await until(
      async () => world.db.jobRun.findFirst({ where: { job: 'case-closure', status: 'RUNNING', holder: { contains: `:${pid}:` } } }),
      20_000,
      'a case-closure run waiting on the locked case',
      50,
    );

    // Down: every connection to PostgreSQL is reset, new ones refused.
    const cutAt = Date.now();
    proxy.cut('refuse');
    await until(async () => (await readyz()).status === 503, 15_000, '/readyz 503 after the cut', 100);
    expect(await readyz()).toEqual({ status: 503, body: { status: 'database unreachable' } });
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    await voter.query('COMMIT'); // the vote in flight ends; the case is due and free
    await until(async () => outcomes.filter((o) => o.at >= cutAt && !o.ok).length >= 12, 20_000, 'requests answered while down', 100);
    const during = outcomes.filter((o) => o.at >= cutAt + 500);
    expect(during.filter((o) => o.ok), 'requests that succeeded with the database down').toEqual([]);
    expect((await readyz()).status).toBe(503);

    // Back: the same process serves again without a restart.
    const restoredAt = Date.now();
    proxy.restore();
    const ready = await until(async () => (await readyz()).status === 200 && Date.now(), 30_000, '/readyz 200 after the restore', 100);
    // Every request made once /readyz says ready again is answered with data.
    await until(async () => outcomes.filter((o) => o.at >= ready).length >= 30, 30_000, 'requests answered after the restore', 50);
    const after = outcomes.filter((o) => o.at >= ready);
    expect(after.filter((o) => !o.ok).map((o) => o.what), 'requests failing after /readyz said ready').toEqual([]);
    loading = false;
    await load;
    expect(server.alive).toBe(true);
    expect(server.pid).toBe(pid);
    expect(outcomes.filter((o) => o.what.startsWith('no answer')), 'requests that got no answer within 15 s').toEqual([]);
    console.log(
      `PostgreSQL outage: ${outcomes.filter((o) => o.at >= cutAt && o.at < restoredAt).length} requests answered while down; ` +
        `ready again ${ready - restoredAt} ms after the restore; ${outcomes.length} requests in all, ${signUps} sign-ups`,
    );

    // The scheduled jobs go on too, in the same process: the leaderboard, and the closure whose
    // run the outage interrupted (its run record must not stay RUNNING, its claim must not keep
    // the job from running).
    const since = new Date(ready);
    const [leaderboardAgain, closedAgain] = await Promise.all([
      until(async () => world.db.jobRun.findFirst({ where: { job: 'leaderboard', status: 'SUCCEEDED', startedAt: { gt: since } } }), 12_000, 'a leaderboard run after the restore', 200).catch((e: Error) => e),
      until(async () => (await world.db.case.findUniqueOrThrow({ where: { id: due.id } })).status === 'CLOSED', 12_000, 'the due case closed after the restore', 200).catch((e: Error) => e),
    ]);
    expect.soft(leaderboardAgain, 'the leaderboard job (every 2 s) runs again after the restore').not.toBeInstanceOf(Error);
    expect.soft(closedAgain, 'case-closure (every 2 s) runs again after the restore and closes the due case').toBe(true);
    const interrupted = await world.db.jobRun.findUniqueOrThrow({ where: { id: inFlight.id } });
    expect.soft(interrupted.status, `the interrupted closure run: ${JSON.stringify(interrupted)}`).not.toBe('RUNNING');

    expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect.soft(await stuckRuns(world.db), 'job runs left RUNNING after a clean stop').toEqual([]);
    expect(await conservationViolations(world.db, { settled: false })).toEqual([]);
  }, 150_000);

  it('answers /readyz 503, not never, while PostgreSQL does not answer at all (a network partition)', async () => {
    const world = await newWorld('partition');
    const r = rng(SEED + 3);
    const users = await seedUsers(world.db, 3, { wallets: 0, beta: 0 });
    const keeper = await seedOpenCase(world.db, r, users, { voters: 2, arguers: 0 });
    await sealCase(world, keeper.id, keeper.closesAt);
    const proxy = await startTcpProxy({ host: new URL(serverUrl).hostname, port: Number(new URL(serverUrl).port || 5432) });
    closers.push(() => proxy.close());
    const server = await startServer('partition server', world.env({ DATABASE_URL: proxy.url(world.url) }));
    const readyz = async (timeoutMs: number) => {
      const started = Date.now();
      try {
        const response = await fetch(`${server.origin}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
        return { status: response.status, ms: Date.now() - started };
      } catch {
        return { status: 'no answer', ms: Date.now() - started };
      }
    };
    expect((await readyz(5_000)).status).toBe(200);
    // Packets to PostgreSQL go nowhere: open connections die, new ones are never answered.
    proxy.cut('hang');
    const down = await readyz(8_000);
    expect.soft(down.status, `/readyz during the partition (${down.ms} ms)`).toBe(503);
    const query = await gql(server.origin, '{ cases(first: 1) { edges { node { id } } } }', {}, { timeoutMs: 8_000 }).catch((error: Error) => error);
    expect.soft(query, 'a query during the partition is answered (with an error) within 8 s').not.toBeInstanceOf(Error);
    proxy.restore();
    await until(async () => (await readyz(5_000)).status === 200, 30_000, '/readyz 200 after the partition', 100);
    expect((await gql(server.origin, '{ cases(first: 1) { edges { node { id } } } }')).errors).toBeUndefined();
    expect(server.alive).toBe(true);
    expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 90_000);
});