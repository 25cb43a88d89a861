// Unlinking and replacing a wallet (README "Wallets"): a reward keeps the address it was made for,
// so payouts already PENDING or PROCESSING still reach the old wallet; rewards made later go to the
// new wallet, or are credited off-chain while none is linked. Real SIWE, real in-process chain.
import { Contract, JsonRpcProvider, Wallet, type HDNodeWallet, type InterfaceAbi } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pointsArtifact from '../contracts/artifacts/VerdictPoints.json' with { type: 'json' };
import type { Chain } from '../src/chain/index.js';
import { awardBadges } from '../src/domain/badges-award.js';
import { monitorPayouts, retryReward, sendPayouts, type PayoutDeps } from '../src/domain/payouts.js';
import { issueSessionToken } from '../src/domain/sessions.js';
import { closeCase } from '../src/domain/settlement.js';
import { ConnectWalletDocument, DisconnectWalletDocument, MyPayoutsDocument, WalletChallengeDocument } from './generated/graphql.js';
import { createTestApp, errorCode, type TestApp } from './support/app.js';
import { createCase, createUser } from './support/fixtures.js';

let t: TestApp;
let deps: PayoutDeps;
// A database and chain per test: every payout run sees only that test's rewards.
beforeEach(async () => {
  t = await createTestApp({ PUBLIC_URL: 'https://verdict.example' });
  deps = { db: t.db, chain: t.chain, log: t.sealing.log, pubsub: t.pubsub, confirmations: 1 };
});
afterEach(() => t.close());

const balanceOf = async (address: string) => {
  const provider = new JsonRpcProvider(t.chain.rpcUrl, t.chain.chainId, { staticNetwork: true });
  return (await new Contract(t.chain.tokenAddress, pointsArtifact.abi as InterfaceAbi, provider).getFunction('balanceOf')(address)) as bigint;
};

async function signedIn() {
  const user = await createUser(t.db);
  return { user, token: (await issueSessionToken(t.db, t.sessions, user.id)).token };
}

/** walletChallenge, signed by the wallet, then connectWallet: the whole Sign-In with Ethereum. */
async function link(token: string, wallet: HDNodeWallet) {
  const challenge = await t.gql(WalletChallengeDocument, { address: wallet.address }, { token });
  const message = challenge.data!.walletChallenge.message;
  return t.gql(ConnectWalletDocument, { message, signature: await wallet.signMessage(message) }, { token });
}

/** A due case the user wins alone (400 for the winning vote + 200 for taking part), then closed. */
async function winCase(userId: string) {
  const c = await createCase(t.db, { rulingSide: 'A', opensAt: new Date(Date.now() - 25 * 3600_000) });
  await t.db.vote.create({ data: { caseId: c.id, userId, side: 'A' } });
  await closeCase(t.db, c.id);
  return c.id;
}

const rewardsOf = async (token: string) => {
  const me = (await t.gql(MyPayoutsDocument, {}, { token })).data!.me!;
  return { ...me, rewards: me.rewards!.edges.map((e) => e.node) };
};

/** Pays everything queued and confirms it. */
async function settlePayouts() {
  while ((await sendPayouts(deps)).rewards > 0) await monitorPayouts(deps);
  await monitorPayouts(deps);
}

/**
 * Nothing made or lost: the rewards add up to what the cases paid and the badges gave; what went on
 * chain is in the wallets, per address; and the user's points are every completed reward, the
 * on-chain ones plus those credited off-chain.
 */
