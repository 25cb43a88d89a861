import { execFile } from 'node:child_process';
import path from 'node:path';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { Contract, JsonRpcProvider, type InterfaceAbi } from 'ethers';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import registryArtifact from '../contracts/artifacts/VerdictRegistry.json' with { type: 'json' };
import { createJudge } from '../src/ai/judge.js';
import { caseKeyOf, type Chain } from '../src/chain/index.js';
import { loadConfig } from '../src/config.js';
import { computeCommitment } from '../src/domain/commitment.js';
import { issueSessionToken } from '../src/domain/sessions.js';
import { submitCase } from '../src/domain/cases.js';
import { castVote } from '../src/domain/participation.js';
import { advancePending, type SealingDeps } from '../src/domain/sealing.js';
import { caseGenerationJob } from '../src/jobs/case-generation.js';
import { verdictCheckJob } from '../src/jobs/verdict-check.js';
import { CreateCaseDocument } from './generated/graphql.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createUser } from './support/fixtures.js';
import { completion, startOpenAIServer } from './support/openai-server.js';

const VERIFY = path.resolve(import.meta.dirname, '../scripts/verify.ts');
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const run = (deps: SealingDeps, now = new Date()) =>
  caseGenerationJob.run({ sealing: deps }, { now, signal: new AbortController().signal, trigger: 'manual' });
const check = (chain: Chain = t.chain, now = new Date()) =>
  verdictCheckJob.run({ db: t.db, chain, log: t.sealing.log }, { now, signal: new AbortController().signal, trigger: 'manual' });

/**
 * The real chain, with a fault injected into the commit: refused before anything is signed, the
 * node refusing the broadcast of a recorded transaction, or a failure after the broadcast.
 */
function failing(chain: Chain, fault: 'before-send' | 'refused-broadcast' | 'after-send'): Chain {
  return {
    ...chain,
    async commit(key, commitment, closesAt, record) {
      if (fault === 'refused-broadcast') {
        await chain.commit(key, commitment, closesAt, async (hash, signed) => {
          await record?.(hash, signed);
          throw new Error('nonce too low');
        });
      }
      if (fault === 'after-send') await chain.commit(key, commitment, closesAt, record);
      throw new Error(`injected failure ${fault}`);
    },
  };
}

const newCases = () => t.db.case.findMany({ include: { ruling: true, commitTx: true }, orderBy: { createdAt: 'asc' } });

