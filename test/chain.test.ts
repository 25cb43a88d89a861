import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Contract, JsonRpcProvider, Wallet, type InterfaceAbi } from 'ethers';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import registryArtifact from '../contracts/artifacts/VerdictRegistry.json' with { type: 'json' };
import pointsArtifact from '../contracts/artifacts/VerdictPoints.json' with { type: 'json' };
import { startDevChain } from '../src/chain/dev-chain.js';
import { caseKeyOf, openChain, type Chain } from '../src/chain/index.js';
import { loadConfig } from '../src/config.js';

const log = pino({ level: 'silent' });
const commitment = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const key = () => caseKeyOf(crypto.randomUUID());
/** A closing time the registry accepts: an hour from now. */
const later = new Date(Date.now() + 3600_000);

let chain: Chain;
beforeAll(async () => {
  chain = await openChain(loadConfig({ DATA_DIR: os.tmpdir() }), log, { inMemory: true });
});
afterAll(() => chain.close());

describe('the registry', () => {
  it('keeps a commitment and gives it back', async () => {
    const k = key();
    expect(await chain.readCommitment(k)).toBeNull();
    const { hash } = await chain.commit(k, commitment(7), later);
    expect(await chain.readCommitment(k)).toBe(commitment(7));
    expect(await chain.findCommit(k)).toMatchObject({ hash });
    expect((await chain.transactionStatus(hash, 1)).state).toBe('confirmed');
  });

  it('refuses a second commitment for the same case, and shows a different one as different', async () => {
    const k = key();
    await chain.commit(k, commitment(1), later);
    await expect(chain.commit(k, commitment(2), later)).rejects.toThrow();
    // What the chain holds is read back as is, so a caller comparing sees the difference.
    expect(await chain.readCommitment(k)).toBe(commitment(1));
    expect(await chain.readCommitment(k)).not.toBe(commitment(2));
    // A later commit still works: the nonce manager recovered from the refusal.
    const other = key();
    await chain.commit(other, commitment(3), later);
    expect(await chain.readCommitment(other)).toBe(commitment(3));
  });

  it('accepts commitments from its owner only', async () => {
    const stranger = Wallet.createRandom().connect(new JsonRpcProvider(chain.rpcUrl, chain.chainId, { staticNetwork: true }));
    await chain.rpc('evm_setAccountBalance', [stranger.address, '0xde0b6b3a7640000']);
    const registry = new Contract(chain.registryAddress, registryArtifact.abi as InterfaceAbi, stranger);
    await expect(registry.getFunction('commit')(key(), commitment(9), BigInt(Math.ceil(later.getTime() / 1000)))).rejects.toThrow();
  });

  it('maps a case id to a padded bytes32 key', () => {
    expect(caseKeyOf('3F1C2A4E-9B7D-4E21-8C55-2D9F0A6B7C10')).toBe(`0x${'0'.repeat(32)}3f1c2a4e9b7d4e218c552d9f0a6b7c10`);
    expect(() => caseKeyOf('not-a-uuid')).toThrow();
  });
});

describe('concurrent sends', () => {
  it('queue up behind each other without racing nonces, a refusal among them included', async () => {
    const taken = key();
    await chain.commit(taken, commitment(61), later);
    const keys = Array.from({ length: 8 }, key);
    const wallet = Wallet.createRandom().address;
    const results = await Promise.allSettled([
      ...keys.map((k, i) => chain.commit(k, commitment(100 + i), later)),
      chain.commit(taken, commitment(62), later),
      chain.payBatch([{ to: wallet, amount: 5n }]),
    ]);
    expect(results.map((r) => r.status)).toEqual([...keys.map(() => 'fulfilled'), 'rejected', 'fulfilled']);
    expect(await Promise.all(keys.map((k) => chain.readCommitment(k)))).toEqual(keys.map((_, i) => commitment(100 + i)));
  });
});

describe('points', () => {
  it('mints to many wallets in one transaction', async () => {
    const wallets = [Wallet.createRandom(), Wallet.createRandom(), Wallet.createRandom()];
    const { hash } = await chain.payBatch(wallets.map((w, i) => ({ to: w.address, amount: BigInt(100 * (i + 1)) })));
    const token = new Contract(chain.tokenAddress, pointsArtifact.abi as InterfaceAbi, new JsonRpcProvider(chain.rpcUrl, chain.chainId, { staticNetwork: true }));
    const balances = await Promise.all(wallets.map((w) => token.getFunction('balanceOf')(w.address)));
    expect(balances).toEqual([100n, 200n, 300n]);
    expect((await chain.transactionStatus(hash, 1)).state).toBe('confirmed');
  });
});

