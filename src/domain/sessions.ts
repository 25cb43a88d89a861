import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT, jwtVerify } from 'jose';
import type { Config } from '../config.js';

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

export async function issueSessionToken(keys: SessionKeys, userId: string, now = new Date()) {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = new Date((issuedAt + keys.ttlSeconds) * 1000);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setSubject(userId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(keys.secret);
  return { token, expiresAt };
}

/** The user id of a valid, unexpired token; null for anything else. */
export async function verifySessionToken(keys: SessionKeys, token: string): Promise<string | null> {
  try {
    const { payload } = await jwtVerify(token, keys.secret, { issuer: ISSUER, algorithms: ['HS256'] });
    return typeof payload.sub === 'string' ? payload.sub : null;
  } catch {
    return null;
  }
}