describe('case generation (job 1)', () => {
  it('writes, seals, commits and opens a case, and announces it', async () => {
    const events = t.pubsub.subscribe('caseOpened');
    const next = events.next();
    const before = (await newCases()).length;
    const result = await run(t.sealing);
    expect(result).toMatchObject({ items: 1, successes: 1, failures: 0 });

    const cases = await newCases();
    expect(cases).toHaveLength(before + 1);
    const c = cases.at(-1)!;
    expect(c).toMatchObject({ status: 'OPEN', source: 'OFFLINE', commitmentStatus: 'VERIFIED' });
    expect(c.closesAt.getTime() - c.opensAt.getTime()).toBe(24 * 3600_000);
    // Opened strictly after the second of the block that holds the commitment.
    expect(c.commitTx!.blockTimestamp).not.toBeNull();
    expect(Math.floor(c.opensAt.getTime() / 1000)).toBeGreaterThan(c.commitTx!.blockTimestamp!.getTime() / 1000);
    const record = await t.chain.readRecord(caseKeyOf(c.id));
    expect(record.committedAt).toEqual(c.commitTx!.blockTimestamp);
    expect(record.closesAt!.getTime()).toBe(Math.ceil(c.revealAfter!.getTime() / 1000) * 1000);
    expect(record.closesAt!.getTime()).toBeLessThanOrEqual(c.closesAt.getTime());
    expect(c.ruling!.salt).toHaveLength(32);
    expect(c.ruling!.judge).toBe('offline-bank');
    const expected = computeCommitment({
      chainId: t.chain.chainId,
      registryAddress: t.chain.registryAddress,
      caseId: c.id,
      side: c.ruling!.side,
      reasoning: c.ruling!.reasoning,
      salt: c.ruling!.salt,
    });
    expect(c.commitment).toBe(expected);
    expect(await t.chain.readCommitment(caseKeyOf(c.id))).toBe(expected);
    expect(c.commitTx).toMatchObject({ kind: 'COMMIT', status: 'CONFIRMED' });
    expect((await t.chain.findCommit(caseKeyOf(c.id)))?.hash).toBe(c.commitTx!.hash);
    expect((await next).value).toEqual({ caseId: c.id });
    await events.return?.();
  });

  it('stores nothing when the judge fails', async () => {
    const ai = await startOpenAIServer();
    try {
      const judge = createJudge(loadConfig({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: ai.baseURL, OPENAI_MAX_RETRIES: '0' }), pino({ level: 'silent' }));
      ai.script(completion('not json'));
      const before = await t.db.case.count();
      const result = await run({ ...t.sealing, judge });
      expect(result).toMatchObject({ items: 1, failures: 1 });
      expect(await t.db.case.count()).toBe(before);
    } finally {
      await ai.close();
    }
  });

  it('leaves a PENDING case, never an open one, when the commit is refused; the next run opens it', async () => {
    const result = await run({ ...t.sealing, chain: failing(t.chain, 'before-send') });
    expect(result.failures).toBe(1);
    const stuck = await t.db.case.findFirstOrThrow({ where: { status: 'PENDING' }, include: { ruling: true } });
    expect(stuck).toMatchObject({ commitmentStatus: 'UNSENT', commitTxId: null });
    expect(stuck.ruling).not.toBeNull();

    const retry = await run(t.sealing);
    expect(retry.summary!.opened).toContain(stuck.id);
    const opened = await t.db.case.findUniqueOrThrow({ where: { id: stuck.id }, include: { commitTx: true } });
    expect(opened).toMatchObject({ status: 'OPEN', commitmentStatus: 'VERIFIED' });
    expect(opened.commitTx!.hash).toBe((await t.chain.findCommit(caseKeyOf(stuck.id)))!.hash);
  });

  it('follows a commitment whose sender failed after the broadcast, without sending it twice', async () => {
    const result = await run({ ...t.sealing, chain: failing(t.chain, 'after-send') });
    const c = await t.db.case.findFirstOrThrow({ where: { status: 'PENDING' }, include: { commitTx: true } });
    expect(c.commitmentStatus).toBe('SENT');
    expect(result.failures).toBe(0);
    const retry = await run(t.sealing);
    expect(retry.summary!.opened).toContain(c.id);
    const commits = await t.db.chainTransaction.count({ where: { kind: 'COMMIT', commitFor: { id: c.id } } });
    expect(commits).toBe(1);
    expect((await t.chain.findCommit(caseKeyOf(c.id)))!.hash).toBe(c.commitTx!.hash);
  });

  it('sends again a commitment recorded but never broadcast (a crash in between), while the case is PENDING', async () => {
    // What a crash between recording and broadcasting leaves: the hash on file and linked, the
    // node never saw it (made from a refused broadcast, whose claim is then put back as it was).
    await run({ ...t.sealing, chain: failing(t.chain, 'refused-broadcast') });
    const refused = await t.db.chainTransaction.findFirstOrThrow({ where: { kind: 'COMMIT', status: 'FAILED' }, orderBy: { sentAt: 'desc' } });
    const pending = await t.db.case.findFirstOrThrow({ where: { status: 'PENDING', commitmentStatus: 'UNSENT' }, orderBy: { createdAt: 'desc' } });
    await t.db.chainTransaction.update({ where: { id: refused.id }, data: { status: 'SENT', error: null, settledAt: null } });
    await t.db.case.update({ where: { id: pending.id }, data: { commitmentStatus: 'SENT', commitTxId: refused.id } });
    const c = await t.db.case.findUniqueOrThrow({ where: { id: pending.id }, include: { commitTx: true } });
    expect(c.commitmentStatus).toBe('SENT');
    expect(await t.chain.readCommitment(caseKeyOf(c.id))).toBeNull();
    // Not seen by the node: waited for a while, then sent again.
    expect((await run(t.sealing)).summary!.waiting).toContain(c.id);
    const later = new Date(Date.now() + 10 * 60_000);
    await run(t.sealing, later);
    const opened = await t.db.case.findUniqueOrThrow({ where: { id: c.id }, include: { commitTx: true } });
    expect(opened.status).toBe('OPEN');
    expect(opened.commitTx!.hash).not.toBe(c.commitTx!.hash);
    expect((await t.db.chainTransaction.findUniqueOrThrow({ where: { id: c.commitTx!.id } })).status).toBe('FAILED');
    expect(await t.chain.readCommitment(caseKeyOf(c.id))).toBe(opened.commitment);
  });

  it('sends again at once a commitment whose broadcast the node refused (another server took the nonce)', async () => {
    await expect(run({ ...t.sealing, chain: failing(t.chain, 'refused-broadcast') })).resolves.toMatchObject({ failures: 1 });
    const c = await t.db.case.findFirstOrThrow({ where: { status: 'PENDING' }, orderBy: { createdAt: 'desc' } });
    expect(c).toMatchObject({ commitmentStatus: 'UNSENT', commitTxId: null });
    expect(await t.db.chainTransaction.findFirst({ where: { kind: 'COMMIT', status: 'FAILED', error: { contains: 'nonce too low' } } })).not.toBeNull();
    // The next run, a moment later (not five minutes), sends and opens it.
    await run(t.sealing);
    expect(await t.db.case.findUniqueOrThrow({ where: { id: c.id } })).toMatchObject({ status: 'OPEN', commitmentStatus: 'VERIFIED' });
  });

  it('keeps a case closed to votes while its commitment is not mined, and opens it after the block', async () => {
    const user = await createUser(t.db);
    await t.chain.rpc('miner_stop');
    let id: string;
    try {
      await run(t.sealing);
      const c = await t.db.case.findFirstOrThrow({ where: { status: 'PENDING', commitmentStatus: 'SENT' } });
      id = c.id;
      await expect(castVote(t.db, user.id, id, 'A')).rejects.toMatchObject({ code: 'CASE_NOT_OPEN' });
      expect((await run(t.sealing)).summary!.waiting).toContain(id);
      expect((await t.db.case.findUniqueOrThrow({ where: { id } })).status).toBe('PENDING');
    } finally {
      await t.chain.rpc('miner_start');
    }
    await t.chain.rpc('evm_mine');
    const monitor = await t.scheduler.runNow('tx-monitor');
    expect(monitor).toMatchObject({ status: 'SUCCEEDED' });
    const opened = await t.db.case.findUniqueOrThrow({ where: { id }, include: { commitTx: true } });
    expect(opened.status).toBe('OPEN');
    expect(Math.floor(opened.opensAt.getTime() / 1000)).toBeGreaterThan(opened.commitTx!.blockTimestamp!.getTime() / 1000);
    expect(await castVote(t.db, user.id, id, 'A')).toMatchObject({ side: 'A' });
  });

  it('rules on and commits a submitted case exactly once, whoever gets there first', async () => {
    const user = await createUser(t.db);
    const input = { title: 'Racing rulers', dilemma: 'Three workers reach the same case at the same moment; only one may rule and commit. '.repeat(3), sideA: 'First', sideB: 'Second' };
    const submitted = await submitCase(t.db, user.id, input, { rewardPool: 100, durationHours: 24, submissionsPerDay: 5 });
    const [job] = await Promise.all([run(t.sealing), advancePending(t.sealing, submitted.id), advancePending(t.sealing, submitted.id)]);
    expect(job.failures).toBe(0);
    await run(t.sealing);
    const c = await t.db.case.findUniqueOrThrow({ where: { id: submitted.id }, include: { commitTx: true } });
    expect(c.status).toBe('OPEN');
    expect(await t.db.sealedRuling.count({ where: { caseId: c.id } })).toBe(1);
    expect(await t.db.chainTransaction.count({ where: { kind: 'COMMIT', hash: c.commitTx!.hash } })).toBe(1);
    const registry = new Contract(t.chain.registryAddress, registryArtifact.abi as InterfaceAbi, new JsonRpcProvider(t.chain.rpcUrl));
    const commits = await registry.queryFilter(registry.filters.Committed!(caseKeyOf(c.id)));
    expect(commits).toHaveLength(1);
  });

  it('rules on a submitted case, seals it and opens it', async () => {
    const user = await createUser(t.db);
    const { token } = await issueSessionToken(t.db, t.sessions, user.id);
    const input = { title: 'The shared lottery ticket', dilemma: 'A colleague forgot to pay his share of the lottery ticket this week, and it won. '.repeat(4), sideA: 'Include him', sideB: 'Leave him out' };
    const created = await t.gql(CreateCaseDocument, { input }, { token });
    expect(created.data!.createCase.status).toBe('PENDING');
    const id = (await t.db.case.findFirstOrThrow({ where: { creatorId: user.id } })).id;
    await waitFor(async () => (await t.db.case.findUniqueOrThrow({ where: { id } })).status === 'OPEN');
    const c = await t.db.case.findUniqueOrThrow({ where: { id }, include: { ruling: true } });
    expect(c).toMatchObject({ source: 'USER', commitmentStatus: 'VERIFIED' });
    expect(c.ruling!.reasoning).toMatch(/no AI model/);
    expect(await t.chain.readCommitment(caseKeyOf(id))).toBe(c.commitment);
  });
});

