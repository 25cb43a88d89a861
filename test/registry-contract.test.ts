// The VerdictRegistry contract itself, on the in-process dev chain: commit, the on-chain check of
// the SHA-256 commitment at reveal time, its time rules, and ledger proofs against the revealed root.
import { randomBytes, randomUUID } from 'node:crypto';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import {
  AbiCoder,
  Contract,
  ContractFactory,
  Interface,
  JsonRpcProvider,
  Wallet,
  hexlify,
  isCallException,
  keccak256,
  type InterfaceAbi,
  type TransactionReceipt,
} from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import registryArtifact from '../contracts/artifacts/VerdictRegistry.json' with { type: 'json' };
import { DEV_CHAIN_ID, startDevChain } from '../src/chain/dev-chain.js';
import { computeCommitment, type CommitmentInput } from '../src/domain/commitment.js';

const abi = registryArtifact.abi as InterfaceAbi;
const registryInterface = new Interface(abi);
const SIDES = { A: 1, B: 2 } as const;
const HOUR = 3600;

/** The registry key of a case: its uuid's 16 bytes, left-padded to bytes32 (as the app keys it). */
const caseKeyOf = (caseId: string) => `0x${caseId.replaceAll('-', '').toLowerCase().padStart(64, '0')}`;
const randomHex32 = () => hexlify(randomBytes(32));

const LONG_REASONING = Array.from(
  { length: 80 },
  (_, i) => `§${String(i).padStart(2, '0')} Le juge pèse, ça dépend — `,
)
  .join('')
  .slice(0, 2000);

let stopChain: () => Promise<void>;
let provider: JsonRpcProvider;
let owner: Wallet;
let stranger: Wallet;
let registry: Contract;
let registryAddress: string;
const gas: Record<string, bigint> = {};

beforeAll(async () => {
  const node = await startDevChain();
  stopChain = node.stop;
  // cacheTimeout -1: ethers otherwise answers identical calls within 250 ms from a cache, so
  // `latest` block reads (and pending nonces) go stale right after a time jump.
  provider = new JsonRpcProvider(node.rpcUrl, DEV_CHAIN_ID, { staticNetwork: true, cacheTimeout: -1 });
  owner = new Wallet(node.ownerKey, provider);
  stranger = new Wallet(randomHex32(), provider);
  await provider.send('evm_setAccountBalance', [stranger.address, '0xde0b6b3a7640000']);
  const deployed = await new ContractFactory(abi, registryArtifact.bytecode, owner).deploy(owner.address);
  await deployed.waitForDeployment();
  registryAddress = (await deployed.getAddress()).toLowerCase();
  registry = new Contract(registryAddress, abi, owner);
});

afterAll(async () => {
  if (Object.keys(gas).length > 0) console.log('VerdictRegistry gas used:', gas);
  await stopChain?.();
});

// ---------------------------------------------------------------------------------------------

async function latestTimestamp(): Promise<number> {
  const block = (await provider.send('eth_getBlockByNumber', ['latest', false])) as { timestamp: string };
  return Number(block.timestamp);
}

/** Mines an empty block at `timestamp`; Ganache keeps counting from there. */
async function mineAt(timestamp: number) {
  await provider.send('evm_mine', [{ timestamp }]);
}

async function blockTimestamp(receipt: TransactionReceipt): Promise<number> {
  const block = await provider.getBlock(receipt.blockNumber);
  return block!.timestamp;
}

async function send(contract: Contract, method: string, ...args: unknown[]): Promise<TransactionReceipt> {
  const tx = await contract.getFunction(method)(...args);
  const receipt = (await tx.wait()) as TransactionReceipt;
  expect(receipt.status).toBe(1);
  return receipt;
}

/**
 * The custom error a transaction or call reverted with. ethers decodes eth_call reverts itself;
 * Ganache 7 answers eth_estimateGas (which ethers runs before every send) with the revert data
 * under `error.data.result`, where ethers 6 does not look, so it is decoded here.
 */
