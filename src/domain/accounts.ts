import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { AppError, badInput } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { COMMON_PASSWORDS } from './common-passwords.js';
import type { Mailer } from './mail.js';
import { dummyHash, hashPassword, verifyPassword } from './passwords.js';
import { revokeSessions } from './sessions.js';

export const HANDLE_PATTERN = /^[a-z0-9_]{3,32}$/;
export const PASSWORD_MIN = 10;
// scrypt cost grows with input; nobody needs a longer password than this.
export const PASSWORD_MAX = 256;

export interface Credentials {
  handle: string;
  password: string;
}

export const normalizeHandle = (handle: string) => handle.trim().toLowerCase();

const isAdminHandle = (config: Config, handle: string) => config.ADMIN_HANDLES.includes(handle);

export async function signUp(db: Db, config: Config, input: Credentials, now = new Date()) {
  const handle = normalizeHandle(input.handle);
  if (!HANDLE_PATTERN.test(handle)) {
    throw badInput('A handle is 3–32 characters of a–z, 0–9 and _', 'handle');
  }
  if (handle.startsWith(TOMBSTONE_PREFIX)) throw badInput(`Handles starting with ${TOMBSTONE_PREFIX} name deleted accounts`, 'handle');
  checkPasswordStrength(input.password, handle);
  const passwordHash = await hashPassword(input.password);
  const betaOpen = config.BETA_SIGNUPS_UNTIL !== undefined && now < config.BETA_SIGNUPS_UNTIL;
  try {
    return await db.user.create({
      data: { handle, passwordHash, role: isAdminHandle(config, handle) ? 'ADMIN' : 'USER', isBetaUser: betaOpen },
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new AppError('HANDLE_TAKEN', 'That handle is taken', { field: 'handle' });
    }
    throw error;
  }
}

/** Wrong password and unknown handle fail alike, in about the same time. */
export async function signIn(db: Db, config: Config, input: Credentials) {
  const handle = normalizeHandle(input.handle);
  const user = await db.user.findUnique({ where: { handle } });
  const valid = user
    ? await verifyPassword(input.password, user.passwordHash)
    : await verifyPassword(input.password, await dummyHash()).then(() => false);
  if (!user || !valid) throw new AppError('INVALID_CREDENTIALS', 'Wrong handle or password');
  if (user.role !== 'ADMIN' && isAdminHandle(config, handle)) {
    return db.user.update({ where: { id: user.id }, data: { role: 'ADMIN' } });
  }
  return user;
}

/** Makes an existing user an admin (the `npm run admin -- <handle>` command). */
export async function promoteToAdmin(db: Db, handle: string) {
  const updated = await db.user.updateMany({ where: { handle: normalizeHandle(handle) }, data: { role: 'ADMIN' } });
  if (updated.count === 0) throw new AppError('NOT_FOUND', `No user with the handle ${normalizeHandle(handle)}`);
}

/**
 * A password is 10–256 characters, not one of the most common leaked passwords (a list shipped
 * with Verdict), not one character repeated, and does not contain the handle.
 */
export function checkPasswordStrength(password: string, handle: string, field = 'password'): void {
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    throw new AppError('WEAK_PASSWORD', `A password has ${PASSWORD_MIN}–${PASSWORD_MAX} characters`, { field });
  }
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower) || COMMON_PASSWORDS.has(lower.replace(/\s+/g, ''))) {
    throw new AppError('WEAK_PASSWORD', 'That password is one of the most common ones; choose another', { field });
  }
  if (new Set(lower).size <= 2) throw new AppError('WEAK_PASSWORD', 'A password needs more than two different characters', { field });
  if (handle && lower.includes(handle.toLowerCase())) throw new AppError('WEAK_PASSWORD', 'A password must not contain the handle', { field });
}

/** Changes the password after checking the current one; every other session of the user ends. */
export async function changePassword(db: Db, userId: string, sessionId: string, current: string, next: string, now = new Date()): Promise<string[]> {
  const user = await db.user.findUniqueOrThrow({ where: { id: userId }, select: { handle: true, passwordHash: true } });
  if (!(await verifyPassword(current, user.passwordHash))) throw new AppError('INVALID_CREDENTIALS', 'The current password is wrong', { field: 'current' });
  checkPasswordStrength(next, user.handle, 'next');
  const passwordHash = await hashPassword(next);
  return db.$transaction(async (tx) => {
    await tx.user.update({ where: { id: userId }, data: { passwordHash } });
    return revokeSessions(tx as Db, userId, { except: sessionId }, now);
  });
}

export const RESET_TTL_MS = 30 * 60_000;
export const RESETS_PER_HOUR = 3;
const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Mails a one-time reset token (valid 30 minutes) to every account whose VERIFIED address this
 * is. The caller learns nothing: the same answer, in about the same time, whether or not such an
 * account exists (the message is sent in the background).
 */