describe('verdict check (job 4)', () => {
  it('finds every unsettled case in agreement three ways', async () => {
    await run(t.sealing);
    const result = await check();
    expect(result).toMatchObject({ failures: 0 });
    expect(result.error).toBeUndefined();
    const open = await t.db.case.findMany({ where: { status: 'OPEN' }, include: { commitTx: true } });
    expect(open.length).toBeGreaterThan(0);
    for (const c of open) {
      expect(c.commitmentStatus).toBe('VERIFIED');
      expect(c.commitTx).toMatchObject({ status: 'CONFIRMED' });
    }
  });

  const tamperings = {
    reasoning: (id: string) => t.db.$executeRaw`UPDATE sealed_rulings SET reasoning = reasoning || ' (edited)' WHERE case_id = ${id}::uuid`,
    salt: (id: string) => t.db.$executeRaw`UPDATE sealed_rulings SET salt = decode(repeat('ab', 32), 'hex') WHERE case_id = ${id}::uuid`,
    side: (id: string) => t.db.$executeRaw`UPDATE sealed_rulings SET side = CASE side WHEN 'A' THEN 'B'::"Side" ELSE 'A'::"Side" END WHERE case_id = ${id}::uuid`,
    'stored commitment': (id: string) => t.db.$executeRaw`UPDATE cases SET commitment = ${`0x${'ab'.repeat(32)}`} WHERE id = ${id}::uuid`,
  };

  it.each(Object.keys(tamperings) as (keyof typeof tamperings)[])('marks a case MISMATCH when its %s is edited, fails the run naming it, and tells admins', async (what) => {
    await run(t.sealing);
    const c = await t.db.case.findFirstOrThrow({ where: { status: 'OPEN', commitmentStatus: 'VERIFIED' }, orderBy: { createdAt: 'desc' } });
    await tamperings[what](c.id);
    const announced = t.pubsub.subscribe('jobCompleted');
    const next = announced.next();
    const outcome = await t.scheduler.runNow('verdict-check');
    expect(outcome).toMatchObject({ status: 'FAILED' });
    expect((outcome as { error: string }).error).toContain(c.id);
    expect((await next).value).toEqual({ runId: (outcome as { id: string }).id });
    await announced.return?.();
    expect((await t.db.case.findUniqueOrThrow({ where: { id: c.id } })).commitmentStatus).toBe('MISMATCH');
    // Settled for good: closure voids it, so later runs no longer name it.
    await closeVoid(c.id);
  });
});

