import { createHmac } from 'node:crypto';
import { concat, keccak256 } from 'ethers';
import { caseKeyOf } from '../chain/index.js';

/**
 * The per-case ledger: one leaf per vote and one per reward line, in an OpenZeppelin
 * StandardMerkleTree whose root is revealed on chain with the ruling. Anyone given an entry and
 * its proof can check it with `VerdictRegistry.verifyLedgerEntry` (OpenZeppelin MerkleProof).
 *
 * A leaf is `[caseKey, entry, userKey, detail, value]`:
 * - a vote: `[caseKey, 'vote', userKey, 'A' | 'B', time in Unix milliseconds]`,
 * - a reward: `[caseKey, 'reward', userKey, kind, amount in points]`.
 * Changing this changes every root already on chain: it is a format, not an implementation detail.
 */
export const LEDGER_LEAF_ENCODING = Object.freeze(['bytes32', 'string', 'bytes32', 'string', 'uint256']) as string[];

export type LedgerEntry =
  | { entry: 'vote'; userKey: string; side: 'A' | 'B'; at: Date }
  | { entry: 'reward'; userKey: string; kind: string; amount: number };

export type LedgerLeafValues = [caseKey: string, entry: string, userKey: string, detail: string, value: bigint];

export const LEDGER_SALT_BYTES = 32;
const USER_KEY_TAG = 'verdict-ledger-user-v1:';
const HASH = /^0x[0-9a-fA-F]{64}$/;
const NODE_BYTES = 32;

/** The root of a ledger with no entries (a case can close without votes). */
export const EMPTY_LEDGER_ROOT = `0x${'0'.repeat(64)}`;

/**
 * The pseudonym of a user in one case's ledger. Keyed by the user's secret salt, so only the user
 * and Verdict can link it to the account; bound to the case, so a user's cases cannot be linked
 * to each other through the published ledgers.
 */
export function ledgerUserKey(salt: Uint8Array, caseId: string): string {
  if (salt.length !== LEDGER_SALT_BYTES) throw new Error(`The ledger salt must have ${LEDGER_SALT_BYTES} bytes`);
  return `0x${createHmac('sha256', salt).update(`${USER_KEY_TAG}${caseId.toLowerCase()}`, 'utf8').digest('hex')}`;
}

/** The leaf's values in LEDGER_LEAF_ENCODING order. Throws on a value the encoding cannot hold. */
export function ledgerLeafValues(caseId: string, e: LedgerEntry): LedgerLeafValues {
  if (!HASH.test(e.userKey)) throw new Error(`Not a ledger user key: ${e.userKey}`);
  const userKey = e.userKey.toLowerCase();
  if (e.entry === 'vote') {
    if (e.side !== 'A' && e.side !== 'B') throw new Error(`Not a side: ${String(e.side)}`);
    const ms = e.at.getTime();
    if (!Number.isSafeInteger(ms) || ms < 0) throw new Error(`Not a vote time: ${String(e.at)}`);
    return [caseKeyOf(caseId), 'vote', userKey, e.side, BigInt(ms)];
  }
  if (!Number.isSafeInteger(e.amount) || e.amount < 0) throw new Error(`Not a reward amount: ${e.amount}`);
  return [caseKeyOf(caseId), 'reward', userKey, e.kind, BigInt(e.amount)];
}

/** The leaf as stored in the tree and checked on chain: keccak256(keccak256(abi.encode(values))). */
export function ledgerLeafHash(caseId: string, e: LedgerEntry): string {
  return keccak256(keccak256(encodeLeaf(ledgerLeafValues(caseId, e), new Map())));
}

const nodeAt = (nodes: Buffer, i: number) => nodes.subarray(i * NODE_BYTES, (i + 1) * NODE_BYTES);
/**
 * Keccak-256 in WebAssembly (~1.5 µs a hash here, against 10–40 µs for the JavaScript ones),
 * loaded when the first ledger is built: most processes never build one.
 */
let keccakHasher: Promise<Awaited<ReturnType<typeof import('hash-wasm').createKeccak>>> | undefined;

/** A 32-byte ABI word holding an unsigned integer, big-endian. */
function uintWord(value: bigint): Buffer {
  const word = Buffer.alloc(32);
  word.write(value.toString(16).padStart(64, '0'), 'hex');
  return word;
}

/** `abi.encode` of a UTF-8 string's tail: its length word, then its bytes padded to whole words. */
function stringTail(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([uintWord(BigInt(bytes.length)), bytes, Buffer.alloc((32 - (bytes.length % 32)) % 32)]);
}

/**
 * `abi.encode(bytes32, string, bytes32, string, uint256)` written out for this one layout: five
 * head words (the strings as offsets into the tail), then the two strings. The general encoder
 * costs ~200 µs a leaf; test/ledger.test.ts checks this one against the library, byte for byte.
 * Leaves of one case share everything but the user key and the value, so `templates` keeps the
 * rest per (entry, detail) and a leaf is a copy with those two words written in.
 */
