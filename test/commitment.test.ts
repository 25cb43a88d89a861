import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commitmentPreimage, computeCommitment, newSalt, type CommitmentInput } from '../src/domain/commitment.js';

const input: CommitmentInput = {
  chainId: 1337n,
  registryAddress: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  caseId: '3f1c2a4e-9b7d-4e21-8c55-2d9f0a6b7c10',
  side: 'B',
  reasoning: 'Returning the wallet respects the owner — and “finders keepers” is not a rule.',
  salt: Uint8Array.from({ length: 32 }, (_, i) => i),
};

describe('commitment', () => {
  it('is the SHA-256 any tool computes over the documented netstrings', () => {
    const preimage = commitmentPreimage(input);
    expect(preimage).toBe(
      '21:verdict-commitment-v1,4:1337,42:0x5fbdb2315678afecb367f032d93f642f64180aa3,' +
        '36:3f1c2a4e-9b7d-4e21-8c55-2d9f0a6b7c10,1:B,' +
        `${Buffer.byteLength(input.reasoning)}:${input.reasoning},` +
        '66:0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f,',
    );
    const external = execFileSync('sha256sum', { input: Buffer.from(preimage, 'utf8') }).toString().split(' ')[0];
    expect(computeCommitment(input)).toBe(`0x${external}`);
  });

  it('changes with every field', () => {
    const base = computeCommitment(input);
    const variants: Partial<CommitmentInput>[] = [
      { chainId: 1n },
      { registryAddress: '0x0000000000000000000000000000000000000001' },
      { caseId: '3f1c2a4e-9b7d-4e21-8c55-2d9f0a6b7c11' },
      { side: 'A' },
      { reasoning: `${input.reasoning} ` },
      { salt: newSalt() },
    ];
    for (const variant of variants) expect(computeCommitment({ ...input, ...variant })).not.toBe(base);
  });

  it('cannot be matched by moving text between fields', () => {
    const a = commitmentPreimage({ ...input, side: 'A', reasoning: 'B,1:x' });
    const b = commitmentPreimage({ ...input, side: 'A', reasoning: 'B' });
    expect(a).not.toBe(b);
    expect(computeCommitment({ ...input, reasoning: 'x' })).not.toBe(computeCommitment({ ...input, reasoning: 'x,' }));
  });

  it('refuses a salt that is not 32 bytes', () => {
    expect(() => computeCommitment({ ...input, salt: new Uint8Array(31) })).toThrow(/32 bytes/);
  });
});
