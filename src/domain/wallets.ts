import { randomBytes } from 'node:crypto';
import { getAddress, isAddress } from 'ethers';
import type { SiweMessage } from 'siwe';
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
    STATEMENT,
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

const STATEMENT = 'Connect this wallet to your Verdict account.';
/** How far a wallet's clock may run ahead of ours in `Issued At`. */
const CLOCK_SKEW_MS = 60_000;

/**
 * Links the signing wallet to the user. The whole EIP-4361 message is parsed and checked (the
 * `siwe` package): domain, URI, version, chain id, statement, issued-at, expiration and
 * not-before, and the signature. The nonce must be this user's, unused and unexpired; it is spent
 * in the same transaction that links the wallet, so a signature works once.
 */
export async function connectWallet(db: Db, userId: string, message: string, signature: string, siwe: SiweContext, now = new Date()) {
  // Loaded on the first wallet sign-in, not at start-up (it weighs as much as a third of an idle server's heap growth).
  const { SiweErrorType, SiweMessage: Message } = await import('siwe');
  let parsed: SiweMessage;
  try {
    parsed = new Message(message);
  } catch {
    throw badInput('Not an EIP-4361 sign-in message', 'message');
  }
  const url = new URL(siwe.publicUrl);
  if (parsed.domain !== url.host) throw badInput('The message is for another site', 'message');
  if (parsed.uri !== url.origin) throw badInput('The message is for another URI', 'message');
  if (parsed.version !== '1') throw badInput('Only version 1 sign-in messages are accepted', 'message');
  if (String(parsed.chainId) !== String(siwe.chainId)) throw badInput('The message is for another chain', 'message');
  if (parsed.statement !== STATEMENT) throw badInput('The message does not say what it is for', 'message');
  const issuedAt = Date.parse(parsed.issuedAt ?? '');
  if (!(issuedAt <= now.getTime() + CLOCK_SKEW_MS) || issuedAt < now.getTime() - NONCE_TTL_MS) {
    throw badInput('The message was not issued for this challenge (Issued At)', 'message');
  }
  // 65 bytes: r, s, v. The library would print a stack trace for anything else.
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) throw new AppError('INVALID_SIGNATURE', 'The signature is malformed');
  const verified = await parsed.verify({ signature, domain: url.host, nonce: parsed.nonce, time: now.toISOString() }, { suppressExceptions: true });
  if (!verified.success) {
    const type = verified.error?.type;
    if (type === SiweErrorType.EXPIRED_MESSAGE) throw badInput('The message has expired', 'message');
    if (type === SiweErrorType.NOT_YET_VALID_MESSAGE) throw badInput('The message is not valid yet (Not Before)', 'message');
    throw new AppError('INVALID_SIGNATURE', 'The message was not signed by that address');
  }
  const signer = getAddress(parsed.address);

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

/**
 * Unlinks the user's wallet. Rewards made while it was linked are still paid to it (each keeps
 * the address it was made for); rewards made later are credited off-chain until another is linked.
 */
export async function disconnectWallet(db: Db, userId: string) {
  const unlinked = await db.user.updateMany({ where: { id: userId, walletAddress: { not: null } }, data: { walletAddress: null } });
  if (unlinked.count !== 1) throw new AppError('NO_WALLET', 'No wallet is linked to this account');
  return db.user.findUniqueOrThrow({ where: { id: userId } });
}