async function revertOf(action: Promise<unknown>): Promise<{ name: string; args: unknown[] }> {
  try {
    await action;
  } catch (error) {
    if (!isCallException(error)) throw error;
    const nested = (error.info as { error?: { data?: { result?: unknown } } } | undefined)?.error?.data?.result;
    const data = error.data ?? (typeof nested === 'string' ? nested : null);
    const parsed = data ? registryInterface.parseError(data) : null;
    if (!parsed) throw error;
    return { name: parsed.name, args: parsed.args.toArray() };
  }
  throw new Error('Expected a revert, but the call succeeded');
}

interface Sealed {
  input: CommitmentInput;
  key: string;
  commitment: string;
  closesAt: number;
  receipt: TransactionReceipt;
}

/** Commits a ruling as the server would: a fresh case, a random salt, closing in `closesIn` s. */
async function seal(side: 'A' | 'B', reasoning: string, opts: { caseId?: string; closesIn?: number } = {}): Promise<Sealed> {
  const caseId = opts.caseId ?? randomUUID();
  const input: CommitmentInput = {
    chainId: BigInt(DEV_CHAIN_ID),
    registryAddress,
    caseId,
    side,
    reasoning,
    salt: randomBytes(32),
  };
  const commitment = computeCommitment(input);
  const closesAt = (await latestTimestamp()) + (opts.closesIn ?? HOUR);
  const key = caseKeyOf(caseId);
  const receipt = await send(registry, 'commit', key, commitment, closesAt);
  return { input, key, commitment, closesAt, receipt };
}

const revealArgs = (s: Sealed, ledgerRoot: string, change: Partial<CommitmentInput> = {}) => {
  const input = { ...s.input, ...change };
  return [s.key, SIDES[input.side], input.reasoning, hexlify(input.salt), ledgerRoot] as const;
};

async function record(key: string) {
  const [commitment, committedAt, closesAt, revealedAt, side, ledgerRoot] = await registry.getFunction('recordOf')(key);
  return { commitment, committedAt, closesAt, revealedAt, side, ledgerRoot };
}

// ---------------------------------------------------------------------------------------------

