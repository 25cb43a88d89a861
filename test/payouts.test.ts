import { randomUUID } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { Contract, JsonRpcProvider, Wallet, type InterfaceAbi } from 'ethers';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pointsArtifact from '../contracts/artifacts/VerdictPoints.json' with { type: 'json' };
import registryArtifact from '../contracts/artifacts/VerdictRegistry.json' with { type: 'json' };
import { caseKeyOf, type Chain } from '../src/chain/index.js';
import { monitorPayouts, retryReward, sendPayouts, type PayoutDeps } from '../src/domain/payouts.js';
import { closeCase } from '../src/domain/settlement.js';
import { issueSessionToken } from '../src/domain/sessions.js';
import { publishUntil } from './support/subscriptions.js';
import { createTestApp, errorCode, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

let t: TestApp;
let deps: PayoutDeps;
// Each test on a database and chain of its own: none sees another's rewards or transactions.
beforeEach(async () => {
  t = await createTestApp();
  deps = { db: t.db, chain: t.chain, log: t.sealing.log, pubsub: t.pubsub, confirmations: 1 };
});
afterEach(() => t.close());

const provider = () => new JsonRpcProvider(t.chain.rpcUrl, t.chain.chainId, { staticNetwork: true });
const balanceOf = async (address: string) =>
  (await new Contract(t.chain.tokenAddress, pointsArtifact.abi as InterfaceAbi, provider()).getFunction('balanceOf')(address)) as bigint;

/** Closes a case where every voter wins: `wallets` of them have a wallet, `offChain` do not. */
async function closedCaseWith(wallets: number, offChain = 0) {
  const c = await createCase(t.db, { rulingSide: 'A', opensAt: new Date(Date.now() - 25 * 3600_000) });
  const users = [];
  for (let i = 0; i < wallets + offChain; i++) {
    const user = await createUser(t.db);
    users.push(i < wallets ? await t.db.user.update({ where: { id: user.id }, data: { walletAddress: Wallet.createRandom().address } }) : user);
  }
  await t.db.vote.createMany({ data: users.map((u) => ({ caseId: c.id, userId: u.id, side: 'A' as const })) });
  await closeCase(t.db, c.id);
  return { c, users };
}

/** The real chain, except that a payout is signed and recorded, then its broadcast fails. */
const recordedNeverBroadcast = (message: string): Chain => ({
  ...t.chain,
  payBatch: (payments, record) =>
    t.chain.payBatch(payments, async (hash, signed) => {
      await record?.(hash, signed);
      throw new Error(message);
    }),
});

describe('payouts', () => {
  it('pays wallet users in one batched mint and credits points only once confirmed, exactly once', async () => {
    const { users } = await closedCaseWith(3, 2);
    const [withWallet, withoutWallet] = [users.slice(0, 3), users.slice(3)];
    for (const u of withoutWallet) expect((await t.db.user.findUniqueOrThrow({ where: { id: u.id } })).totalPoints).toBe(80 + 40);

    const sent = await sendPayouts(deps);
    expect(sent).toMatchObject({ rewards: 6 }); // winning vote + participation for each wallet user
    const rewards = await t.db.reward.findMany({ where: { userId: { in: withWallet.map((u) => u.id) } }, include: { payoutTx: true } });
    expect(new Set(rewards.map((r) => r.payoutTx?.hash))).toEqual(new Set(sent.batches));
    expect(rewards.every((r) => r.status === 'PROCESSING')).toBe(true);
    for (const u of withWallet) expect((await t.db.user.findUniqueOrThrow({ where: { id: u.id } })).totalPoints).toBe(0);

    expect((await monitorPayouts(deps)).confirmed).toEqual(sent.batches);
    expect((await monitorPayouts(deps)).confirmed).toEqual([]);
    for (const u of withWallet) {
      expect((await t.db.user.findUniqueOrThrow({ where: { id: u.id } })).totalPoints).toBe(120);
      expect(await balanceOf(u.walletAddress!)).toBe(120n);
    }
    expect(await t.db.reward.count({ where: { userId: { in: withWallet.map((u) => u.id) }, status: 'COMPLETED' } })).toBe(6);
    expect(await sendPayouts(deps)).toEqual({ batches: [], rewards: 0 });
  });

  it('pays once when two payout runners race', async () => {
    const { users } = await closedCaseWith(2);
    const outcomes = await Promise.allSettled([sendPayouts(deps), sendPayouts(deps), sendPayouts(deps)]);
    const sent = outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value.batches : []));
    expect(sent).toHaveLength(1);
    await monitorPayouts(deps);
    for (const u of users) expect(await balanceOf(u.walletAddress!)).toBe(200n + 100n);
  });

  it('puts at most 100 rewards in one transaction', async () => {
    await closedCaseWith(60);
    const first = await sendPayouts(deps);
    const second = await sendPayouts(deps);
    expect([first.rewards, second.rewards]).toEqual([100, 20]);
    expect(first.batches[0]).not.toBe(second.batches[0]);
    await monitorPayouts(deps);
  });

  it('keeps watching a pending transaction, and wants enough confirmations', async () => {
    const { users } = await closedCaseWith(1);
    await t.chain.rpc('miner_stop');
    try {
      await sendPayouts(deps);
      const deep = { ...deps, confirmations: 3 };
      expect((await monitorPayouts(deep)).pending).toHaveLength(1);
      await t.chain.rpc('evm_mine');
      expect((await monitorPayouts(deep)).pending).toHaveLength(1);
      await t.chain.rpc('evm_mine');
      await t.chain.rpc('evm_mine');
      expect((await monitorPayouts(deep)).confirmed).toHaveLength(1);
    } finally {
      await t.chain.rpc('miner_start');
    }
    expect((await t.db.user.findUniqueOrThrow({ where: { id: users[0]!.id } })).totalPoints).toBe(400 + 200);
  });

  it('fails rewards of a reverted transaction', async () => {
    const user = await createUser(t.db);
    const c = await createCase(t.db, { status: 'CLOSED' });
    // A transaction mined with status 0: a second commit of one key, with an explicit gas limit.
    const stranger = Wallet.createRandom().connect(provider());
    await t.chain.rpc('evm_setAccountBalance', [stranger.address, '0xde0b6b3a7640000']);
    const registry = new Contract(t.chain.registryAddress, registryArtifact.abi as InterfaceAbi, stranger);
    const reverted = await registry.getFunction('commit')(caseKeyOf(c.id), `0x${'11'.repeat(32)}`, BigInt(Math.ceil(Date.now() / 1000) + 3600), { gasLimit: 100_000 });
    const tx = await t.db.chainTransaction.create({ data: { kind: 'PAYOUT', hash: reverted.hash, chainId: t.chain.chainId } });
    const reward = await t.db.reward.create({ data: { userId: user.id, caseId: c.id, kind: 'PARTICIPATION', amount: 10, status: 'PROCESSING', payoutTxId: tx.id, payoutAddress: stranger.address } });
    expect((await monitorPayouts(deps)).failed).toContain(reverted.hash);
    expect((await t.db.reward.findUniqueOrThrow({ where: { id: reward.id } })).status).toBe('FAILED');
    expect((await t.db.user.findUniqueOrThrow({ where: { id: user.id } })).totalPoints).toBe(0);
  });

  it('broadcasts again, byte for byte, a payout recorded but never broadcast, and it pays once', async () => {
    const { users } = await closedCaseWith(1);
    const wallet = users[0]!.walletAddress!;
    // A crash between recording and broadcasting: the hash is on file, the chain never saw it.
    const crashing = recordedNeverBroadcast('crash before broadcast');
    await expect(sendPayouts({ ...deps, chain: crashing })).rejects.toThrow('crash before broadcast');
    const processing = await t.db.reward.findMany({ where: { userId: users[0]!.id } });
    expect(processing.every((r) => r.status === 'PROCESSING')).toBe(true);
    expect(await sendPayouts(deps)).toEqual({ batches: [], rewards: 0 });

    // Its nonce is still free: the monitor sends the same signed bytes, and the next look confirms.
    expect((await monitorPayouts(deps)).pending).toHaveLength(1);
    expect((await monitorPayouts(deps)).confirmed).toHaveLength(1);
    expect(await balanceOf(wallet)).toBe(600n);
    expect((await t.db.user.findUniqueOrThrow({ where: { id: users[0]!.id } })).totalPoints).toBe(600);
  });

  it('queues again at once the rewards of a payout whose nonce another sender used, and pays them once', async () => {
    const { users } = await closedCaseWith(1);
    const wallet = users[0]!.walletAddress!;
    // Another server with the same key takes the nonce first: this broadcast is refused.
    const refused = recordedNeverBroadcast('nonce too low');
    await expect(sendPayouts({ ...deps, chain: refused })).rejects.toThrow('nonce too low');
    await t.chain.commit(caseKeyOf(randomUUID()), `0x${'42'.repeat(32)}`, new Date(Date.now() + 3600_000));

    const report = await monitorPayouts(deps);
    expect(report.failed).toHaveLength(1);
    const queued = await t.db.reward.findMany({ where: { userId: users[0]!.id } });
    expect(queued.every((r) => r.status === 'PENDING' && r.payoutTxId === null)).toBe(true);

    await sendPayouts(deps);
    await monitorPayouts(deps);
    expect(await balanceOf(wallet)).toBe(600n);
    expect((await t.db.user.findUniqueOrThrow({ where: { id: users[0]!.id } })).totalPoints).toBe(600);
  });

  it('fails a legacy payout (no signed bytes on file) not found for 24 h, and a retry pays it once', async () => {
    const { users } = await closedCaseWith(1);
    const wallet = users[0]!.walletAddress!;
    const crashing = recordedNeverBroadcast('crash before broadcast');
    await expect(sendPayouts({ ...deps, chain: crashing })).rejects.toThrow('crash before broadcast');
    await t.db.chainTransaction.updateMany({ where: { kind: 'PAYOUT', status: 'SENT' }, data: { raw: null, nonce: null } });
    const processing = await t.db.reward.findMany({ where: { userId: users[0]!.id } });
    expect((await monitorPayouts(deps)).pending).toHaveLength(1);
    const later = new Date(Date.now() + 25 * 3600_000);
    expect((await monitorPayouts(deps, later)).failed).toHaveLength(1);
    for (const r of processing) await retryReward(t.db, r.id);
    await expect(retryReward(t.db, processing[0]!.id)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await sendPayouts(deps);
    await monitorPayouts(deps);
    expect(await balanceOf(wallet)).toBe(600n);
  });

  it('looks at no more than 100 transactions per run', async () => {
    await t.db.chainTransaction.createMany({
      data: Array.from({ length: 101 }, () => ({ kind: 'PAYOUT' as const, hash: `0x${randomBytes(32).toString('hex')}`, chainId: t.chain.chainId })),
    });
    const report = await monitorPayouts(deps);
    expect(report.pending.length + report.confirmed.length + report.failed.length + report.errors.length).toBe(100);
  });
});

