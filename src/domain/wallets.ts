import { randomBytes } from 'node:crypto';
import { getAddress, isAddress, verifyMessage } from 'ethers';
import type { Db } from '../db.js';
import { AppError, badInput } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';

export const NONCE_TTL_MS = 10 * 60_000;

export interface SiweContext {
  /** Where the API is served; its host is the EIP-4361 domain. */
  publicUrl: string;
  chainId: bigint | number;
}

/** An EIP-4361 (Sign-In with Ethereum) message carrying a fresh single-use nonce. */
export async function walletChallenge(db: Db, userId: string, address: string, siwe: SiweContext, now = new Date()) {
  if (!isAddress(address)) throw badInput('Not an Ethereum address', 'address');
  const nonce = randomBytes(16).toString('hex');
  const expiresAt = new Date(now.getTime() + NONCE_TTL_MS);
  await db.walletNonce.create({ data: { nonce, userId, expiresAt, createdAt: now } });
  const url = new URL(siwe.publicUrl);
  const message = [
    `${url.host} wants you to sign in with your Ethereum account:`,
    getAddress(address),
    '',
    'Connect this wallet to your Verdict account.',
    '',
    `URI: ${url.origin}`,
    'Version: 1',
    `Chain ID: ${siwe.chainId}`,
    `Nonce: ${nonce}`,
    `Issued At: ${now.toISOString()}`,
    `Expiration Time: ${expiresAt.toISOString()}`,
  ].join('\n');
  return { message, nonce, expiresAt };
}

interface ParsedMessage {
  domain: string;
  address: string;
  nonce: string;
}

function parseMessage(message: string): ParsedMessage | null {
  const lines = message.split('\n');
  const domain = lines[0]?.match(/^(\S+) wants you to sign in with your Ethereum account:$/)?.[1];
  const address = lines[1];
  const nonce = message.match(/^Nonce: ([0-9a-f]{32})$/m)?.[1];
  if (!domain || !address || !isAddress(address) || !nonce) return null;
  return { domain, address, nonce };
}

/**
 * Links the signing wallet to the user. The nonce must be this user's, unused and unexpired; it
 * is spent in the same transaction that links the wallet, so a signature works once.
 */
export async function connectWallet(db: Db, userId: string, message: string, signature: string, siwe: SiweContext, now = new Date()) {
  const parsed = parseMessage(message);
  if (!parsed) throw badInput('Not a Verdict sign-in message', 'message');
  if (parsed.domain !== new URL(siwe.publicUrl).host) throw badInput('The message is for another site', 'message');
  let signer: string;
  try {
    signer = verifyMessage(message, signature);
  } catch {
    throw new AppError('INVALID_SIGNATURE', 'The signature is malformed');
  }
  if (signer !== getAddress(parsed.address)) throw new AppError('INVALID_SIGNATURE', 'The message was not signed by that address');

  try {
    return await db.$transaction(async (tx) => {
      const spent = await tx.walletNonce.updateMany({
        where: { nonce: parsed.nonce, userId, usedAt: null, expiresAt: { gt: now } },
        data: { usedAt: now },
      });
      if (spent.count !== 1) throw badInput('The challenge is unknown, used or expired; ask for a new one', 'message');
      return tx.user.update({ where: { id: userId }, data: { walletAddress: signer } });
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new AppError('WALLET_TAKEN', 'That wallet is linked to another account');
    }
    throw error;
  }
}
