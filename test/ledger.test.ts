import { createHash, createHmac } from 'node:crypto';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { AbiCoder, hexlify, keccak256 } from 'ethers';
import { describe, expect, it } from 'vitest';
import { caseKeyOf } from '../src/chain/index.js';
import {
  EMPTY_LEDGER_ROOT,
  LEDGER_LEAF_ENCODING,
  buildLedger,
  ledgerLeafHash,
  ledgerLeafValues,
  ledgerProof,
  ledgerUserKey,
  verifyLedgerProof,
  type LedgerEntry,
  type LedgerLeafValues,
} from '../src/domain/ledger.js';

const CASE = '3f1c2a4e-9b7d-4e21-8c55-2d9f0a6b7c10';
const OTHER_CASE = '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d';
const KINDS = ['WINNING_VOTE', 'TOP_ARGUMENT', 'PARTICIPATION', 'CREATOR'];

/** Deterministic pseudo-random bytes (SHA-256 of a seed and a counter), so a failure replays. */
function seeded(seed: string) {
  let counter = 0;
  const bytes = () => createHash('sha256').update(`${seed}:${counter++}`).digest();
  return {
    bytes,
    int: (below: number) => bytes().readUInt32BE(0) % below,
  };
}

function randomEntries(seed: string, votes: number, rewards: number, caseId = CASE): LedgerEntry[] {
  const rng = seeded(seed);
  const users = Array.from({ length: Math.max(1, votes) }, () => ledgerUserKey(rng.bytes(), caseId));
  const entries: LedgerEntry[] = [];
  for (let i = 0; i < votes; i++) {
    entries.push({ entry: 'vote', userKey: users[i]!, side: rng.int(2) ? 'A' : 'B', at: new Date(1_760_000_000_000 + rng.int(86_400_000)) });
  }
  for (let i = 0; i < rewards; i++) {
    const kind = KINDS[rng.int(KINDS.length)]!;
    entries.push({ entry: 'reward', userKey: users[rng.int(users.length)]!, kind, amount: 1 + rng.int(1000) });
  }
  return entries;
}

const libraryTree = (caseId: string, entries: LedgerEntry[]) =>
  StandardMerkleTree.of(
    entries.map((e) => ledgerLeafValues(caseId, e)),
    LEDGER_LEAF_ENCODING,
  );

const hex = (n: string | Uint8Array | readonly number[]) => (typeof n === 'string' ? n : hexlify(Uint8Array.from(n)));

const nodesOf = (tree: StandardMerkleTree<LedgerLeafValues>) => Buffer.concat(tree.dump().tree.map((h) => Buffer.from(h.slice(2), 'hex')));

/** The entry with one field changed, whichever kind it is. */
function tampered(e: LedgerEntry): LedgerEntry[] {
  const otherUser = `0x${'ab'.repeat(32)}`;
  if (e.entry === 'vote') {
    return [
      { ...e, side: e.side === 'A' ? 'B' : 'A' },
      { ...e, at: new Date(e.at.getTime() + 1) },
      { ...e, userKey: otherUser },
      { entry: 'reward', userKey: e.userKey, kind: e.side, amount: e.at.getTime() },
    ];
  }
  return [
    { ...e, amount: e.amount + 1 },
    { ...e, kind: e.kind === 'CREATOR' ? 'PARTICIPATION' : 'CREATOR' },
    { ...e, userKey: otherUser },
  ];
}

