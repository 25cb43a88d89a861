// E-mail notifications through a real SMTP server in this process: a verified address only, one
// digest per period, per-kind settings, one-click unsubscribe, refused sends retried, never twice.
import { once } from 'node:events';
import type { ParsedMail } from 'mailparser';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { badgeEarnedNotifications } from '../src/domain/notifications.js';
import { issueSessionToken } from '../src/domain/sessions.js';
import { Prisma } from '../src/generated/prisma/client.js';
import { createTestApp, type TestApp } from './support/app.js';
import { createUser } from './support/fixtures.js';
import { startSmtp, type TestSmtp } from './support/smtp.js';

let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(() => smtp.close());

let t: TestApp;
beforeEach(async () => {
  smtp.received.length = 0;
  smtp.refuse = false;
  t = await createTestApp({ SMTP_URL: smtp.url, MAIL_FROM: 'Verdict <court@verdict.test>', PUBLIC_URL: 'http://verdict.test' });
});
afterEach(() => t.close());

const ask = (query: string, token?: string) => t.query(query, token);

/** A signed-in user with a verified address (through the code mailed to it). */
async function verifiedUser(address: string) {
  const user = await createUser(t.db);
  const { token } = await issueSessionToken(t.db, t.sessions, user.id);
  const mail = once(smtp.arrived, 'mail');
  expect((await ask(`mutation { setEmail(email: "${address}") }`, token)).data.setEmail).toBe(true);
  const [codeMail] = (await mail) as [ParsedMail];
  expect(codeMail.to && 'text' in codeMail.to ? codeMail.to.text : '').toBe(address);
  const code = codeMail.subject!.match(/(\d{6})$/)![1]!;
  expect((await ask(`mutation { verifyEmail(code: "${code}") { address verified } }`, token)).data.verifyEmail).toEqual({ address, verified: true });
  return { user, token };
}

/** A badge for the user now, with its notification as the badge job writes it (one statement): the quickest notification to make. */
async function earnBadge(userId: string, key: 'early_adopter' | 'blockchain_ready') {
  await t.db.$executeRaw`WITH awarded AS (
      INSERT INTO badge_awards (user_id, badge_key) VALUES (${userId}::uuid, ${key}) RETURNING id, user_id, badge_key)
    ${badgeEarnedNotifications(Prisma.sql`awarded`)}`;
}