export async function requestPasswordReset(db: Db, mailer: Mailer, log: Logger, email: string, now = new Date()): Promise<void> {
  const address = email.trim();
  if (address.length > 254) return;
  const accounts = await db.userEmail.findMany({ where: { address, verifiedAt: { not: null } }, select: { userId: true } });
  // At most RESETS_PER_HOUR messages per account: nobody can flood an inbox through this.
  const recent = await db.passwordReset.groupBy({
    by: ['userId'],
    where: { userId: { in: accounts.map((a) => a.userId) }, createdAt: { gt: new Date(now.getTime() - 3600_000) } },
    _count: true,
  });
  const saturated = new Set(recent.filter((r) => r._count >= RESETS_PER_HOUR).map((r) => r.userId));
  const tokens = await Promise.all(
    accounts.filter((a) => !saturated.has(a.userId)).map(async ({ userId }) => {
      const token = randomBytes(32).toString('base64url');
      await db.passwordReset.create({ data: { userId, tokenHash: tokenHash(token), createdAt: now, expiresAt: new Date(now.getTime() + RESET_TTL_MS) } });
      return token;
    }),
  );
  for (const token of tokens) {
    void mailer
      .send({
        to: address,
        subject: 'Reset your Verdict password',
        text:
          `Someone (we hope you) asked to reset the password of your Verdict account.\n\n` +
          `Your reset token: ${token}\n\nUse it within 30 minutes with the resetPassword mutation; it works once. ` +
          `Every session of the account ends when it is used. If you did not ask for it, ignore this message.\n`,
      })
      .catch((error: unknown) => log.warn({ err: error }, 'a password reset message was not sent'));
  }
}

/** Sets a new password with a reset token (once, within 30 minutes); every session of the user ends. */
export async function resetPassword(db: Db, token: string, next: string, now = new Date()): Promise<{ userId: string; revoked: string[] }> {
  const invalid = () => new AppError('INVALID_RESET_TOKEN', 'This reset token is unknown, used or expired; ask for a new one', { field: 'token' });
  if (token.length > 128) throw invalid();
  const reset = await db.passwordReset.findUnique({ where: { tokenHash: tokenHash(token) }, include: { user: { select: { handle: true } } } });
  if (!reset || reset.usedAt || reset.expiresAt <= now) throw invalid();
  checkPasswordStrength(next, reset.user.handle, 'password');
  const passwordHash = await hashPassword(next);
  return db.$transaction(async (tx) => {
    // Spent in the transaction that uses it: two concurrent uses cannot both win.
    const spent = await tx.passwordReset.updateMany({ where: { id: reset.id, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
    if (spent.count !== 1) throw invalid();
    await tx.user.update({ where: { id: reset.userId }, data: { passwordHash } });
    return { userId: reset.userId, revoked: await revokeSessions(tx as Db, reset.userId, {}, now) };
  });
}

/** Deleted accounts' handles: `deleted_` and 12 hex digits. */
export const TOMBSTONE_PREFIX = 'deleted_';
/** Argument text of a deleted account, unless its case closed and it placed (others' results cite it). */
export const DELETED_TEXT = '[deleted]';

/**
 * Deletes an account after checking its password. Personal data is erased: the handle becomes a
 * tombstone, the password hash, e-mail (and the digests sent to it), sessions, reset tokens,
 * wallet link and nonces, notifications and their settings go. What other people's results
 * depend on stays, anonymous: votes, arguments (their text erased unless the case closed and the
 * argument placed), upvotes, rewards, settlements, badges and points, so every closed case still
 * adds up, every published ledger proof still verifies and the leaderboards keep their totals.
 * Returns the sessions that ended.
 */
export async function deleteAccount(db: Db, userId: string, password: string, now = new Date()): Promise<{ tombstone: string; revoked: string[] }> {
  const user = await db.user.findUniqueOrThrow({ where: { id: userId }, select: { passwordHash: true, deletedAt: true } });
  if (user.deletedAt || !(await verifyPassword(password, user.passwordHash))) {
    throw new AppError('INVALID_CREDENTIALS', 'The password is wrong', { field: 'password' });
  }
  const tombstone = `${TOMBSTONE_PREFIX}${randomBytes(6).toString('hex')}`;
  return db.$transaction(async (tx) => {
    const sessions = await tx.session.findMany({ where: { userId, revokedAt: null, expiresAt: { gt: now } }, select: { id: true } });
    await tx.user.update({
      where: { id: userId },
      data: { handle: tombstone, passwordHash: '!deleted', walletAddress: null, role: 'USER', deletedAt: now },
    });
    await tx.$executeRaw`UPDATE leaderboard_points SET handle = ${tombstone} WHERE user_id = ${userId}::uuid`;
    await tx.$executeRaw`UPDATE arguments a SET body = ${DELETED_TEXT}
      WHERE a.user_id = ${userId}::uuid AND NOT (a.top_rank IS NOT NULL AND EXISTS (SELECT 1 FROM cases c WHERE c.id = a.case_id AND c.status = 'CLOSED'))`;
    await tx.session.deleteMany({ where: { userId } });
    await tx.passwordReset.deleteMany({ where: { userId } });
    await tx.walletNonce.deleteMany({ where: { userId } });
    await tx.notification.deleteMany({ where: { userId } });
    await tx.notificationSettings.deleteMany({ where: { userId } });
    await tx.emailDelivery.deleteMany({ where: { userId } });
    await tx.userEmail.deleteMany({ where: { userId } });
    return { tombstone, revoked: sessions.map((s) => s.id) };
  });
}
