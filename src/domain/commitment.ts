import { createHash, randomBytes } from 'node:crypto';

/**
 * What the commitment binds: a ruling to one case on one registry of one chain. The salt is
 * what hides the ruling: without it, a hash of "A" or "B" is guessed in two tries.
 */
export interface CommitmentInput {
  chainId: bigint;
  registryAddress: string;
  caseId: string;
  side: 'A' | 'B';
  reasoning: string;
  salt: Uint8Array;
}

export const COMMITMENT_TAG = 'verdict-commitment-v1';
export const SALT_BYTES = 32;

export const newSalt = (): Uint8Array<ArrayBuffer> => new Uint8Array(randomBytes(SALT_BYTES));

const hex = (bytes: Uint8Array) => `0x${Buffer.from(bytes).toString('hex')}`;

/** A netstring: `<byte length>:<bytes>,` — no field can run into the next. */
const netstring = (text: string) => `${Buffer.byteLength(text, 'utf8')}:${text},`;

/**
 * The exact bytes that are hashed (documented in the README, "Verifying a ruling"): seven
 * netstrings of UTF-8 text, concatenated.
 */
export function commitmentPreimage(input: CommitmentInput): string {
  if (input.salt.length !== SALT_BYTES) throw new Error(`The salt must have ${SALT_BYTES} bytes`);
  return [
    COMMITMENT_TAG,
    input.chainId.toString(10),
    input.registryAddress.toLowerCase(),
    input.caseId.toLowerCase(),
    input.side,
    input.reasoning,
    hex(input.salt),
  ]
    .map(netstring)
    .join('');
}

/** SHA-256 of the preimage, 0x-prefixed lower-case hex (the bytes32 stored on chain). */
export function computeCommitment(input: CommitmentInput): string {
  return `0x${createHash('sha256').update(commitmentPreimage(input), 'utf8').digest('hex')}`;
}