/** Closes a case through the closure job as if its time were up; returns its settlement. */
async function closeVoid(caseId: string) {
  await t.db.$executeRaw`UPDATE cases SET closes_at = now() - interval '1 second', opens_at = now() - interval '1 day' WHERE id = ${caseId}::uuid`;
  await t.scheduler.runNow('case-closure');
  return t.db.caseSettlement.findUniqueOrThrow({ where: { caseId } });
}

describe('verifyVerdict', () => {
  const query = (id: string) => `{ verifyVerdict(caseId: "${id}") { revealed commitment onChainCommitment transactionHash blockNumber recomputedCommitment matches chainId registryAddress case { title } } }`;
  const ask = async (id: string) => {
    const response = await t.app.yoga.fetch('http://verdict.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: query(id) }) });
    return (await response.json()).data.verifyVerdict;
  };

  it('shows only the chain side before closure, and the recomputation after', async () => {
    await run(t.sealing);
    const c = await t.db.case.findFirstOrThrow({ where: { status: 'OPEN' }, include: { commitTx: true, ruling: true }, orderBy: { createdAt: 'desc' } });
    const before = await ask(encodeGlobalID('Case', c.id));
    expect(before).toMatchObject({
      revealed: false,
      commitment: c.commitment,
      onChainCommitment: c.commitment,
      transactionHash: c.commitTx!.hash,
      recomputedCommitment: null,
      matches: null,
      chainId: t.chain.chainId.toString(),
      registryAddress: t.chain.registryAddress,
    });
    expect(JSON.stringify(before)).not.toContain(c.ruling!.reasoning);

    await t.db.case.update({ where: { id: c.id }, data: { status: 'CLOSED', closedAt: new Date() } });
    const after = await ask(c.id);
    expect(after).toMatchObject({ revealed: true, recomputedCommitment: c.commitment, matches: true });
    expect(Number(after.blockNumber)).toBeGreaterThan(0);

    // A ruling altered after the seal no longer matches the chain.
    await t.db.sealedRuling.update({ where: { caseId: c.id }, data: { side: c.ruling!.side === 'A' ? 'B' : 'A' } });
    expect(await ask(c.id)).toMatchObject({ revealed: true, matches: false });
  });

  it('is checked by `npm run verify` from the public API and the chain alone', async () => {
    const base = `http://127.0.0.1:${await t.app.start(0, '127.0.0.1')}/graphql`;
    await run(t.sealing);
    const c = await t.db.case.findFirstOrThrow({ where: { status: 'OPEN' }, include: { ruling: true }, orderBy: { createdAt: 'desc' } });

    const open = await verifyCli(c.id, base);
    expect(open.code).toBe(0);
    expect(open.output).toContain(`on chain      ${c.commitment}`);
    expect(open.output).toMatch(/sealed until the case closes/);
    expect(open.output).not.toContain(c.ruling!.reasoning);

    await t.db.case.update({ where: { id: c.id }, data: { status: 'CLOSED', closedAt: new Date() } });
    const closed = await verifyCli(encodeGlobalID('Case', c.id), base);
    expect(closed.output).toContain(`recomputed    ${c.commitment}`);
    expect(closed.output).toMatch(/^MATCH/m);
    expect(closed.code).toBe(0);

    await t.db.sealedRuling.update({ where: { caseId: c.id }, data: { reasoning: `${c.ruling!.reasoning} (edited)` } });
    const tampered = await verifyCli(c.id, base);
    expect(tampered.output).toMatch(/^MISMATCH/m);
    expect(tampered.code).toBe(1);
  });

  it('answers null for an unknown case', async () => {
    expect(await ask('5d5e8f2a-2b7c-4c1e-9a53-0f6f1b2f9d11')).toBeNull();
  });
});

function verifyCli(caseId: string, api: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', VERIFY, caseId, '--api', api], (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number) : 0, output: stdout + stderr }),
    );
  });
}

async function waitFor(condition: () => Promise<boolean>) {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not reached');
}
