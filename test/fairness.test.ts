// A case's whole life as an outsider can check it: committed and mined before it opened, closed
// and settled, its ledger built, the ruling revealed on chain (where the registry rechecks the
// commitment), each participant's entries provable against the revealed root, and a vote's
// signed receipt. A ruling edited after the seal makes the case VOID instead.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { getBytes, verifyMessage } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caseKeyOf } from '../src/chain/index.js';
import { verifyLedgerProof, type LedgerEntry } from '../src/domain/ledger.js';
import { castVote } from '../src/domain/participation.js';
import { issueSessionToken } from '../src/domain/sessions.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createUser } from './support/fixtures.js';

// Each test on a database and chain of its own (one moves the chain's clock a day ahead).
let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(() => t.close());

/** The answer's data, which must come without errors. */
async function ask(query: string, token?: string) {
  const body = await t.query(query, token);
  expect(body.errors).toBeUndefined();
  return body.data;
}

/** A fresh case, committed and open, with `voters` users who voted (alternating sides). */
async function openCaseWithVotes(voters: number) {
  await t.scheduler.runNow('case-generation');
  const c = await t.db.case.findFirstOrThrow({ where: { status: 'OPEN' }, orderBy: { createdAt: 'desc' } });
  const users = [];
  for (let i = 0; i < voters; i++) {
    const user = await createUser(t.db);
    const vote = await castVote(t.db, user.id, c.id, i % 2 === 0 ? 'A' : 'B');
    users.push({ user, vote });
  }
  return { c, users };
}

/** Time is up for the case: its window ends now (it opened when its commitment was mined). */
const expire = (id: string) =>
  t.db.$executeRaw`UPDATE cases SET closes_at = greatest(opens_at + interval '1 millisecond', now()) WHERE id = ${id}::uuid`;