describe('over GraphQL', () => {
  it('lets only admins retry, and shows rewards to their owner only', async () => {
    const owner = await createUser(t.db);
    const other = await createUser(t.db);
    const admin = await createUser(t.db, { role: 'ADMIN' });
    const c = await createCase(t.db, { status: 'CLOSED' });
    const failedTx = await t.db.chainTransaction.create({ data: { kind: 'PAYOUT', hash: `0x${randomBytes(32).toString('hex')}`, chainId: t.chain.chainId, status: 'FAILED' } });
    const reward = await t.db.reward.create({ data: { userId: owner.id, caseId: c.id, kind: 'PARTICIPATION', amount: 7, status: 'FAILED', payoutTxId: failedTx.id, payoutAddress: Wallet.createRandom().address } });
    const token = async (id: string) => (await issueSessionToken(t.db, t.sessions, id)).token;
    const gql = async (query: string, as: string) =>
      (await t.app.yoga.fetch('http://verdict.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${as}` }, body: JSON.stringify({ query }) })).json();

    const mine = await gql(`{ me { rewards(first: 5) { edges { node { id amount status } } } } }`, await token(owner.id));
    expect(mine.data.me.rewards.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([reward.id]);
    const theirs = await gql(`{ user(handle: "${owner.handle}") { rewards(first: 5) { edges { node { id } } } } }`, await token(other.id));
    expect(theirs.data.user.rewards).toBeNull();
    expect(errorCode(theirs)).toBe('FORBIDDEN');

    expect(errorCode(await gql(`mutation { retryReward(id: "${reward.id}") { status } }`, await token(owner.id)))).toBe('FORBIDDEN');
    expect((await gql(`mutation { retryReward(id: "${reward.id}") { status } }`, await token(admin.id))).data.retryReward.status).toBe('PENDING');
  });
});

describe('myRewardUpdated', () => {
  it('tells a user about their own rewards as they are paid', async () => {
    const { users } = await closedCaseWith(1);
    const other = await createUser(t.db);
    const url = `ws://127.0.0.1:${await t.app.start(0, '127.0.0.1')}/graphql`;
    const connect = async (userId: string) =>
      createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${(await issueSessionToken(t.db, t.sessions, userId)).token}` } });
    const [mine, theirs] = [await connect(users[0]!.id), await connect(other.id)];
    try {
      const query = 'subscription { myRewardUpdated { kind amount status transactionHash } }';
      const events = mine.iterate<{ myRewardUpdated: { status: string; transactionHash: string | null } }>({ query });
      const otherEvents = theirs.iterate({ query });
      const otherNext = otherEvents.next();
      // Subscriptions start asynchronously: re-announce an old reward until the first arrives.
      const old = await t.db.reward.findFirstOrThrow({ where: { userId: users[0]!.id } });
      await publishUntil(events.next(), () => t.pubsub.publish('rewardUpdated', users[0]!.id, { rewardId: old.id }));
      await new Promise((r) => setTimeout(r, 100));
      const sent = await sendPayouts(deps);
      const seen: { status: string; transactionHash: string | null }[] = [];
      while (seen.filter((e) => e.status === 'PROCESSING').length < 2) {
        const next = await events.next();
        seen.push(next.value!.data!.myRewardUpdated);
      }
      expect(seen.filter((e) => e.status === 'PROCESSING').every((e) => e.transactionHash === sent.batches[0])).toBe(true);
      expect(await Promise.race([otherNext.then(() => 'heard'), new Promise((r) => setTimeout(() => r('silent'), 300))])).toBe('silent');
      await events.return?.();
      await otherEvents.return?.();
      await monitorPayouts(deps);
    } finally {
      await mine.dispose();
      await theirs.dispose();
    }
  });
});
