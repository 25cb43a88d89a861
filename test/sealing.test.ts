import { execFile } from 'node:child_process';
import path from 'node:path';
import { encodeGlobalID } from '@pothos/plugin-relay';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJudge } from '../src/ai/judge.js';
import { caseKeyOf, type Chain } from '../src/chain/index.js';
import { loadConfig } from '../src/config.js';
import { computeCommitment } from '../src/domain/commitment.js';
import { issueSessionToken } from '../src/domain/sessions.js';
import type { SealingDeps } from '../src/domain/sealing.js';
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
  verdictCheckJob.run({ db: t.db, chain, log: t.sealing.log, config: t.config }, { now, signal: new AbortController().signal, trigger: 'manual' });

/** The real chain, with a fault injected into one operation. */
function failing(chain: Chain, fault: 'before-send' | 'after-send'): Chain {
  return {
    ...chain,
    async commit(key, commitment) {
      if (fault === 'after-send') await chain.commit(key, commitment);
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
    expect(c).toMatchObject({ status: 'OPEN', source: 'OFFLINE', commitmentStatus: 'SENT' });
    expect(c.closesAt.getTime() - c.opensAt.getTime()).toBe(24 * 3600_000);
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
    expect(c.commitTx).toMatchObject({ kind: 'COMMIT', status: 'SENT' });
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

  it.each(['before-send', 'after-send'] as const)('leaves a PENDING case, never an open one, when the commit fails %s; the next run opens it', async (fault) => {
    const result = await run({ ...t.sealing, chain: failing(t.chain, fault) });
    expect(result.failures).toBe(1);
    const stuck = await t.db.case.findFirstOrThrow({ where: { status: 'PENDING' }, include: { ruling: true } });
    expect(stuck).toMatchObject({ commitmentStatus: 'UNSENT', commitTxId: null });
    expect(stuck.ruling).not.toBeNull();

    const retry = await run(t.sealing);
    expect(retry.summary!.opened).toContain(stuck.id);
    const opened = await t.db.case.findUniqueOrThrow({ where: { id: stuck.id }, include: { commitTx: true } });
    expect(opened).toMatchObject({ status: 'OPEN', commitmentStatus: 'SENT' });
    // After a lost record, the commitment was not sent twice: the transaction found on chain is used.
    expect(opened.commitTx!.hash).toBe((await t.chain.findCommit(caseKeyOf(stuck.id)))!.hash);
    expect(await t.chain.readCommitment(caseKeyOf(stuck.id))).toBe(opened.commitment);
  });

  it('rules on a submitted case, seals it and opens it', async () => {
    const user = await createUser(t.db);
    const { token } = await issueSessionToken(t.sessions, user.id);
    const input = { title: 'The shared lottery ticket', dilemma: 'A colleague forgot to pay his share of the lottery ticket this week, and it won. '.repeat(4), sideA: 'Include him', sideB: 'Leave him out' };
    const created = await t.gql(CreateCaseDocument, { input }, { token });
    expect(created.data!.createCase.status).toBe('PENDING');
    const id = (await t.db.case.findFirstOrThrow({ where: { creatorId: user.id } })).id;
    await waitFor(async () => (await t.db.case.findUniqueOrThrow({ where: { id } })).status === 'OPEN');
    const c = await t.db.case.findUniqueOrThrow({ where: { id }, include: { ruling: true } });
    expect(c).toMatchObject({ source: 'USER', commitmentStatus: 'SENT' });
    expect(c.ruling!.reasoning).toMatch(/no AI model/);
    expect(await t.chain.readCommitment(caseKeyOf(id))).toBe(c.commitment);
  });
});

describe('verdict check (job 4)', () => {
  it('marks matching commitments VERIFIED', async () => {
    await run(t.sealing);
    const result = await check();
    expect(result.failures).toBe(0);
    expect(await t.db.case.count({ where: { commitmentStatus: 'SENT' } })).toBe(0);
    const verified = await t.db.case.findMany({ where: { commitmentStatus: 'VERIFIED' }, include: { commitTx: true } });
    expect(verified.length).toBeGreaterThan(0);
    for (const c of verified) {
      expect(c.verifiedAt).not.toBeNull();
      expect(c.commitTx).toMatchObject({ status: 'CONFIRMED' });
      expect(c.commitTx!.blockNumber).toBeGreaterThan(0n);
    }
  });

  it('flags a mismatch loudly and fails the run', async () => {
    await run(t.sealing);
    const c = await t.db.case.findFirstOrThrow({ where: { commitmentStatus: 'SENT' } });
    await t.db.case.update({ where: { id: c.id }, data: { commitment: `0x${'ab'.repeat(32)}` } });
    const result = await check();
    expect(result.failures).toBeGreaterThanOrEqual(1);
    expect(result.summary).toMatchObject({ alert: 'COMMITMENT_MISMATCH', mismatched: [c.id] });
    expect((await t.db.case.findUniqueOrThrow({ where: { id: c.id } })).commitmentStatus).toBe('MISMATCH');
  });

  it('waits for a dropped commitment, then sends it again after 24 hours', async () => {
    const snapshot = await t.chain.rpc('evm_snapshot');
    await t.chain.rpc('miner_stop');
    await run(t.sealing);
    await t.chain.rpc('evm_revert', [snapshot]);
    await t.chain.rpc('miner_start');
    const c = await t.db.case.findFirstOrThrow({ where: { commitmentStatus: 'SENT' }, include: { commitTx: true } });
    expect(await t.chain.readCommitment(caseKeyOf(c.id))).toBeNull();

    expect((await check()).summary).toMatchObject({ pending: [c.id] });
    const later = new Date(Date.now() + 25 * 3600_000);
    expect((await check(t.chain, later)).summary).toMatchObject({ resent: [c.id] });
    expect((await t.db.chainTransaction.findUniqueOrThrow({ where: { id: c.commitTx!.id } })).status).toBe('FAILED');
    await check(t.chain, later);
    const done = await t.db.case.findUniqueOrThrow({ where: { id: c.id } });
    expect(done.commitmentStatus).toBe('VERIFIED');
    expect(await t.chain.readCommitment(caseKeyOf(c.id))).toBe(done.commitment);
  });
});

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
