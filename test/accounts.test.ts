import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { promoteToAdmin } from '../src/domain/accounts.js';
import { hashPassword } from '../src/domain/passwords.js';
import { issueSessionToken, loadSessionKeys } from '../src/domain/sessions.js';
import { MeDocument, SignInDocument, SignUpDocument } from './generated/graphql.js';
import { createTestApp, errorCode, type TestApp } from './support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ ADMIN_HANDLES: 'chief, boss' });
});
afterAll(() => t.close());

const signUp = (handle: string, password = 'correct horse battery') => t.gql(SignUpDocument, { input: { handle, password } });

describe('sign-up', () => {
  it('creates a user, lower-cases the handle and signs them in', async () => {
    const result = await signUp('Alice_1');
    expect(result.errors).toBeUndefined();
    expect(result.data!.signUp.user).toMatchObject({ handle: 'alice_1', role: 'USER', isBetaUser: false });
    const me = await t.gql(MeDocument, {}, { token: result.data!.signUp.token });
    expect(me.data!.me?.handle).toBe('alice_1');
    const row = await t.db.user.findUniqueOrThrow({ where: { handle: 'alice_1' } });
    expect(row.passwordHash).toMatch(/^scrypt\$/);
    expect(row.passwordHash).not.toContain('correct horse');
  });

  it('treats handles case-insensitively', async () => {
    await signUp('bob_b');
    const again = await signUp('BOB_B');
    expect(errorCode(again)).toBe('HANDLE_TAKEN');
    expect(await t.db.user.count({ where: { handle: 'bob_b' } })).toBe(1);
  });

  it('rejects bad handles and short passwords, storing nothing', async () => {
    const before = await t.db.user.count();
    for (const handle of ['ab', 'has space', 'émile', 'x'.repeat(33)]) {
      expect(errorCode(await signUp(handle))).toBe('BAD_USER_INPUT');
    }
    expect(errorCode(await signUp('shortpass', '123456789'))).toBe('WEAK_PASSWORD');
    expect(await t.db.user.count()).toBe(before);
  });

  it('makes configured handles admins', async () => {
    expect((await signUp('chief')).data!.signUp.user.role).toBe('ADMIN');
  });
});

describe('sign-in', () => {
  it('signs in with the right password', async () => {
    await signUp('carol');
    const result = await t.gql(SignInDocument, { input: { handle: 'CAROL', password: 'correct horse battery' } });
    expect(result.data!.signIn.user.handle).toBe('carol');
  });

  it('answers a wrong password and an unknown handle with the same error', async () => {
    await signUp('dave');
    const wrong = await t.gql(SignInDocument, { input: { handle: 'dave', password: 'wrong password!' } });
    const unknown = await t.gql(SignInDocument, { input: { handle: 'nobody_here', password: 'wrong password!' } });
    expect(wrong.errors).toEqual(unknown.errors);
    expect(errorCode(wrong)).toBe('INVALID_CREDENTIALS');
  });

  it('promotes a configured handle at sign-in', async () => {
    // Made before the setting applied to it (e.g. by an operator's shell), as a member.
    await t.db.user.create({ data: { handle: 'boss', passwordHash: await hashPassword('correct horse battery') } });
    const result = await t.gql(SignInDocument, { input: { handle: 'boss', password: 'correct horse battery' } });
    expect(result.data!.signIn.user.role).toBe('ADMIN');
  });
});

describe('sessions', () => {
  it('ignores expired and tampered tokens', async () => {
    await signUp('erin');
    const user = await t.db.user.findUniqueOrThrow({ where: { handle: 'erin' } });
    const longAgo = new Date(Date.now() - (t.sessions.ttlSeconds + 60) * 1000);
    const expired = await issueSessionToken(t.db, t.sessions, user.id, longAgo);
    expect((await t.gql(MeDocument, {}, { token: expired.token })).data!.me).toBeNull();

    const valid = await issueSessionToken(t.db, t.sessions, user.id);
    const [header, payload, signature] = valid.token.split('.');
    const tampered = `${header}.${payload}.${signature!.slice(0, -2)}xx`;
    expect((await t.gql(MeDocument, {}, { token: tampered })).data!.me).toBeNull();
    expect((await t.gql(MeDocument, {}, { token: valid.token })).data!.me?.handle).toBe('erin');
  });
});

describe('admins', () => {
  it('promotes a user from the shell command’s domain function, and refuses an unknown handle', async () => {
    await signUp('frank');
    await promoteToAdmin(t.db, 'FRANK');
    expect((await t.db.user.findUniqueOrThrow({ where: { handle: 'frank' } })).role).toBe('ADMIN');
    await expect(promoteToAdmin(t.db, 'nobody_at_all')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('session secret', () => {
  it('is generated once under DATA_DIR when not configured, private, and reused', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-secret-'));
    try {
      const first = loadSessionKeys(loadConfig({ DATA_DIR: dataDir }));
      const second = loadSessionKeys(loadConfig({ DATA_DIR: dataDir }));
      expect(Buffer.from(first.secret).equals(Buffer.from(second.secret))).toBe(true);
      expect(first.secret.length).toBe(32);
      expect(fs.statSync(path.join(dataDir, 'session-secret')).mode & 0o777).toBe(0o600);
      const configured = loadSessionKeys(loadConfig({ DATA_DIR: dataDir, SESSION_SECRET: 'from-the-environment' }));
      expect(Buffer.from(configured.secret).toString()).toBe('from-the-environment');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
