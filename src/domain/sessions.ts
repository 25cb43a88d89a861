import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT, jwtVerify } from 'jose';
import type { Config } from '../config.js';
import type { Db } from '../db.js';

const ISSUER = 'verdict';

export interface SessionKeys {
  secret: Uint8Array;
  ttlSeconds: number;
}

/**
 * SESSION_SECRET when set; otherwise a random secret kept in DATA_DIR so sessions survive a
 * restart. Servers that share a database must share SESSION_SECRET.
 */
export function loadSessionKeys(config: Config): SessionKeys {
  const ttlSeconds = Math.round(config.SESSION_TTL_HOURS * 3600);
  if (config.SESSION_SECRET) return { secret: new TextEncoder().encode(config.SESSION_SECRET), ttlSeconds };
  const file = path.join(config.DATA_DIR, 'session-secret');
  fs.mkdirSync(config.DATA_DIR, { recursive: true });
  try {
    fs.writeFileSync(file, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return { secret: Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64'), ttlSeconds };
}

export interface SessionClient {
  /** The client's address (for the user's list of sessions). */
  address?: string | null;
  userAgent?: string | null;
}

/** Starts a session: its row, and a token naming it (`sid`) and its user (`sub`). */
export async function issueSessionToken(db: Db, keys: SessionKeys, userId: string, now = new Date(), client: SessionClient = {}) {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = new Date((issuedAt + keys.ttlSeconds) * 1000);
  const session = await db.session.create({
    data: {
      userId,
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
      clientAddress: client.address?.slice(0, 64) ?? null,
      userAgent: client.userAgent?.slice(0, 256) ?? null,
    },
    select: { id: true },
  });
  const token = await new SignJWT({ sid: session.id })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setSubject(userId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(keys.secret);
  return { token, expiresAt, sessionId: session.id };
}

export interface SessionClaims {
  userId: string;
  sessionId: string;
}

/** The user and session a validly signed, unexpired token names; null for anything else. */
export async function verifySessionToken(keys: SessionKeys, token: string): Promise<SessionClaims | null> {
  try {
    const { payload } = await jwtVerify(token, keys.secret, { issuer: ISSUER, algorithms: ['HS256'] });
    return typeof payload.sub === 'string' && typeof payload.sid === 'string' ? { userId: payload.sub, sessionId: payload.sid } : null;
  } catch {
    return null;
  }
}

/** How often a session's last use is written: at most once a minute, not at every request. */
const TOUCH_EVERY_MS = 60_000;

/**
 * The user of a token whose session is still valid (not revoked, not expired), with one
 * statement; the session's last use is updated in the background when over a minute old.
 */
export async function sessionUser(db: Db, claims: SessionClaims, now = new Date()) {
  const [row] = await db.$queryRaw<{ id: string; handle: string; role: 'USER' | 'ADMIN'; last_used_at: Date }[]>`
    SELECT u.id, u.handle, u.role, s.last_used_at FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.id = ${claims.sessionId}::uuid AND s.user_id = ${claims.userId}::uuid AND s.revoked_at IS NULL AND s.expires_at > ${now}`;
  if (!row) return null;
  if (now.getTime() - row.last_used_at.getTime() > TOUCH_EVERY_MS) {
    void db.$executeRaw`UPDATE sessions SET last_used_at = ${now} WHERE id = ${claims.sessionId}::uuid AND last_used_at < ${now}`.catch(() => undefined);
  }
  return { id: row.id, handle: row.handle, role: row.role, sessionId: claims.sessionId };
}

/**
 * Revokes sessions: one (`sessionId`), every one of the user's, or every one but `except`.
 * Returns the ids revoked, for the live subscriptions to end.
 */
export async function revokeSessions(db: Db, userId: string, which: { sessionId: string } | { except?: string }, now = new Date()): Promise<string[]> {
  const rows =
    'sessionId' in which
      ? await db.$queryRaw<{ id: string }[]>`UPDATE sessions SET revoked_at = ${now}
          WHERE id = ${which.sessionId}::uuid AND user_id = ${userId}::uuid AND revoked_at IS NULL AND expires_at > ${now} RETURNING id`
      : await db.$queryRaw<{ id: string }[]>`UPDATE sessions SET revoked_at = ${now}
          WHERE user_id = ${userId}::uuid AND revoked_at IS NULL AND expires_at > ${now}
            AND id IS DISTINCT FROM ${which.except ?? null}::uuid RETURNING id`;
  return rows.map((r) => r.id);
}