describe('e-mail', () => {
  it('goes only to a verified address, whose code is checked', async () => {
    const user = await createUser(t.db);
    const { token } = await issueSessionToken(t.db, t.sessions, user.id);
    expect((await ask('mutation { setEmail(email: "not an address") }', token)).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const mail = once(smtp.arrived, 'mail');
    await ask('mutation { setEmail(email: "ann@example.test") }', token);
    const [codeMail] = (await mail) as [ParsedMail];
    const code = codeMail.subject!.match(/(\d{6})$/)![1]!;
    const wrong = code === '000000' ? '000001' : '000000';
    expect((await ask(`mutation { verifyEmail(code: "${wrong}") { verified } }`, token)).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    // Not verified yet: a notification is made, but no mail goes out.
    await earnBadge(user.id, 'early_adopter');
    await t.scheduler.runNow('notifications');
    expect(smtp.received).toHaveLength(1);
    expect((await ask('{ me { email { address verified } } }', token)).data.me.email).toEqual({ address: 'ann@example.test', verified: false });
    expect((await ask(`mutation { verifyEmail(code: "${code}") { verified } }`, token)).data.verifyEmail.verified).toBe(true);
  });

  it('gathers what is pending in one digest per period, with a one-click unsubscribe', async () => {
    const { user, token } = await verifiedUser('bob@example.test');
    await earnBadge(user.id, 'early_adopter');
    await earnBadge(user.id, 'blockchain_ready');
    smtp.received.length = 0;
    expect(await t.scheduler.runNow('notifications')).toMatchObject({ result: { published: 2, sent: 1 } });
    expect(smtp.received).toHaveLength(1);
    const digest = smtp.received[0]!;
    expect(digest.subject).toBe('Verdict: 2 updates');
    expect(digest.text).toContain('Badge earned: 🚀 Early Adopter');
    expect(digest.text).toContain('Badge earned: 🔗 Blockchain Ready');
    // As sent (mailparser folds the List-* headers into one object).
    const header = (name: string) => digest.headerLines.find((l) => l.key === name)?.line.slice(name.length + 1).trim();
    const link = header('list-unsubscribe')!.replace(/^<|>$/g, '');
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(link).toMatch(/^http:\/\/verdict\.test\/unsubscribe\?user=/);
    expect(digest.text).toContain(link);

    // Within the period, a new notification waits for the next digest.
    await t.db.badgeAward.deleteMany({ where: { userId: user.id, badgeKey: 'early_adopter' } });
    await earnBadge(user.id, 'early_adopter');
    await t.scheduler.runNow('notifications');
    expect(smtp.received).toHaveLength(1);
    await t.db.userEmail.update({ where: { userId: user.id }, data: { digestSentAt: new Date(Date.now() - 25 * 3600_000) } });
    await t.scheduler.runNow('notifications');
    expect(smtp.received).toHaveLength(2);
    expect(smtp.received[1]!.subject).toBe('Badge earned: 🚀 Early Adopter');

    // One click from the mail client (RFC 8058 POST), no sign-in: e-mail stops, the app keeps them.
    const url = new URL(link);
    expect((await t.app.yoga.fetch(`http://verdict.test/unsubscribe?user=${url.searchParams.get('user')}&sig=forged`)).status).toBe(400);
    const clicked = await t.app.yoga.fetch(`http://verdict.test${url.pathname}${url.search}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(clicked.status).toBe(200);
    expect((await ask('{ me { notificationSettings { caseClosed badgeEarned rewardConfirmed rewardFailed } } }', token)).data.me.notificationSettings).toEqual({
      caseClosed: 'IN_APP', badgeEarned: 'IN_APP', rewardConfirmed: 'IN_APP', rewardFailed: 'IN_APP',
    });
  });

  it('follows the settings per kind: in-app only, or not at all', async () => {
    const { user, token } = await verifiedUser('cid@example.test');
    const set = (input: string) => ask(`mutation { updateNotificationSettings(input: { ${input} }) { badgeEarned caseClosed } }`, token);
    expect((await set('badgeEarned: IN_APP')).data.updateNotificationSettings).toEqual({ badgeEarned: 'IN_APP', caseClosed: 'EMAIL' });
    smtp.received.length = 0;
    await earnBadge(user.id, 'early_adopter');
    await t.scheduler.runNow('notifications');
    expect(smtp.received).toHaveLength(0);
    expect(await t.db.notification.count({ where: { userId: user.id } })).toBe(1);
    await set('badgeEarned: OFF');
    await earnBadge(user.id, 'blockchain_ready');
    await t.scheduler.runNow('notifications');
    expect(await t.db.notification.count({ where: { userId: user.id } })).toBe(1);
  });

  it('retries a refused send with backoff and delivers it once', async () => {
    const { user } = await verifiedUser('dee@example.test');
    smtp.received.length = 0;
    smtp.refuse = true;
    await earnBadge(user.id, 'early_adopter');
    expect(await t.scheduler.runNow('notifications')).toMatchObject({ result: { sent: 0, refused: 1 } });
    const [delivery] = await t.db.emailDelivery.findMany({ where: { userId: user.id } });
    expect(delivery).toMatchObject({ status: 'RETRY', attempts: 1 });
    expect(delivery!.nextAttempt!.getTime()).toBeGreaterThan(Date.now());
    smtp.refuse = false;
    // Before its time: not sent again. Then it is, once.
    await t.scheduler.runNow('notifications');
    expect(smtp.received).toHaveLength(0);
    await t.db.emailDelivery.update({ where: { id: delivery!.id }, data: { nextAttempt: new Date(Date.now() - 1000) } });
    expect(await t.scheduler.runNow('notifications')).toMatchObject({ result: { sent: 1 } });
    await t.scheduler.runNow('notifications');
    expect(smtp.received).toHaveLength(1);
    expect(await t.db.emailDelivery.findUniqueOrThrow({ where: { id: delivery!.id } })).toMatchObject({ status: 'SENT', attempts: 2 });
  });

  it('is refused with a code on a server without SMTP_URL', async () => {
    const plain = await createTestApp();
    try {
      const user = await createUser(plain.db);
      const { token } = await issueSessionToken(plain.db, plain.sessions, user.id);
      const response = await plain.app.yoga.fetch('http://verdict.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: 'mutation { setEmail(email: "eve@example.test") }' }),
      });
      expect((await response.json()).errors[0].extensions.code).toBe('EMAIL_UNAVAILABLE');
    } finally {
      await plain.close();
    }
  });
});
