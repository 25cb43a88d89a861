import { createHash, createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { AppError, badInput } from '../errors.js';

/** Sends one message; rejects when the SMTP server did not accept it. */
export interface Mailer {
  send(message: { to: string; subject: string; text: string; headers?: Record<string, string> }): Promise<void>;
  close(): void;
}

/** SMTP_URL's server through nodemailer, or null when e-mail is not configured. */
export function createMailer(config: Config): Mailer | null {
  const url = config.SMTP_URL;
  if (!url) return null;
  // nodemailer is loaded with the first message, not at start-up.
  let transport: Promise<Transporter> | undefined;
  return {
    async send({ to, subject, text, headers }) {
      transport ??= import('nodemailer').then((m) => m.default.createTransport(url));
      await (await transport).sendMail({ from: config.MAIL_FROM, to, subject, text, headers });
    },
    close: () => void transport?.then((t) => t.close()),
  };
}

const CODE_TTL_MS = 3600_000;
const MAX_CODE_ATTEMPTS = 5;
// Deliberately simple: one @, no spaces, a dot in the domain. The code sent to it is the real check.
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;

const codeHash = (userId: string, code: string) => createHash('sha256').update(`${userId}:${code}`).digest('hex');

/**
 * Stores the address as unverified and mails it a one-time six-digit code (valid an hour). Only
 * a verified address gets notifications. Refused without SMTP_URL, or when the server refuses.
 */
export async function setEmail(db: Db, mailer: Mailer | null, userId: string, address: string): Promise<void> {
  const normalized = address.trim();
  if (normalized.length > 254 || !EMAIL.test(normalized)) throw badInput('Not an e-mail address', 'email');
  if (!mailer) throw new AppError('EMAIL_UNAVAILABLE', 'This server sends no e-mail (SMTP_URL is not set)');
  const code = String(randomInt(1_000_000)).padStart(6, '0');
  const pending = { address: normalized, verifiedAt: null, codeHash: codeHash(userId, code), codeExpiresAt: new Date(Date.now() + CODE_TTL_MS), codeAttempts: 0 };
  await db.userEmail.upsert({ where: { userId }, create: { userId, ...pending }, update: pending });
  try {
    await mailer.send({
      to: normalized,
      subject: `Your Verdict code: ${code}`,
      text: `Your code to confirm this address for Verdict is ${code}.\nIt is valid for one hour. If you did not ask for it, ignore this message.\n`,
    });
  } catch (error) {
    throw new AppError('EMAIL_UNAVAILABLE', `The mail server did not take the message; try again later (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Confirms the pending address with its code: five tries, within the hour. */
export async function verifyEmail(db: Db, userId: string, code: string, now = new Date()): Promise<{ address: string; verifiedAt: Date }> {
  const pending = await db.userEmail.findUnique({ where: { userId } });
  const wrong = () => badInput('Wrong or expired code', 'code');
  if (!pending?.codeHash || !pending.codeExpiresAt || pending.codeExpiresAt <= now || pending.codeAttempts >= MAX_CODE_ATTEMPTS) throw wrong();
  const given = Buffer.from(codeHash(userId, code.trim()));
  if (!timingSafeEqual(given, Buffer.from(pending.codeHash))) {
    await db.userEmail.update({ where: { userId }, data: { codeAttempts: { increment: 1 } } });
    throw wrong();
  }
  const verified = await db.userEmail.update({ where: { userId }, data: { verifiedAt: now, codeHash: null, codeExpiresAt: null, codeAttempts: 0 } });
  return { address: verified.address, verifiedAt: verified.verifiedAt! };
}

/** The signature of a user's unsubscribe link: HMAC-SHA256 with the session secret, base64url. */
export function unsubscribeSignature(secret: Uint8Array, userId: string): string {
  return createHmac('sha256', secret).update(`unsubscribe:${userId}`).digest('base64url');
}

export function unsubscribeUrl(config: Config, secret: Uint8Array, userId: string): string {
  const url = new URL('/unsubscribe', config.PUBLIC_URL);
  url.searchParams.set('user', userId);
  url.searchParams.set('sig', unsubscribeSignature(secret, userId));
  return url.toString();
}

/** One click, no sign-in: a valid link turns every e-mail notification of its user to in-app only. */
export async function unsubscribe(db: Db, secret: Uint8Array, userId: string, signature: string): Promise<boolean> {
  const expected = Buffer.from(unsubscribeSignature(secret, userId));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  const inApp = { caseClosed: 'IN_APP', badgeEarned: 'IN_APP', rewardConfirmed: 'IN_APP', rewardFailed: 'IN_APP' } as const;
  const settings = await db.notificationSettings.findUnique({ where: { userId } });
  const update = Object.fromEntries(Object.entries(inApp).filter(([key]) => settings?.[key as keyof typeof inApp] !== 'OFF'));
  const user = await db.user.findUnique({ where: { id: userId }, select: { id: true } });
  if (!user) return false;
  await db.notificationSettings.upsert({ where: { userId }, create: { userId, ...inApp }, update });
  return true;
}