describe('transaction states', () => {
  it('pending until mined, then confirmed once deep enough', async () => {
    await chain.rpc('miner_stop');
    try {
      const { hash } = await chain.commit(key(), commitment(11), later);
      expect((await chain.transactionStatus(hash, 1)).state).toBe('pending');
      await chain.rpc('evm_mine');
      expect(await chain.transactionStatus(hash, 1)).toMatchObject({ state: 'confirmed', confirmations: 1 });
      expect((await chain.transactionStatus(hash, 3)).state).toBe('pending');
      await chain.rpc('evm_mine');
      await chain.rpc('evm_mine');
      expect(await chain.transactionStatus(hash, 3)).toMatchObject({ state: 'confirmed', confirmations: 3 });
    } finally {
      await chain.rpc('miner_start');
    }
  });

  it('reverted when mined with status 0', async () => {
    const k = key();
    await chain.commit(k, commitment(21), later);
    // Send the refused second commit with an explicit gas limit, so it is mined and reverts.
    const stranger = Wallet.createRandom().connect(new JsonRpcProvider(chain.rpcUrl, chain.chainId, { staticNetwork: true }));
    await chain.rpc('evm_setAccountBalance', [stranger.address, '0xde0b6b3a7640000']);
    const registry = new Contract(chain.registryAddress, registryArtifact.abi as InterfaceAbi, stranger);
    const tx = await registry.getFunction('commit')(k, commitment(22), BigInt(Math.ceil(later.getTime() / 1000)), { gasLimit: 100_000 });
    expect((await chain.transactionStatus(tx.hash, 1)).state).toBe('reverted');
  });

  it('not found when the transaction was dropped', async () => {
    const snapshot = await chain.rpc('evm_snapshot');
    await chain.rpc('miner_stop');
    const { hash } = await chain.commit(key(), commitment(31), later);
    await chain.rpc('evm_revert', [snapshot]);
    await chain.rpc('miner_start');
    expect((await chain.transactionStatus(hash, 1)).state).toBe('not_found');
  });
});

describe('the embedded dev chain', () => {
  it('signs nothing for callers of its RPC, not even as the owner', async () => {
    const [owner] = (await chain.rpc('eth_accounts')) as string[];
    await expect(chain.rpc('eth_sendTransaction', [{ from: owner, to: owner, value: '0x1' }])).rejects.toThrow(/lock|sign|unknown/i);
  });

  it('persists its state and deployment across restarts', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-chain-'));
    try {
      const config = loadConfig({ DATA_DIR: dataDir });
      const first = await openChain(config, log);
      const k = key();
      await first.commit(k, commitment(41), later);
      const addresses = [first.registryAddress, first.tokenAddress];
      await first.close();

      const second = await openChain(config, log);
      expect([second.registryAddress, second.tokenAddress]).toEqual(addresses);
      expect(await second.readCommitment(k)).toBe(commitment(41));
      await second.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the embedded dev chain, started afresh', () => {
  it('redeploys when the chain data is gone but the deployment file is not', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-chain-'));
    try {
      const config = loadConfig({ DATA_DIR: dataDir });
      const first = await openChain(config, log);
      const k = key();
      await first.commit(k, commitment(71), later);
      await first.close();
      fs.rmSync(path.join(dataDir, 'chain', 'db'), { recursive: true });

      const second = await openChain(config, log);
      // The remembered addresses had no code any more: fresh contracts, and a working registry.
      expect(await second.readCommitment(k)).toBeNull();
      await second.commit(k, commitment(72), later);
      expect(await second.readCommitment(k)).toBe(commitment(72));
      await second.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('any EVM node (CHAIN_RPC_URL)', () => {
  it('deploys once, remembers the addresses, and accepts configured ones', async () => {
    const node = await startDevChain();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-rpc-'));
    try {
      const env = { DATA_DIR: dataDir, CHAIN_RPC_URL: node.rpcUrl, CHAIN_PRIVATE_KEY: node.ownerKey };
      const first = await openChain(loadConfig(env), log);
      expect(first.dev).toBe(false);
      const k = key();
      await first.commit(k, commitment(51), later);
      await first.close();

      const again = await openChain(loadConfig(env), log);
      expect(again.registryAddress).toBe(first.registryAddress);
      await again.close();

      const configured = await openChain(
        loadConfig({ ...env, DATA_DIR: os.tmpdir(), CHAIN_REGISTRY_ADDRESS: first.registryAddress, CHAIN_TOKEN_ADDRESS: first.tokenAddress }),
        log,
      );
      expect(await configured.readCommitment(k)).toBe(commitment(51));
      await configured.close();

      const wrong = loadConfig({ ...env, CHAIN_REGISTRY_ADDRESS: Wallet.createRandom().address, CHAIN_TOKEN_ADDRESS: first.tokenAddress });
      await expect(openChain(wrong, log)).rejects.toThrow(/No contract/);
    } finally {
      await node.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses one contract address without the other', async () => {
    const env = { DATA_DIR: os.tmpdir(), CHAIN_RPC_URL: chain.rpcUrl, CHAIN_PRIVATE_KEY: `0x${'1'.repeat(64)}` };
    await expect(openChain(loadConfig({ ...env, CHAIN_REGISTRY_ADDRESS: chain.registryAddress }), log)).rejects.toThrow(/go together/);
  });

  it('needs the key with the URL', () => {
    expect(() => loadConfig({ CHAIN_RPC_URL: 'http://127.0.0.1:8545' })).toThrow(/CHAIN_PRIVATE_KEY/);
  });
});

describe('contract artifacts', () => {
  it('match a fresh compile of the sources', async () => {
    const root = path.resolve(import.meta.dirname, '..');
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/compile-contracts.ts', '--check'], { cwd: root });
    await expect(run).resolves.toBeDefined();
  });
});

describe('a node that stops answering', () => {
  it('fails each request after CHAIN_RPC_TIMEOUT_MS instead of waiting for ever', async () => {
    const http = await import('node:http');
    const silent = http.createServer(() => {}); // takes requests, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as import('node:net').AddressInfo;
    const started = Date.now();
    try {
      const config = loadConfig({
        DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-silent-')),
        CHAIN_RPC_URL: `http://127.0.0.1:${port}`,
        CHAIN_PRIVATE_KEY: `0x${'11'.repeat(32)}`,
        CHAIN_RPC_TIMEOUT_MS: '300',
      });
      await expect(openChain(config, pino({ level: 'silent' }))).rejects.toThrow(/timeout/i);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