describe('a case from commitment to reveal', () => {
  it('is VOID, pays nothing and reveals nothing on chain when its ruling was edited after the seal', async () => {
    const { c, users } = await openCaseWithVotes(3);
    await t.db.$executeRaw`UPDATE sealed_rulings SET reasoning = reasoning || ' (edited)' WHERE case_id = ${c.id}::uuid`;
    const points = await t.db.user.aggregate({ _sum: { totalPoints: true } });
    await expire(c.id);
    await t.scheduler.runNow('case-closure');
    const settled = await t.db.caseSettlement.findUniqueOrThrow({ where: { caseId: c.id } });
    expect(settled).toMatchObject({ outcome: 'VOID', paid: 0, treasury: c.rewardPool, participantCount: users.length });
    expect(settled.reason).toMatch(/does not hash/);
    expect(await t.db.reward.count({ where: { caseId: c.id } })).toBe(0);
    expect(await t.db.user.aggregate({ _sum: { totalPoints: true } })).toEqual(points);
    expect(await t.db.caseLedger.findUnique({ where: { caseId: c.id } })).toBeNull();
    await t.scheduler.runNow('tx-monitor');
    expect((await t.db.case.findUniqueOrThrow({ where: { id: c.id } })).revealTxId).toBeNull();
    const data = await ask(`{ case(id: "${c.id}") { status commitmentStatus ruling { reasoning } settlement { outcome reason paid treasury } } }`);
    expect(data.case).toMatchObject({ status: 'CLOSED', commitmentStatus: 'MISMATCH', settlement: { outcome: 'VOID', paid: 0 } });
    expect(data.case.ruling.reasoning).toMatch(/\(edited\)$/);
  });

  it('anchors every vote and reward line: ledger, reveal checked on chain, receipts and proofs', async () => {
    const { c, users } = await openCaseWithVotes(6);
    const voter = users[0]!;
    const { token } = await issueSessionToken(t.db, t.sessions, voter.user.id);

    // The vote's receipt is signed by Verdict's chain key over the vote's leaf.
    const mine = await ask(`{ case(id: "${c.id}") { myVote { side receipt { caseKey userKey side time leaf signature signer } } } }`, token);
    const receipt = mine.case.myVote.receipt;
    expect(receipt.caseKey).toBe(caseKeyOf(c.id));
    expect(receipt).toMatchObject({ side: voter.vote.side, time: String(voter.vote.createdAt.getTime()), signer: t.chain.receiptSigner });
    expect(verifyMessage(getBytes(receipt.leaf), receipt.signature)).toBe(t.chain.receiptSigner);

    await expire(c.id);
    await t.scheduler.runNow('case-closure');
    const c2 = await t.db.case.findUniqueOrThrow({ where: { id: c.id }, include: { ledger: true, settlement: true } });
    expect(c2.settlement).toMatchObject({ outcome: 'SETTLED' });
    const rewardLines = await t.db.reward.count({ where: { caseId: c.id } });
    expect(c2.ledger).toMatchObject({ leafCount: users.length + rewardLines });
    // The registry refuses a reveal before the committed closing time: it waits for the chain's clock.
    expect(c2.revealTxId).toBeNull();
    await t.scheduler.runNow('tx-monitor');
    expect((await t.db.case.findUniqueOrThrow({ where: { id: c.id } })).revealTxId).toBeNull();

    await t.chain.rpc('evm_mine', [{ timestamp: Math.ceil(c2.revealAfter!.getTime() / 1000) }]);
    await t.scheduler.runNow('tx-monitor');
    await t.scheduler.runNow('tx-monitor');
    const revealed = await t.db.case.findUniqueOrThrow({ where: { id: c.id }, include: { revealTx: true, ruling: true } });
    expect(revealed.revealTx).toMatchObject({ kind: 'REVEAL', status: 'CONFIRMED' });
    const record = await t.chain.readRecord(caseKeyOf(c.id));
    expect(record).toMatchObject({ side: revealed.ruling!.side, ledgerRoot: c2.ledger!.root, commitment: c.commitment });

    const v = await ask(`{ verifyVerdict(caseId: "${c.id}") { matches disagreements revealedSide ledgerRoot revealTransactionHash blockTimestamp revealableFrom } }`);
    expect(v.verifyVerdict).toMatchObject({ matches: true, disagreements: [], revealedSide: revealed.ruling!.side, ledgerRoot: c2.ledger!.root, revealTransactionHash: revealed.revealTx!.hash });

    // The voter's own entries, each proven against the revealed root off chain and on chain.
    const { case: pub } = await ask(`{ case(id: "${c.id}") {
      ledger { root leafCount } revealTransaction { hash blockTimestamp } commitmentTransaction { hash blockNumber blockTimestamp }
      voteTimeline { firstVoteAt lastVoteAt hours { votesA votesB } }
      settlement { pool paid treasury byKind { kind recipients points } }
      myReceipt { userKey ledgerRoot entries { entry detail value leaf proof } } } }`);
    expect(pub.myReceipt).toBeNull(); // signed out
    const withToken = (await ask(`{ case(id: "${c.id}") { myReceipt { caseKey userKey ledgerRoot entries { entry detail value leaf proof } } } }`, token)).case.myReceipt;
    expect(withToken.userKey).toBe(receipt.userKey);
    expect(withToken.ledgerRoot).toBe(c2.ledger!.root);
    const kinds = withToken.entries.map((e: { entry: string; detail: string }) => `${e.entry}:${e.detail}`).sort();
    expect(kinds).toContain(`vote:${voter.vote.side}`);
    expect(kinds).toContain('reward:PARTICIPATION');
    const vote = withToken.entries.find((e: { entry: string }) => e.entry === 'vote');
    expect(vote.leaf).toBe(receipt.leaf);
    for (const e of withToken.entries) {
      const entry: LedgerEntry =
        e.entry === 'vote'
          ? { entry: 'vote', userKey: withToken.userKey, side: e.detail, at: new Date(Number(e.value)) }
          : { entry: 'reward', userKey: withToken.userKey, kind: e.detail, amount: Number(e.value) };
      expect(verifyLedgerProof(record.ledgerRoot!, c.id, entry, e.proof)).toBe(true);
      expect(await t.chain.verifyLedgerEntry(caseKeyOf(c.id), e.leaf, e.proof)).toBe(true);
    }
    // A changed amount is not in the ledger.
    const reward = withToken.entries.find((e: { entry: string }) => e.entry === 'reward');
    expect(verifyLedgerProof(record.ledgerRoot!, c.id, { entry: 'reward', userKey: withToken.userKey, kind: reward.detail, amount: Number(reward.value) + 1 }, reward.proof)).toBe(false);

    // Public: every vote after the commitment's block; paid + treasury = pool; paid = the sum by kind.
    expect(new Date(pub.voteTimeline.firstVoteAt).getTime()).toBeGreaterThan(new Date(pub.commitmentTransaction.blockTimestamp).getTime());
    expect(pub.voteTimeline.hours.reduce((n: number, h: { votesA: number; votesB: number }) => n + h.votesA + h.votesB, 0)).toBe(users.length);
    expect(pub.settlement.paid + pub.settlement.treasury).toBe(pub.settlement.pool);
    expect(pub.settlement.byKind.reduce((n: number, k: { points: number }) => n + k.points, 0)).toBe(pub.settlement.paid);

    // The outsider's tool checks all of it from the public API and the chain alone.
    const api = `http://127.0.0.1:${await t.app.start(0, '127.0.0.1')}/graphql`;
    const cli = await verifyCli([c.id, '--api', api, '--token', token]);
    expect(cli.output).toMatch(/^MATCH/m);
    expect(cli.output).toContain('every vote came after the commitment was mined');
    expect(cli.output).toContain('the registry recorded the revealed side');
    expect(cli.output).toMatch(/ok +your vote [AB] \d+ is in the revealed ledger/);
    expect(cli.output).not.toContain('FAIL');
    expect(cli.code).toBe(0);
  });
});

function verifyCli(args: string[]): Promise<{ code: number | null; output: string }> {
  const script = path.resolve(import.meta.dirname, '../scripts/verify.ts');
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number) : 0, output: stdout + stderr }),
    );
  });
}