function encodeLeaf([caseKey, entry, userKey, detail, value]: LedgerLeafValues, templates: Map<string, Buffer>): Buffer {
  const shape = `${caseKey}|${entry}|${detail}`;
  let template = templates.get(shape);
  if (!template) {
    const first = stringTail(entry);
    template = Buffer.concat([Buffer.from(caseKey.slice(2), 'hex'), uintWord(5n * 32n), Buffer.alloc(32), uintWord(BigInt(5 * 32 + first.length)), Buffer.alloc(32), first, stringTail(detail)]);
    templates.set(shape, template);
  }
  const encoded = Buffer.from(template);
  encoded.write(userKey.slice(2), 64, 32, 'hex');
  uintWord(value).copy(encoded, 128);
  return encoded;
}

/**
 * Builds the case's ledger: exactly StandardMerkleTree.of(values, LEDGER_LEAF_ENCODING) (leaves
 * double-keccak hashed, sorted, each pair hashed in sorted order), by a faster route than the
 * library's general code (30,000 leaves in well under a second instead of ~8 s); the tests check
 * the nodes are the library's, byte for byte. `nodes` is the tree array (index 0 = root, leaves
 * last, sorted by hash) as concatenated 32-byte hashes: what is stored, so proofs are served
 * without rebuilding the tree. An empty ledger has the root EMPTY_LEDGER_ROOT and no nodes.
 * Equal entries are kept, one leaf each (as the library does): a proof shows that an entry is in
 * the ledger, not how many times.
 */
export async function buildLedger(caseId: string, entries: LedgerEntry[]): Promise<{ root: string; leafCount: number; nodes: Buffer }> {
  if (entries.length === 0) return { root: EMPTY_LEDGER_ROOT, leafCount: 0, nodes: Buffer.alloc(0) };
  keccakHasher ??= import('hash-wasm').then((m) => m.createKeccak(256));
  const hasher = await keccakHasher;
  const keccak = (data: Uint8Array) => {
    hasher.init();
    hasher.update(data);
    return Buffer.from(hasher.digest('binary'));
  };
  const templates = new Map<string, Buffer>();
  const leaves = entries.map((e) => keccak(keccak(encodeLeaf(ledgerLeafValues(caseId, e), templates))));
  leaves.sort(Buffer.compare);
  const size = 2 * leaves.length - 1;
  const nodes = Buffer.alloc(size * NODE_BYTES);
  leaves.forEach((leaf, i) => leaf.copy(nodes, (size - 1 - i) * NODE_BYTES));
  for (let i = size - 1 - leaves.length; i >= 0; i--) {
    const left = nodeAt(nodes, 2 * i + 1);
    const right = nodeAt(nodes, 2 * i + 2);
    const pair = Buffer.compare(left, right) <= 0 ? [left, right] : [right, left];
    keccak(Buffer.concat(pair)).copy(nodes, i * NODE_BYTES);
  }
  return { root: `0x${nodeAt(nodes, 0).toString('hex')}`, leafCount: leaves.length, nodes };
}

/**
 * The proof of a leaf from a stored ledger, as `tree.getProof` gives it: sibling hashes from the
 * leaf up, the root excluded. The library puts the sorted leaves at the end of the array in
 * reverse (the smallest last), so a binary search finds it. Of equal leaves it picks the one the
 * library placed for the first of them in input order. Null when the hash is not a leaf here.
 */
export function ledgerProof(nodes: Buffer, leafCount: number, leafHash: string): { proof: string[]; treeIndex: number } | null {
  const size = leafCount === 0 ? 0 : 2 * leafCount - 1;
  if (!Number.isSafeInteger(leafCount) || leafCount < 0 || nodes.length !== size * NODE_BYTES) {
    throw new Error(`A ledger of ${leafCount} leaves cannot have ${nodes.length} bytes of nodes`);
  }
  if (!HASH.test(leafHash)) throw new Error(`Not a leaf hash: ${leafHash}`);
  const target = Buffer.from(leafHash.slice(2), 'hex');
  // Lower bound over sorted positions 0…leafCount-1; position p is at tree index size - 1 - p.
  let low = 0;
  let high = leafCount;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (Buffer.compare(nodeAt(nodes, size - 1 - mid), target) < 0) low = mid + 1;
    else high = mid;
  }
  if (low === leafCount || !nodeAt(nodes, size - 1 - low).equals(target)) return null;
  const treeIndex = size - 1 - low;
  const proof: string[] = [];
  for (let i = treeIndex; i > 0; i = (i - 1) >> 1) {
    // A left child has an odd index, its sibling is on its right.
    proof.push(`0x${nodeAt(nodes, i % 2 === 1 ? i + 1 : i - 1).toString('hex')}`);
  }
  return { proof, treeIndex };
}

/**
 * Whether the entry is in the ledger with this root, hashing the leaf from the entry's values
 * (a bare leaf hash would also let an inner node pass). False for a malformed proof.
 */
export function verifyLedgerProof(root: string, caseId: string, e: LedgerEntry, proof: string[]): boolean {
  if (!HASH.test(root) || !proof.every((node) => HASH.test(node))) return false;
  // Up the tree as OpenZeppelin's MerkleProof does: each pair hashed in sorted order.
  const top = proof.reduce((hash, sibling) => {
    const [a, b] = [hash.toLowerCase(), sibling.toLowerCase()].sort();
    return keccak256(concat([a!, b!]));
  }, ledgerLeafHash(caseId, e));
  return top === root.toLowerCase();
}