describe('commit and reveal', () => {
  const reasonings: [string, string][] = [
    ['multi-byte UTF-8', 'café — naïve 🙂'],
    ['a short one', 'ok'],
    ['an empty one', ''],
    ['a 2,000-character one', LONG_REASONING],
  ];

  it.each(reasonings)('accepts the exact commitment of computeCommitment, with %s', async (_, reasoning) => {
    const side = Math.random() < 0.5 ? 'A' : 'B';
    const sealed = await seal(side, reasoning);
    const committedAt = await blockTimestamp(sealed.receipt);
    expect(await registry.getFunction('commitmentOf')(sealed.key)).toBe(sealed.commitment);
    expect(await record(sealed.key)).toEqual({
      commitment: sealed.commitment,
      committedAt: BigInt(committedAt),
      closesAt: BigInt(sealed.closesAt),
      revealedAt: 0n,
      side: 0n,
      ledgerRoot: `0x${'0'.repeat(64)}`,
    });
    const [committed] = sealed.receipt.logs.map((l) => registryInterface.parseLog(l)).filter((l) => l?.name === 'Committed');
    expect(committed?.args.toArray()).toEqual([sealed.key, sealed.commitment, BigInt(sealed.closesAt)]);

    await mineAt(sealed.closesAt);
    const ledgerRoot = randomHex32();
    const receipt = await send(registry, 'reveal', ...revealArgs(sealed, ledgerRoot));
    const revealedAt = await blockTimestamp(receipt);
    expect(revealedAt).toBeGreaterThanOrEqual(sealed.closesAt);
    expect(await record(sealed.key)).toEqual({
      commitment: sealed.commitment,
      committedAt: BigInt(committedAt),
      closesAt: BigInt(sealed.closesAt),
      revealedAt: BigInt(revealedAt),
      side: BigInt(SIDES[side]),
      ledgerRoot,
    });
    const [revealed] = receipt.logs.map((l) => registryInterface.parseLog(l)).filter((l) => l?.name === 'Revealed');
    expect(revealed?.args.toArray()).toEqual([sealed.key, BigInt(SIDES[side]), ledgerRoot]);

    if (reasoning === LONG_REASONING) gas.commit = sealed.receipt.gasUsed;
    gas[`reveal (${reasoning.length} chars, ${Buffer.byteLength(reasoning)} bytes)`] = receipt.gasUsed;
  });

  it('rebuilds the uuid from the key for any bytes, both sides', async () => {
    const edges = [
      '00000000-0000-0000-0000-000000000000',
      '00000000-0000-4000-8000-00000000000a',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      '0a0b0c0d-0e0f-1011-a2b3-c4d5e6f70809',
    ];
    for (const [i, caseId] of edges.entries()) {
      const sealed = await seal(i % 2 === 0 ? 'A' : 'B', `edge ${caseId}`, { caseId });
      await mineAt(sealed.closesAt);
      await send(registry, 'reveal', ...revealArgs(sealed, randomHex32()));
    }
  });

  it('refuses a wrong salt, side or reasoning with CommitmentMismatch(expected, computed)', async () => {
    const sealed = await seal('A', 'café — naïve 🙂');
    await mineAt(sealed.closesAt);
    const root = randomHex32();
    const wrongs: Partial<CommitmentInput>[] = [
      { salt: randomBytes(32) },
      { side: 'B' },
      { reasoning: 'café — naive 🙂' },
      { reasoning: 'café — naïve 🙂 ' },
    ];
    for (const change of wrongs) {
      // The contract reports the hash it computed: it is exactly what computeCommitment gives.
      expect(await revertOf(registry.getFunction('reveal')(...revealArgs(sealed, root, change)))).toEqual({
        name: 'CommitmentMismatch',
        args: [sealed.commitment, computeCommitment({ ...sealed.input, ...change })],
      });
    }
    expect((await record(sealed.key)).side).toBe(0n);
    await send(registry, 'reveal', ...revealArgs(sealed, root));
  });

  it('binds the commitment to this chain and this registry', async () => {
    const caseId = randomUUID();
    const base = { caseId, side: 'A' as const, reasoning: 'bound', salt: randomBytes(32) };
    for (const [i, other] of [
      { chainId: 1n, registryAddress },
      { chainId: BigInt(DEV_CHAIN_ID), registryAddress: Wallet.createRandom().address.toLowerCase() },
    ].entries()) {
      const id = i === 0 ? caseId : randomUUID();
      const key = caseKeyOf(id);
      const foreign = computeCommitment({ ...base, ...other, caseId: id });
      const closesAt = await latestTimestamp();
      await send(registry, 'commit', key, foreign, closesAt + 1);
      await mineAt(closesAt + 1);
      const error = await revertOf(registry.getFunction('reveal')(key, 1, base.reasoning, hexlify(base.salt), randomHex32()));
      expect(error).toEqual({
        name: 'CommitmentMismatch',
        args: [foreign, computeCommitment({ ...base, caseId: id, chainId: BigInt(DEV_CHAIN_ID), registryAddress })],
      });
    }
  });

  it('refuses to reveal before closesAt, and allows it from closesAt on (to the second)', async () => {
    const sealed = await seal('B', 'patience', { closesIn: 10 * HOUR });
    const args = revealArgs(sealed, randomHex32());
    expect(await revertOf(registry.getFunction('reveal')(...args))).toEqual({ name: 'TooEarly', args: [BigInt(sealed.closesAt)] });

    // Ganache mines a paused transaction into the block `evm_mine` makes, at the given timestamp.
    const mineOneAt = async (timestamp: number) => {
      await provider.send('miner_stop', []);
      try {
        const tx = await registry.getFunction('reveal')(...args, { gasLimit: 1_000_000 });
        await mineAt(timestamp);
        return (await provider.getTransactionReceipt(tx.hash))!;
      } finally {
        await provider.send('miner_start', []);
      }
    };
    const early = await mineOneAt(sealed.closesAt - 1);
    expect(early.status).toBe(0);
    expect(await blockTimestamp(early)).toBe(sealed.closesAt - 1);
    const onTime = await mineOneAt(sealed.closesAt);
    expect(onTime.status).toBe(1);
    expect((await record(sealed.key)).revealedAt).toBe(BigInt(sealed.closesAt));
  });

  it('moves past closesAt with evm_increaseTime and evm_mine too', async () => {
    const sealed = await seal('A', 'later', { closesIn: 2 * HOUR });
    await provider.send('evm_increaseTime', [2 * HOUR]);
    await provider.send('evm_mine', []);
    expect(await latestTimestamp()).toBeGreaterThanOrEqual(sealed.closesAt);
    await send(registry, 'reveal', ...revealArgs(sealed, randomHex32()));
  });

  it('refuses a second reveal', async () => {
    const sealed = await seal('A', 'once');
    await mineAt(sealed.closesAt);
    const root = randomHex32();
    await send(registry, 'reveal', ...revealArgs(sealed, root));
    for (const root2 of [root, randomHex32()]) {
      expect(await revertOf(registry.getFunction('reveal')(...revealArgs(sealed, root2)))).toEqual({
        name: 'AlreadyRevealed',
        args: [sealed.key],
      });
    }
    expect((await record(sealed.key)).ledgerRoot).toBe(root);
  });

  it('refuses a side other than 1 or 2, and a case never committed', async () => {
    const sealed = await seal('A', 'sides');
    await mineAt(sealed.closesAt);
    for (const side of [0, 3, 255]) {
      const [key, , reasoning, salt, root] = revealArgs(sealed, randomHex32());
      expect(await revertOf(registry.getFunction('reveal')(key, side, reasoning, salt, root))).toEqual({ name: 'InvalidSide', args: [] });
    }
    const unknown = caseKeyOf(randomUUID());
    expect(await revertOf(registry.getFunction('reveal')(unknown, 1, 'x', randomHex32(), randomHex32()))).toEqual({
      name: 'NotCommitted',
      args: [unknown],
    });
  });
});

