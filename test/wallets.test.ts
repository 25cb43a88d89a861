import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSessionToken } from '../src/domain/sessions.js';
import { ConnectWalletDocument, WalletChallengeDocument } from './generated/graphql.js';
import { createTestApp, errorCode, type TestApp } from './support/app.js';
import { createUser } from './support/fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ PUBLIC_URL: 'https://verdict.example' });
});
afterAll(() => t.close());

async function signedIn() {
  const user = await createUser(t.db);
  return { user, token: (await issueSessionToken(t.db, t.sessions, user.id)).token };
}

async function challenge(token: string, address: string) {
  const result = await t.gql(WalletChallengeDocument, { address }, { token });
  return result.data!.walletChallenge.message;
}

describe('wallets', () => {
  it('issues an EIP-4361 message and links the wallet that signed it', async () => {
    const { user, token } = await signedIn();
    const wallet = Wallet.createRandom();
    const message = await challenge(token, wallet.address.toLowerCase());
    expect(message).toMatch(/^verdict\.example wants you to sign in with your Ethereum account:\n0x[0-9a-fA-F]{40}\n/);
    expect(message).toContain(`\n${wallet.address}\n`);
    expect(message).toMatch(/\nURI: https:\/\/verdict\.example\nVersion: 1\nChain ID: 1337\nNonce: [0-9a-f]{32}\nIssued At: .+\nExpiration Time: .+$/);

    const result = await t.gql(ConnectWalletDocument, { message, signature: await wallet.signMessage(message) }, { token });
    expect(result.data!.connectWallet.walletAddress).toBe(wallet.address);
    expect((await t.db.user.findUniqueOrThrow({ where: { id: user.id } })).walletAddress).toBe(wallet.address);
  });

  it('accepts a nonce once', async () => {
    const { token } = await signedIn();
    const wallet = Wallet.createRandom();
    const message = await challenge(token, wallet.address);
    const signature = await wallet.signMessage(message);
    expect(errorCode(await t.gql(ConnectWalletDocument, { message, signature }, { token }))).toBeUndefined();
    expect(errorCode(await t.gql(ConnectWalletDocument, { message, signature }, { token }))).toBe('BAD_USER_INPUT');
  });

  it('rejects an expired nonce and leaves the user unlinked', async () => {
    const { user, token } = await signedIn();
    const wallet = Wallet.createRandom();
    const message = await challenge(token, wallet.address);
    await t.db.walletNonce.updateMany({ where: { userId: user.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const result = await t.gql(ConnectWalletDocument, { message, signature: await wallet.signMessage(message) }, { token });
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect((await t.db.user.findUniqueOrThrow({ where: { id: user.id } })).walletAddress).toBeNull();
  });

  it('rejects a signature from another wallet, a tampered message, and another user’s nonce', async () => {
    const alice = await signedIn();
    const bob = await signedIn();
    const wallet = Wallet.createRandom();
    const message = await challenge(alice.token, wallet.address);

    const impostor = Wallet.createRandom();
    expect(errorCode(await t.gql(ConnectWalletDocument, { message, signature: await impostor.signMessage(message) }, { token: alice.token }))).toBe('INVALID_SIGNATURE');

    // Changed after signing (a second later expiry): the signature no longer matches.
    const tampered = message.replace(/Expiration Time: (\S+)/, (_, at: string) => `Expiration Time: ${new Date(Date.parse(at) + 1000).toISOString()}`);
    expect(errorCode(await t.gql(ConnectWalletDocument, { message: tampered, signature: await wallet.signMessage(message) }, { token: alice.token }))).toBe('INVALID_SIGNATURE');

    expect(errorCode(await t.gql(ConnectWalletDocument, { message, signature: '0x1234' }, { token: alice.token }))).toBe('INVALID_SIGNATURE');

    // Bob replays Alice's challenge signed by the wallet: the nonce is not his.
    expect(errorCode(await t.gql(ConnectWalletDocument, { message, signature: await wallet.signMessage(message) }, { token: bob.token }))).toBe('BAD_USER_INPUT');
    expect(await t.db.user.count({ where: { walletAddress: wallet.address } })).toBe(0);
  });

  it('checks the whole EIP-4361 message, each field signed by the wallet itself', async () => {
    const { token } = await signedIn();
    const wallet = Wallet.createRandom();
    const past = new Date(Date.now() - 60_000).toISOString();
    const future = new Date(Date.now() + 3600_000).toISOString();
    const changes: [string, (m: string) => string][] = [
      ['another URI', (m) => m.replace(/^URI: .*$/m, 'URI: https://evil.example')],
      ['another chain', (m) => m.replace(/^Chain ID: .*$/m, 'Chain ID: 999999')],
      ['another statement', (m) => m.replace('Connect this wallet to your Verdict account.', 'Transfer all your points.')],
      ['an expiration in the past', (m) => m.replace(/^Expiration Time: .*$/m, `Expiration Time: ${past}`)],
      ['a not-before in the future', (m) => `${m}\nNot Before: ${future}`],
      ['an issued-at long ago', (m) => m.replace(/^Issued At: .*$/m, 'Issued At: 2020-01-01T00:00:00.000Z')],
      ['version 2', (m) => m.replace('Version: 1', 'Version: 2')],
    ];
    for (const [what, change] of changes) {
      const message = change(await challenge(token, wallet.address));
      const answer = await t.gql(ConnectWalletDocument, { message, signature: await wallet.signMessage(message) }, { token });
      expect({ what, code: errorCode(answer) }).toEqual({ what, code: 'BAD_USER_INPUT' });
    }
    expect(await t.db.user.count({ where: { walletAddress: wallet.address } })).toBe(0);
  });

  it('rejects a message for another site', async () => {
    const { token } = await signedIn();
    const wallet = Wallet.createRandom();
    const message = (await challenge(token, wallet.address)).replace('verdict.example wants', 'evil.example wants');
    expect(errorCode(await t.gql(ConnectWalletDocument, { message, signature: await wallet.signMessage(message) }, { token }))).toBe('BAD_USER_INPUT');
  });

  it('rejects a wallet already linked to another account', async () => {
    const alice = await signedIn();
    const bob = await signedIn();
    const wallet = Wallet.createRandom();
    const first = await challenge(alice.token, wallet.address);
    await t.gql(ConnectWalletDocument, { message: first, signature: await wallet.signMessage(first) }, { token: alice.token });
    const second = await challenge(bob.token, wallet.address);
    const result = await t.gql(ConnectWalletDocument, { message: second, signature: await wallet.signMessage(second) }, { token: bob.token });
    expect(errorCode(result)).toBe('WALLET_TAKEN');
    expect((await t.db.user.findUniqueOrThrow({ where: { id: bob.user.id } })).walletAddress).toBeNull();
    // The failed attempt did not spend Bob's nonce.
    expect((await t.db.walletNonce.findFirstOrThrow({ where: { userId: bob.user.id } })).usedAt).toBeNull();
  });

  it('rejects a malformed address and anonymous callers', async () => {
    const { token } = await signedIn();
    expect(errorCode(await t.gql(WalletChallengeDocument, { address: '0x123' }, { token }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await t.gql(WalletChallengeDocument, { address: Wallet.createRandom().address }))).toBe('UNAUTHENTICATED');
  });
});