describe('ledgerUserKey', () => {
  const salt = Uint8Array.from({ length: 32 }, (_, i) => i);

  it('is the HMAC-SHA256 of the tagged, lower-case case id under the salt', async () => {
    const expected = createHmac('sha256', Buffer.from(salt)).update(`verdict-ledger-user-v1:${CASE}`).digest('hex');
    expect(ledgerUserKey(salt, CASE)).toBe(`0x${expected}`);
    expect(ledgerUserKey(salt, CASE.toUpperCase())).toBe(`0x${expected}`);
    expect(ledgerUserKey(salt, CASE)).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('is deterministic, and differs per case and per salt', async () => {
    const otherSalt = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
    expect(ledgerUserKey(salt, CASE)).toBe(ledgerUserKey(Uint8Array.from(salt), CASE));
    expect(ledgerUserKey(salt, OTHER_CASE)).not.toBe(ledgerUserKey(salt, CASE));
    expect(ledgerUserKey(otherSalt, CASE)).not.toBe(ledgerUserKey(salt, CASE));
  });

  it('refuses a salt that is not 32 bytes', async () => {
    expect(() => ledgerUserKey(new Uint8Array(16), CASE)).toThrow(/32 bytes/);
  });
});

describe('ledger leaves', () => {
  const vote: LedgerEntry = { entry: 'vote', userKey: `0x${'11'.repeat(32)}`, side: 'A', at: new Date(1_760_000_000_123) };
  const reward: LedgerEntry = { entry: 'reward', userKey: `0x${'22'.repeat(32)}`, kind: 'TOP_ARGUMENT', amount: 40 };

  it('are [caseKey, entry, userKey, detail, value]', async () => {
    expect(ledgerLeafValues(CASE, vote)).toEqual([caseKeyOf(CASE), 'vote', vote.userKey, 'A', 1_760_000_000_123n]);
    expect(ledgerLeafValues(CASE, reward)).toEqual([caseKeyOf(CASE), 'reward', reward.userKey, 'TOP_ARGUMENT', 40n]);
    expect(ledgerLeafValues(CASE, { ...vote, userKey: vote.userKey.toUpperCase().replace('0X', '0x') })[2]).toBe(vote.userKey);
  });

  it('hash as Solidity would: keccak256(bytes.concat(keccak256(abi.encode(...))))', async () => {
    for (const e of [vote, reward]) {
      const encoded = AbiCoder.defaultAbiCoder().encode(LEDGER_LEAF_ENCODING, ledgerLeafValues(CASE, e));
      expect(ledgerLeafHash(CASE, e)).toBe(keccak256(keccak256(encoded)));
    }
  });

  it('refuse values the encoding cannot hold', async () => {
    expect(() => ledgerLeafValues(CASE, { ...vote, userKey: '0x1234' })).toThrow(/user key/);
    expect(() => ledgerLeafValues(CASE, { ...vote, at: new Date(Number.NaN) })).toThrow(/vote time/);
    expect(() => ledgerLeafValues(CASE, { ...reward, amount: -1 })).toThrow(/amount/);
    expect(() => ledgerLeafValues(CASE, { ...reward, amount: 1.5 })).toThrow(/amount/);
    expect(() => ledgerLeafValues('not-a-uuid', reward)).toThrow(/uuid/);
  });
});

describe('buildLedger and ledgerProof', () => {
  it('serve, from the stored nodes, the proofs the library gives, and nothing else verifies', async () => {
    const entries = randomEntries('random', 120, 240);
    const ledger = await buildLedger(CASE, entries);
    const tree = libraryTree(CASE, entries);
    expect(ledger.root).toBe(tree.root);
    expect(ledger.leafCount).toBe(entries.length);
    expect(ledger.nodes.equals(nodesOf(tree))).toBe(true);

    const proofs = entries.map((e, i) => {
      const found = ledgerProof(ledger.nodes, ledger.leafCount, ledgerLeafHash(CASE, e));
      expect(found).not.toBeNull();
      expect(found!.treeIndex).toBe(tree.dump().values[i]!.treeIndex);
      expect(found!.proof).toEqual(tree.getProof(i));
      expect(verifyLedgerProof(ledger.root, CASE, e, found!.proof)).toBe(true);
      return found!.proof;
    });

    entries.forEach((e, i) => {
      for (const changed of tampered(e)) expect(verifyLedgerProof(ledger.root, CASE, changed, proofs[i]!)).toBe(false);
      expect(verifyLedgerProof(ledger.root, CASE, e, proofs[(i + 1) % entries.length]!)).toBe(false);
      expect(verifyLedgerProof(ledger.root, OTHER_CASE, e, proofs[i]!)).toBe(false);
    });
  });

  it('finds only leaves: not an absent entry, nor an inner node', async () => {
    const entries = randomEntries('absent', 10, 20);
    const ledger = await buildLedger(CASE, entries);
    const absent: LedgerEntry = { entry: 'reward', userKey: `0x${'ab'.repeat(32)}`, kind: 'CREATOR', amount: 5 };
    expect(ledgerProof(ledger.nodes, ledger.leafCount, ledgerLeafHash(CASE, absent))).toBeNull();
    expect(ledgerProof(ledger.nodes, ledger.leafCount, ledger.root)).toBeNull();
    expect(ledgerProof(ledger.nodes, ledger.leafCount, `0x${'00'.repeat(32)}`)).toBeNull();
    expect(ledgerProof(ledger.nodes, ledger.leafCount, `0x${'ff'.repeat(32)}`)).toBeNull();
    expect(() => ledgerProof(ledger.nodes, ledger.leafCount + 1, ledger.root)).toThrow(/cannot have/);
  });

  it('keeps equal entries, one leaf each, every one provable', async () => {
    const [a, b, c] = randomEntries('duplicates', 2, 1);
    const entries = [a!, b!, a!, c!, a!, b!];
    const ledger = await buildLedger(CASE, entries);
    const tree = libraryTree(CASE, entries);
    expect(ledger.leafCount).toBe(6);
    expect(ledger.root).toBe(tree.root);
    entries.forEach((e, i) => {
      expect(verifyLedgerProof(ledger.root, CASE, e, tree.getProof(i))).toBe(true);
      const found = ledgerProof(ledger.nodes, ledger.leafCount, ledgerLeafHash(CASE, e))!;
      expect(verifyLedgerProof(ledger.root, CASE, e, found.proof)).toBe(true);
      // The first of the equal entries, in input order.
      expect(found.proof).toEqual(tree.getProof(entries.indexOf(e)));
    });
  });

  it('handles 0, 1, 2 and 3 entries', async () => {
    const empty = await buildLedger(CASE, []);
    expect(empty).toEqual({ root: EMPTY_LEDGER_ROOT, leafCount: 0, nodes: Buffer.alloc(0) });
    const someEntry = randomEntries('edge', 1, 0)[0]!;
    expect(ledgerProof(empty.nodes, 0, ledgerLeafHash(CASE, someEntry))).toBeNull();
    expect(verifyLedgerProof(empty.root, CASE, someEntry, [])).toBe(false);

    for (const size of [1, 2, 3]) {
      const entries = randomEntries(`edge-${size}`, 1, size - 1);
      const ledger = await buildLedger(CASE, entries);
      const tree = libraryTree(CASE, entries);
      expect(ledger.root).toBe(tree.root);
      expect(ledger.nodes.length).toBe((2 * size - 1) * 32);
      entries.forEach((e, i) => {
        const found = ledgerProof(ledger.nodes, ledger.leafCount, ledgerLeafHash(CASE, e))!;
        expect(found.proof).toEqual(tree.getProof(i));
        expect(found.proof).toHaveLength(Math.floor(Math.log2(found.treeIndex + 1)));
        expect(verifyLedgerProof(ledger.root, CASE, e, found.proof)).toBe(true);
      });
    }
    const [single] = randomEntries('edge-1', 1, 0);
    expect((await buildLedger(CASE, [single!])).root).toBe(ledgerLeafHash(CASE, single!));
  });

  it('rejects a malformed root or proof instead of throwing', async () => {
    const entries = randomEntries('malformed', 2, 2);
    const ledger = await buildLedger(CASE, entries);
    const { proof } = ledgerProof(ledger.nodes, ledger.leafCount, ledgerLeafHash(CASE, entries[0]!))!;
    expect(verifyLedgerProof(ledger.root.toUpperCase().replace('0X', '0x'), CASE, entries[0]!, proof)).toBe(true);
    expect(verifyLedgerProof('0x1234', CASE, entries[0]!, proof)).toBe(false);
    expect(verifyLedgerProof(ledger.root, CASE, entries[0]!, [...proof.slice(1), '0x12'])).toBe(false);
  });
});

describe('closure-size ledger', () => {
  const entries = randomEntries('closure', 10_000, 20_000);
  const timed = async <T>(f: () => T | Promise<T>): Promise<[T, string]> => {
    const started = performance.now();
    const result = await f();
    return [result, `${(performance.now() - started).toFixed(0)} ms`];
  };

  it('builds 10,000 votes + 20,000 rewards (timing reported, not asserted)', async () => {
    const [ledger, buildTime] = await timed(() => buildLedger(CASE, entries));
    const [found, proofTime] = await timed(() => ledgerProof(ledger.nodes, ledger.leafCount, ledgerLeafHash(CASE, entries[12_345]!)));
    console.log(`ledger of ${entries.length} entries: buildLedger ${buildTime}, one proof from the nodes ${proofTime}, nodes ${ledger.nodes.length} bytes`);
    expect(verifyLedgerProof(ledger.root, CASE, entries[12_345]!, found!.proof)).toBe(true);
  });
});