describe('commit rules', () => {
  it('refuses a second commitment for a case, even an identical one', async () => {
    const sealed = await seal('A', 'first');
    for (const commitment of [sealed.commitment, randomHex32()]) {
      expect(await revertOf(registry.getFunction('commit')(sealed.key, commitment, sealed.closesAt + 1))).toEqual({
        name: 'AlreadyCommitted',
        args: [sealed.key],
      });
    }
    expect(await registry.getFunction('commitmentOf')(sealed.key)).toBe(sealed.commitment);
  });

  it('refuses a closesAt in the past, accepts one equal to the block time', async () => {
    const now = await latestTimestamp();
    expect(await revertOf(registry.getFunction('commit')(caseKeyOf(randomUUID()), randomHex32(), now - 1))).toEqual({
      name: 'ClosesInPast',
      args: [BigInt(now - 1)],
    });

    const at = now + 100;
    const [past, present] = [caseKeyOf(randomUUID()), caseKeyOf(randomUUID())];
    await provider.send('miner_stop', []);
    let hashes: string[];
    try {
      // Explicit nonces: with the miner stopped, Ganache's pending count misses queued transactions.
      const nonce = await owner.getNonce('pending');
      const a = await registry.getFunction('commit')(past, randomHex32(), at - 1, { gasLimit: 200_000, nonce });
      const b = await registry.getFunction('commit')(present, randomHex32(), at, { gasLimit: 200_000, nonce: nonce + 1 });
      hashes = [a.hash, b.hash];
      await mineAt(at);
    } finally {
      await provider.send('miner_start', []);
    }
    const [failed, ok] = await Promise.all(hashes.map((h) => provider.getTransactionReceipt(h)));
    expect([failed!.status, ok!.status]).toEqual([0, 1]);
    expect(await record(present)).toMatchObject({ committedAt: BigInt(at), closesAt: BigInt(at) });
  });

  it('refuses a zero commitment and a key that is not a padded uuid', async () => {
    const closesAt = (await latestTimestamp()) + HOUR;
    expect(await revertOf(registry.getFunction('commit')(caseKeyOf(randomUUID()), `0x${'0'.repeat(64)}`, closesAt))).toEqual({
      name: 'EmptyCommitment',
      args: [],
    });
    const wide = `0x01${'0'.repeat(30)}${randomUUID().replaceAll('-', '')}`;
    expect(await revertOf(registry.getFunction('commit')(wide, randomHex32(), closesAt))).toEqual({ name: 'InvalidCaseKey', args: [] });
  });

  it('lets only the owner commit and reveal', async () => {
    const asStranger = registry.connect(stranger) as Contract;
    const closesAt = (await latestTimestamp()) + HOUR;
    expect(await revertOf(asStranger.getFunction('commit')(caseKeyOf(randomUUID()), randomHex32(), closesAt))).toEqual({
      name: 'OwnableUnauthorizedAccount',
      args: [stranger.address],
    });
    const sealed = await seal('B', 'mine');
    await mineAt(sealed.closesAt);
    expect(await revertOf(asStranger.getFunction('reveal')(...revealArgs(sealed, randomHex32())))).toEqual({
      name: 'OwnableUnauthorizedAccount',
      args: [stranger.address],
    });
    expect((await record(sealed.key)).side).toBe(0n);
  });
});

