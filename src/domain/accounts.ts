import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { AppError, badInput } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';
import { dummyHash, hashPassword, verifyPassword } from './passwords.js';

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
  if (input.password.length < PASSWORD_MIN || input.password.length > PASSWORD_MAX) {
    throw badInput(`A password has ${PASSWORD_MIN}–${PASSWORD_MAX} characters`, 'password');
  }
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
