// Accounts people can manage (issue #14): sessions as rows, signing out (here, everywhere, one
// session), changing and resetting a password by e-mail, password strength, deleting an account.
import { once } from 'node:events';
import { createClient } from 'graphql-ws';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DELETED_TEXT, RESET_TTL_MS } from '../src/domain/accounts.js';
import { SimpleMerkleTree } from '@openzeppelin/merkle-tree';
import { castVote, submitArgument, upvoteArgument } from '../src/domain/participation.js';
import { createTestApp, type TestApp } from './support/app.js';
import { startSmtp, type TestSmtp } from './support/smtp.js';
import { publishUntil } from './support/subscriptions.js';

const PASSWORD = 'a long enough passphrase';
let smtp: TestSmtp;
let t: TestApp;
let base: string;
beforeAll(async () => {
  smtp = await startSmtp();
  t = await createTestApp({ SMTP_URL: smtp.url });
  base = `http://127.0.0.1:${await t.app.start(0, '127.0.0.1')}`;
});
afterAll(async () => {
  await t?.close();
  await smtp.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Answer = { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
async function ask(query: string, token?: string, userAgent = 'vitest'): Promise<Answer> {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': userAgent, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as Answer;
}
const code = (answer: Answer) => answer.errors?.[0]?.extensions?.code;
const signUp = async (handle: string, password = PASSWORD) =>
  (await ask(`mutation { signUp(input: { handle: "${handle}", password: "${password}" }) { token user { id } } }`)).data.signUp as { token: string; user: { id: string } };
const signIn = async (handle: string, password = PASSWORD, userAgent = 'vitest') =>
  (await ask(`mutation { signIn(input: { handle: "${handle}", password: "${password}" }) { token } }`, undefined, userAgent)).data?.signIn?.token as string | undefined;
const meHandle = async (token: string) => (await ask('{ me { handle } }', token)).data?.me?.handle ?? null;
const userIdOf = (handle: string) => t.db.user.findUniqueOrThrow({ where: { handle } }).then((u) => u.id);

describe('sessions', () => {
  it('leave a sign-up made with another account’s token whole: the fields that are yours only are null', async () => {
    const holder = await signUp('token_holder');
    const answer = await ask(`mutation { signUp(input: { handle: "fresh_signup", password: "${PASSWORD}" }) { token user { handle sessions { id } export } } }`, holder.token);
    expect(answer.data.signUp.user).toEqual({ handle: 'fresh_signup', sessions: null, export: null });
    expect(answer.data.signUp.token).toEqual(expect.any(String));
    expect(answer.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(await meHandle(answer.data.signUp.token)).toBe('fresh_signup');
  });

  it('are rows: listed with the current one marked, ended one at a time, here, or everywhere', async () => {
    const first = (await signUp('sessions_amy')).token;
    const second = (await signIn('sessions_amy', PASSWORD, 'Laptop browser'))!;
    const third = (await signIn('sessions_amy'))!;
    const listed = (await ask('{ me { sessions { id current clientAddress userAgent createdAt lastUsedAt expiresAt } } }', second)).data.me.sessions;
    expect(listed).toHaveLength(3);
    expect(listed.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    const current = listed.find((s: { current: boolean }) => s.current);
    expect(current).toMatchObject({ userAgent: 'Laptop browser', clientAddress: expect.stringMatching(/127\.0\.0\.1/) });

    // Another user cannot end these.
    const other = (await signUp('sessions_bob')).token;
    expect(code(await ask(`mutation { revokeSession(id: "${current.id}") }`, other))).toBe('NOT_FOUND');
    expect(await meHandle(second)).toBe('sessions_amy');

    expect((await ask(`mutation { revokeSession(id: "${current.id}") }`, first)).data.revokeSession).toBe(true);
    expect(await meHandle(second)).toBeNull();
    expect(code(await ask('mutation { signOut }', second))).toBe('UNAUTHENTICATED');
    expect(code(await ask(`mutation { revokeSession(id: "${current.id}") }`, first))).toBe('NOT_FOUND');

    expect((await ask('mutation { signOut }', third)).data.signOut).toBe(true);
    expect(await meHandle(third)).toBeNull();
    expect(await meHandle(first)).toBe('sessions_amy');

    const fourth = (await signIn('sessions_amy'))!;
    expect((await ask('mutation { signOutEverywhere }', fourth)).data.signOutEverywhere).toBe(2);
    expect(await meHandle(first)).toBeNull();
    expect(await meHandle(fourth)).toBeNull();
    expect(await meHandle(other)).toBe('sessions_bob');
    expect(code(await ask('{ me { sessions { id } } }'))).toBeUndefined(); // signed out: me is null
  });

  it("end a revoked session's WebSocket subscriptions with a coded error", async () => {
    const { token } = await signUp('sessions_socket');
    const phone = (await signIn('sessions_socket'))!;
    const url = `${base.replace('http', 'ws')}/graphql`;
    let closeCode: number | undefined;
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` }, on: { closed: (e) => (closeCode = (e as { code: number }).code) } });
    try {
      const events = client.iterate<{ notificationAdded: { id: string } }>({ query: 'subscription { notificationAdded { id } }' });
      const userId = await userIdOf('sessions_socket');
      // Running: an event for someone else reaches nobody, and the subscription is in place once
      // a leaderboard event (public) on the same socket arrives.
      const board = client.iterate({ query: 'subscription { leaderboardUpdated(period: ALL_TIME) { period } }' });
      await publishUntil(board.next(), () => t.pubsub.publish('leaderboardUpdated', 'ALL_TIME', { period: 'ALL_TIME', computedAt: new Date().toISOString(), entries: [] }));
      const ended = events.next().then(
        () => null,
        (errors: { extensions?: { code?: string } }[]) => errors,
      );
      const sessions = (await ask('{ me { sessions { id current } } }', phone)).data.me.sessions;
      const socketSession = sessions.find((s: { current: boolean }) => !s.current);
      expect((await ask(`mutation { revokeSession(id: "${socketSession.id}") }`, phone)).data.revokeSession).toBe(true);
      expect((await ended)?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      await expect.poll(() => closeCode).toBe(4401);
      expect(userId).toBeTruthy();
    } finally {
      await client.dispose();
    }
  });
});

describe('passwords', () => {
  it('refuse weak ones at sign-up and on change, with WEAK_PASSWORD', async () => {
    for (const password of ['short', 'password123', 'Qwertyuiop', 'aaaaaaaaaaaa', 'weak_carol_1234']) {
      const answer = await ask(`mutation { signUp(input: { handle: "weak_carol", password: "${password}" }) { token } }`);
      expect(code(answer)).toBe('WEAK_PASSWORD');
    }
    expect(await t.db.user.count({ where: { handle: 'weak_carol' } })).toBe(0);
  });

  it('change with the current one; every other session ends, this one goes on', async () => {
    const { token } = await signUp('changing_dan');
    const other = (await signIn('changing_dan'))!;
    expect(code(await ask('mutation { changePassword(current: "not the password", next: "a brand new passphrase") }', token))).toBe('INVALID_CREDENTIALS');
    expect(code(await ask(`mutation { changePassword(current: "${PASSWORD}", next: "password123") }`, token))).toBe('WEAK_PASSWORD');
    expect(await meHandle(other)).toBe('changing_dan');
    expect((await ask(`mutation { changePassword(current: "${PASSWORD}", next: "a brand new passphrase") }`, token)).data.changePassword).toBe(true);
    expect(await meHandle(token)).toBe('changing_dan');
    expect(await meHandle(other)).toBeNull();
    expect(await signIn('changing_dan')).toBeUndefined();
    expect(await signIn('changing_dan', 'a brand new passphrase')).toBeTruthy();
  });

  it('reset by e-mail: one-time, short-lived, the same answer for any address, at most 3 an hour; every session ends', async () => {
    const { token } = await signUp('resetting_eve');
    const mail = once(smtp.arrived, 'mail');
    await ask('mutation { setEmail(email: "eve@verdict.test") }', token);
    const codeMail = ((await mail) as [ParsedMail])[0];
    const verification = codeMail.subject!.match(/(\d{6})$/)![1]!;
    expect((await ask(`mutation { verifyEmail(code: "${verification}") { verified } }`, token)).data.verifyEmail.verified).toBe(true);

    // Unknown and unverified addresses: the same answer, and no message.
    const unverified = (await signUp('unverified_fay')).token;
    const unverifiedMail = once(smtp.arrived, 'mail');
    await ask('mutation { setEmail(email: "fay@verdict.test") }', unverified);
    await unverifiedMail;
    const sent: ParsedMail[] = [];
    const collect = (m: ParsedMail) => sent.push(m);
    smtp.arrived.on('mail', collect);
    try {
      for (const address of ['nobody@verdict.test', 'fay@verdict.test']) {
        expect(await ask(`mutation { requestPasswordReset(email: "${address}") }`)).toEqual({ data: { requestPasswordReset: true } });
      }
      const resetMail = once(smtp.arrived, 'mail');
      expect(await ask('mutation { requestPasswordReset(email: "eve@verdict.test") }')).toEqual({ data: { requestPasswordReset: true } });
      const [message] = (await resetMail) as [ParsedMail];
      expect(sent).toHaveLength(1);
      expect(message.subject).toMatch(/Reset your Verdict password/);
      const resetToken = message.text!.match(/Your reset token: (\S+)/)![1]!;

      expect(code(await ask(`mutation { resetPassword(token: "${resetToken}", password: "password123") }`))).toBe('WEAK_PASSWORD');
      expect(code(await ask('mutation { resetPassword(token: "made-up", password: "another fine passphrase") }'))).toBe('INVALID_RESET_TOKEN');
      expect((await ask(`mutation { resetPassword(token: "${resetToken}", password: "another fine passphrase") }`)).data.resetPassword).toBe(true);
      expect(await meHandle(token)).toBeNull();
      expect(await signIn('resetting_eve', 'another fine passphrase')).toBeTruthy();
      expect(code(await ask(`mutation { resetPassword(token: "${resetToken}", password: "yet another passphrase") }`))).toBe('INVALID_RESET_TOKEN');

      // Expired: a token older than 30 minutes does nothing.
      const expiring = once(smtp.arrived, 'mail');
      await ask('mutation { requestPasswordReset(email: "eve@verdict.test") }');
      const stale = ((await expiring) as [ParsedMail])[0].text!.match(/Your reset token: (\S+)/)![1]!;
      await t.db.passwordReset.updateMany({ where: { usedAt: null }, data: { expiresAt: new Date(Date.now() - RESET_TTL_MS) } });
      expect(code(await ask(`mutation { resetPassword(token: "${stale}", password: "yet another passphrase") }`))).toBe('INVALID_RESET_TOKEN');

      // A third in the hour is sent; a fourth is not (the answer is the same).
      const third = once(smtp.arrived, 'mail');
      await ask('mutation { requestPasswordReset(email: "eve@verdict.test") }');
      await third;
      const before = sent.length;
      expect(await ask('mutation { requestPasswordReset(email: "eve@verdict.test") }')).toEqual({ data: { requestPasswordReset: true } });
      expect(await t.db.passwordReset.count({ where: { user: { handle: 'resetting_eve' } } })).toBe(3);
      expect(sent.length).toBe(before);
    } finally {
      smtp.arrived.off('mail', collect);
    }
  });
});

describe('deleting an account', () => {
  it('erases personal data and keeps what results depend on, before and after closure', async () => {
    const { token } = await signUp('leaving_gus');
    const gus = await userIdOf('leaving_gus');
    const spare = (await signIn('leaving_gus'))!;
    const mail = once(smtp.arrived, 'mail');
    await ask('mutation { setEmail(email: "gus@verdict.test") }', token);
    await mail;

    // A case that closes before the deletion (Gus's argument placed) and one still open.
    const crowd = [];
    for (let i = 0; i < 4; i++) crowd.push((await signUp(`crowd_${i}_gus`)).token);
    await t.scheduler.runNow('case-generation');
    const closedEarly = await t.db.case.findFirstOrThrow({ where: { status: 'OPEN' }, orderBy: { createdAt: 'desc' } });
    await castVote(t.db, gus, closedEarly.id, 'A');
    const placed = await submitArgument(t.db, gus, closedEarly.id, 'A', 'Keep your promises, even small ones.');
    for (const i of crowd.keys()) await castVote(t.db, await userIdOf(`crowd_${i}_gus`), closedEarly.id, i % 2 ? 'A' : 'B');
    await upvoteArgument(t.db, await userIdOf('crowd_0_gus'), placed.id);
    await t.db.$executeRaw`UPDATE cases SET closes_at = greatest(opens_at + interval '1 millisecond', now()) WHERE id = ${closedEarly.id}::uuid`;
    await t.scheduler.runNow('case-closure');
    expect((await t.db.argument.findUniqueOrThrow({ where: { id: placed.id } })).topRank).toBe(1);

    await t.scheduler.runNow('case-generation');
    const stillOpen = await t.db.case.findFirstOrThrow({ where: { status: 'OPEN' }, orderBy: { createdAt: 'desc' } });
    await castVote(t.db, gus, stillOpen.id, 'B');
    const unplaced = await submitArgument(t.db, gus, stillOpen.id, 'B', 'Honesty first, always.');
    await t.scheduler.runNow('leaderboard');

    const ledgerBefore = await t.db.caseLedger.findUniqueOrThrow({ where: { caseId: closedEarly.id } });
    const verifiedBefore = (await ask(`{ verifyVerdict(caseId: "${closedEarly.id}") { matches ledgerRoot } }`)).data.verifyVerdict;
    const receiptBefore = (await ask(`{ case(id: "${closedEarly.id}") { myReceipt { userKey entries { leaf proof } } } }`, token)).data.case.myReceipt;
    const pointsBefore = await t.db.user.aggregate({ _sum: { totalPoints: true } });
    const rewardsBefore = await t.db.reward.aggregate({ _sum: { amount: true }, where: { status: 'COMPLETED' } });
    const gusPoints = (await t.db.user.findUniqueOrThrow({ where: { id: gus } })).totalPoints;
    expect(gusPoints).toBeGreaterThan(0);

    expect(code(await ask('mutation { deleteAccount(password: "not my password") }', token))).toBe('INVALID_CREDENTIALS');
    expect(await meHandle(token)).toBe('leaving_gus');
    const deleted = await ask(`mutation { deleteAccount(password: "${PASSWORD}") }`, token);
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data.deleteAccount).toBe(true);

    // Personal data: gone.
    const after = await t.db.user.findUniqueOrThrow({ where: { id: gus } });
    expect(after.handle).toMatch(/^deleted_[0-9a-f]{12}$/);
    expect(after).toMatchObject({ walletAddress: null, role: 'USER', passwordHash: '!deleted' });
    expect(after.deletedAt).not.toBeNull();
    expect(await t.db.userEmail.count({ where: { userId: gus } })).toBe(0);
    expect(await t.db.session.count({ where: { userId: gus } })).toBe(0);
    expect(await t.db.notification.count({ where: { userId: gus } })).toBe(0);
    expect(await meHandle(token)).toBeNull();
    expect(await meHandle(spare)).toBeNull();
    expect(await signIn('leaving_gus')).toBeUndefined();
    expect(await signIn(after.handle, PASSWORD)).toBeUndefined();
    expect(code(await ask(`mutation { signUp(input: { handle: "${after.handle}x", password: "${PASSWORD}" }) { token } }`))).toBe('BAD_USER_INPUT');
    // The placed argument of a closed case keeps its text; the other is erased.
    expect((await t.db.argument.findUniqueOrThrow({ where: { id: placed.id } })).body).toBe('Keep your promises, even small ones.');
    expect((await t.db.argument.findUniqueOrThrow({ where: { id: unplaced.id } })).body).toBe(DELETED_TEXT);

    // What results depend on: kept, so every sum and proof holds.
    expect(await t.db.vote.count({ where: { userId: gus } })).toBe(2);
    expect(await t.db.user.aggregate({ _sum: { totalPoints: true } })).toEqual(pointsBefore);
    expect(await t.db.reward.aggregate({ _sum: { amount: true }, where: { status: 'COMPLETED' } })).toEqual(rewardsBefore);
    expect(after.totalPoints).toBe(gusPoints);
    const settlement = await t.db.caseSettlement.findUniqueOrThrow({ where: { caseId: closedEarly.id } });
    const paid = await t.db.reward.aggregate({ _sum: { amount: true }, where: { caseId: closedEarly.id } });
    expect(settlement.paid + settlement.treasury).toBe(settlement.pool);
    expect(paid._sum.amount).toBe(settlement.paid);
    expect((await ask(`{ verifyVerdict(caseId: "${closedEarly.id}") { matches ledgerRoot } }`)).data.verifyVerdict).toEqual(verifiedBefore);
    // The ledger (and so every proof already handed out) is unchanged; the receipt's entries still prove against it.
    expect(await t.db.caseLedger.findUniqueOrThrow({ where: { caseId: closedEarly.id } })).toEqual(ledgerBefore);
    expect(receiptBefore.entries.length).toBeGreaterThan(0);
    for (const entry of receiptBefore.entries) expect(SimpleMerkleTree.verify(ledgerBefore.root, entry.leaf, entry.proof)).toBe(true);

    // The open case closes with the deleted account's vote counted, and everything still adds up.
    await t.db.$executeRaw`UPDATE cases SET closes_at = greatest(opens_at + interval '1 millisecond', now()) WHERE id = ${stillOpen.id}::uuid`;
    await t.scheduler.runNow('case-closure');
    const late = await t.db.caseSettlement.findUniqueOrThrow({ where: { caseId: stillOpen.id } });
    expect(late.participantCount).toBeGreaterThanOrEqual(1);
    expect(late.paid + late.treasury).toBe(late.pool);
    expect((await t.db.reward.aggregate({ _sum: { amount: true }, where: { caseId: stillOpen.id } }))._sum.amount ?? 0).toBe(late.paid);
    const totals = await t.db.user.aggregate({ _sum: { totalPoints: true } });
    const completed = await t.db.reward.aggregate({ _sum: { amount: true }, where: { status: 'COMPLETED' } });
    expect(totals._sum.totalPoints).toBe(completed._sum.amount);

    // Leaderboards: the tombstone keeps its points and place; no trace of the old handle.
    await t.scheduler.runNow('leaderboard');
    const board = (await ask('{ leaderboard(period: ALL_TIME, first: 100) { handle points } }')).data.leaderboard;
    const handles = board.map((e: { handle: string }) => e.handle);
    expect(handles).toContain(after.handle);
    expect(handles).not.toContain('leaving_gus');
    const lp = await t.db.leaderboardPoints.findUnique({ where: { userId: gus } });
    expect(lp?.handle).toBe(after.handle);
  });
});