describe('verifyLedgerEntry', () => {
  type Entry = [string, string, string, string, bigint];
  const ENCODING = ['bytes32', 'string', 'bytes32', 'string', 'uint256'];

  it('proves entries of the revealed StandardMerkleTree and nothing else', async () => {
    const entries: Entry[] = Array.from({ length: 300 }, (_, i) => [
      randomHex32(),
      `voter ${i} — ${i % 3 === 0 ? 'élu 🙂' : 'plain'}`,
      randomHex32(),
      i % 2 === 0 ? 'A' : 'B',
      BigInt(i) * 10n ** 18n + 7n,
    ]);
    const tree = StandardMerkleTree.of(entries, ENCODING);
    const sealed = await seal('A', 'ledger');
    const verify = (key: string, leaf: string, proof: string[]) =>
      registry.getFunction('verifyLedgerEntry')(key, leaf, proof) as Promise<boolean>;

    const [first] = entries;
    // The leaf is the double keccak of the ABI-encoded values.
    const leaf0 = tree.leafHash(first!);
    expect(leaf0).toBe(keccak256(keccak256(AbiCoder.defaultAbiCoder().encode(ENCODING, first!))));

    // Before the reveal, no root is on chain: nothing is proven.
    expect(await verify(sealed.key, leaf0, tree.getProof(0))).toBe(false);
    expect(await verify(caseKeyOf(randomUUID()), leaf0, tree.getProof(0))).toBe(false);

    await mineAt(sealed.closesAt);
    await send(registry, 'reveal', ...revealArgs(sealed, tree.root));
    expect((await record(sealed.key)).ledgerRoot).toBe(tree.root);

    const all = await Promise.all([...tree.entries()].map(([i, entry]) => verify(sealed.key, tree.leafHash(entry), tree.getProof(i))));
    expect(all).toEqual(entries.map(() => true));

    const proof = tree.getProof(0);
    const tampered: Entry = [first![0], first![1], first![2], first![3], first![4] + 1n];
    expect(await verify(sealed.key, tree.leafHash(tampered), proof)).toBe(false);
    expect(await verify(sealed.key, tree.leafHash([first![0], `${first![1]} `, first![2], first![3], first![4]]), proof)).toBe(false);
    const flipped = [...proof];
    flipped[0] = `${flipped[0]!.slice(0, -1)}${flipped[0]!.endsWith('0') ? '1' : '0'}`;
    expect(await verify(sealed.key, leaf0, flipped)).toBe(false);
    expect(await verify(sealed.key, leaf0, proof.slice(0, -1))).toBe(false);
    expect(await verify(sealed.key, leaf0, [])).toBe(false);
    expect(await verify(sealed.key, leaf0, tree.getProof(1))).toBe(false);
    // As with any Merkle proof, a node of the tree with its path up (the root with an empty one)
    // verifies too: a leaf proves an entry only when hashed from the entry's values, which the
    // double keccak keeps distinct from any inner node.
    expect(await verify(sealed.key, tree.root, [])).toBe(true);

    // Another revealed case, with another ledger, does not prove this one's entries.
    const other = await seal('B', 'another ledger');
    await mineAt(other.closesAt);
    const otherTree = StandardMerkleTree.of(entries.slice(1), ENCODING);
    await send(registry, 'reveal', ...revealArgs(other, otherTree.root));
    expect(await verify(other.key, leaf0, proof)).toBe(false);
    expect(await verify(other.key, otherTree.leafHash(entries[1]!), otherTree.getProof(0))).toBe(true);
  });
});