async function expectConserved(userId: string, wallets: string[]) {
  const rewards = await t.db.reward.findMany({ where: { userId }, include: { badgeAward: true } });
  const settled = await t.db.caseSettlement.findMany({ where: { caseId: { in: rewards.flatMap((r) => (r.caseId ? [r.caseId] : [])) } } });
  const badgeBonuses = rewards.filter((r) => r.kind === 'BADGE_BONUS').reduce((a, r) => a + r.amount, 0);
  const total = rewards.reduce((a, r) => a + r.amount, 0);
  expect(total).toBe(settled.reduce((a, s) => a + s.paid, 0) + badgeBonuses);
  expect(rewards.every((r) => r.status === 'COMPLETED')).toBe(true);
  let onChain = 0;
  for (const address of wallets) {
    const made = rewards.filter((r) => r.payoutAddress === address).reduce((a, r) => a + r.amount, 0);
    expect(await balanceOf(address)).toBe(BigInt(made));
    onChain += made;
  }
  const offChain = rewards.filter((r) => r.payoutAddress === null && r.payoutTxId === null).reduce((a, r) => a + r.amount, 0);
  expect(onChain + offChain).toBe(total);
  expect((await t.db.user.findUniqueOrThrow({ where: { id: userId } })).totalPoints).toBe(total);
}

describe('disconnectWallet', () => {
  it('pays rewards made before it (pending or already sent) to the old wallet, and credits later ones off-chain', async () => {
    const { user, token } = await signedIn();
    const old = Wallet.createRandom();
    expect((await link(token, old)).data!.connectWallet.walletAddress).toBe(old.address);

    await winCase(user.id);
    const sent = await sendPayouts(deps); // PROCESSING: the first case's rewards are on their way
    await winCase(user.id); // PENDING

    const unlinked = await t.gql(DisconnectWalletDocument, {}, { token });
    expect(unlinked.data!.disconnectWallet).toEqual({ handle: user.handle, walletAddress: null });
    await winCase(user.id); // made without a wallet

    const before = await rewardsOf(token);
    expect(before.walletAddress).toBeNull();
    expect(before.rewards.map((r) => [r.status, r.payoutAddress]).sort()).toEqual([
      ['COMPLETED', null],
      ['COMPLETED', null],
      ['PENDING', old.address],
      ['PENDING', old.address],
      ['PROCESSING', old.address],
      ['PROCESSING', old.address],
    ]);
    expect(before.totalPoints).toBe(600); // the off-chain credit, at once

    expect((await monitorPayouts(deps)).confirmed).toEqual(sent.batches);
    await settlePayouts();
    expect(await balanceOf(old.address)).toBe(1200n);
    const after = await rewardsOf(token);
    expect(after.totalPoints).toBe(1800);
    expect(after.rewards.filter((r) => r.payoutAddress === null).every((r) => r.transactionHash === null)).toBe(true);
    await expectConserved(user.id, [old.address]);
  });

  it('answers NO_WALLET when no wallet is linked, and changes nothing', async () => {
    const { user, token } = await signedIn();
    const before = await t.db.user.findUniqueOrThrow({ where: { id: user.id } });
    const answer = await t.gql(DisconnectWalletDocument, {}, { token });
    expect(errorCode(answer)).toBe('NO_WALLET');
    expect(answer.data).toBeNull();
    expect(await t.db.user.findUniqueOrThrow({ where: { id: user.id } })).toEqual(before);

    // Twice in a row: the second finds nothing to unlink.
    await link(token, Wallet.createRandom());
    expect(errorCode(await t.gql(DisconnectWalletDocument, {}, { token }))).toBeUndefined();
    expect(errorCode(await t.gql(DisconnectWalletDocument, {}, { token }))).toBe('NO_WALLET');
    expect(errorCode(await t.gql(DisconnectWalletDocument, {}))).toBe('UNAUTHENTICATED');
  });

  it('frees the wallet for another account of its owner', async () => {
    const alice = await signedIn();
    const bob = await signedIn();
    const wallet = Wallet.createRandom();
    await link(alice.token, wallet);
    expect(errorCode(await link(bob.token, wallet))).toBe('WALLET_TAKEN');
    await t.gql(DisconnectWalletDocument, {}, { token: alice.token });
    expect((await link(bob.token, wallet)).data!.connectWallet.walletAddress).toBe(wallet.address);
  });
});

describe('replacing a wallet', () => {
  it('pays new rewards to the new wallet and the older ones still to the old', async () => {
    const { user, token } = await signedIn();
    const [old, replacement] = [Wallet.createRandom(), Wallet.createRandom()];
    await link(token, old);
    await winCase(user.id);
    await sendPayouts(deps); // PROCESSING
    await winCase(user.id); // PENDING

    expect((await link(token, replacement)).data!.connectWallet.walletAddress).toBe(replacement.address);
    await winCase(user.id);
    // Badge bonuses made now (first_win, blockchain_ready) go to the new wallet too.
    await awardBadges(t.db, { since: null });

    const rewards = await rewardsOf(token);
    const addressed = (address: string) => rewards.rewards.filter((r) => r.payoutAddress === address);
    expect(addressed(old.address).map((r) => r.status).sort()).toEqual(['PENDING', 'PENDING', 'PROCESSING', 'PROCESSING']);
    expect(addressed(replacement.address).map((r) => `${r.kind}:${r.status}`).sort()).toEqual([
      'BADGE_BONUS:PENDING',
      'BADGE_BONUS:PENDING',
      'PARTICIPATION:PENDING',
      'WINNING_VOTE:PENDING',
    ]);

    await settlePayouts();
    expect(await balanceOf(old.address)).toBe(1200n);
    expect(await balanceOf(replacement.address)).toBe(600n + 50n + 50n);
    await expectConserved(user.id, [old.address, replacement.address]);
  });

  it('keeps WALLET_TAKEN: a wallet linked to another account is refused, and the current one stays', async () => {
    const alice = await signedIn();
    const bob = await signedIn();
    const [hers, his] = [Wallet.createRandom(), Wallet.createRandom()];
    await link(alice.token, hers);
    await link(bob.token, his);
    expect(errorCode(await link(alice.token, his))).toBe('WALLET_TAKEN');
    expect((await t.db.user.findUniqueOrThrow({ where: { id: alice.user.id } })).walletAddress).toBe(hers.address);
  });

  it('retries a failed payout to the address it was made for', async () => {
    const { user, token } = await signedIn();
    const [old, replacement] = [Wallet.createRandom(), Wallet.createRandom()];
    await link(token, old);
    await winCase(user.id);
    // Recorded, never broadcast, no signed bytes on file: failed once not found for 24 h.
    const crashing: Chain = {
      ...t.chain,
      payBatch: (payments, record) =>
        t.chain.payBatch(payments, async (hash, signed) => {
          await record?.(hash, signed);
          throw new Error('crash before broadcast');
        }),
    };
    await expect(sendPayouts({ ...deps, chain: crashing })).rejects.toThrow('crash before broadcast');
    await t.db.chainTransaction.updateMany({ where: { kind: 'PAYOUT', status: 'SENT' }, data: { raw: null, nonce: null } });
    expect((await monitorPayouts(deps, new Date(Date.now() + 25 * 3600_000))).failed).toHaveLength(1);

    await link(token, replacement);
    for (const r of await t.db.reward.findMany({ where: { userId: user.id } })) {
      expect((await retryReward(t.db, r.id)).payoutAddress).toBe(old.address);
    }
    await settlePayouts();
    expect(await balanceOf(old.address)).toBe(600n);
    expect(await balanceOf(replacement.address)).toBe(0n);
    await expectConserved(user.id, [old.address, replacement.address]);
  });
});

describe('rate limits', () => {
  it('counts disconnectWallet against the per-user mutation limit', async () => {
    const limited = await createTestApp({ PUBLIC_URL: 'https://verdict.example', RATE_LIMIT_MUTATIONS_PER_MINUTE: '2' });
    try {
      const user = await createUser(limited.db);
      const { token } = await issueSessionToken(limited.db, limited.sessions, user.id);
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push(errorCode(await limited.gql(DisconnectWalletDocument, {}, { token })));
      expect(codes).toEqual(['NO_WALLET', 'NO_WALLET', 'RATE_LIMITED']);
    } finally {
      await limited.close();
    }
  });
});
