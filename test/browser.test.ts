import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { createCase, createUser, sealOnChain } from './support/fixtures.js';

// Debian's Chromium, driven by playwright-core (no browser download). CI installs it.
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM) || process.env.CI === 'true';

describe.skipIf(!hasChromium)('in a browser (skipped: apt-get install chromium)', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  beforeAll(async () => {
    t = await createTestApp();
    base = `http://127.0.0.1:${await t.app.start(0, '127.0.0.1')}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const awardBadge = async (handle: string) => {
    const user = await createUser(t.db, { handle });
    await t.db.user.update({ where: { id: user.id }, data: { isBetaUser: true, totalPoints: 70 } });
    await t.scheduler.runNow('badges', 'manual');
    await t.scheduler.runNow('leaderboard', 'manual');
  };

  it('shows badge awards and the leaderboard live on /live, without reloading', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/live`);
    await page.waitForSelector('body[data-live="true"]');
    await awardBadge('live_viewer');
    await page.waitForSelector('#feed li:has-text("live_viewer earned Early Adopter")', { timeout: 15_000 });
    await page.waitForSelector('#board td:has-text("live_viewer")', { timeout: 15_000 });
    expect(await page.locator('#board tr').first().innerText()).toMatch(/1\s+live_viewer\s+170/);
    await page.close();
  }, 60_000);

  it('draws the last 30 days of analytics on /live as SVG, from the stats query', async () => {
    const DAY = 24 * 3600_000;
    const midnight = Math.floor(Date.now() / DAY) * DAY;
    await t.db.dailyStat.createMany({
      data: Array.from({ length: 30 }, (_, i) => ({
        day: new Date(midnight - (i + 1) * DAY), newUsers: 0, activeUsers: 10 * (i + 1), votes: 0, arguments: 0, upvotes: 0, casesOpened: 0,
        casesClosed: i % 2 ? 0 : 1, pointsOffChain: 0, pointsOnChain: 0, crowdAgreement: i % 2 ? null : 0.75, computedAt: new Date(),
      })),
    });
    const page = await browser.newPage();
    await page.goto(`${base}/live`);
    await page.waitForSelector('body[data-trends="true"]');
    expect(await page.locator('#chart-participation rect').count()).toBe(30);
    expect(await page.locator('#chart-agreement circle').count()).toBe(15);
    expect(await page.locator('#participation-max').innerText()).toBe('300');
    // Yesterday (10 active users) is the rightmost bar; the oldest day (300) the leftmost.
    const yesterday = new Date(midnight - DAY).toISOString().slice(0, 10);
    const bar = page.locator(`#chart-participation rect[data-day="${yesterday}"]`);
    expect(await bar.getAttribute('data-value')).toBe('10');
    const tallest = page.locator('#chart-participation rect[data-value="300"]');
    expect(Number(await tallest.getAttribute('x'))).toBeLessThan(Number(await bar.getAttribute('x')));
    await page.close();
  });

  /** A case with these sides and votes (A, B); when `closed`, due and sealed on chain for the closure job. */
  const caseWith = async (title: string, sides: [string, string], votes: [number, number], options: { closed?: boolean; rulingSide?: 'A' | 'B' } = {}) => {
    const c = await createCase(t.db, { title, rulingSide: options.rulingSide, opensAt: new Date(Date.now() - (options.closed ? 25 : 3) * 3600_000) });
    await t.db.case.update({ where: { id: c.id }, data: { sideALabel: sides[0], sideBLabel: sides[1] } });
    const voters = await Promise.all(Array.from({ length: votes[0] + votes[1] }, () => createUser(t.db)));
    await t.db.vote.createMany({ data: voters.map((v, i) => ({ caseId: c.id, userId: v.id, side: i < votes[0] ? ('A' as const) : ('B' as const) })) });
    if (options.closed) await sealOnChain(t.db, t.chain, c.id);
    return c;
  };

  const api = async (query: string, variables: Record<string, unknown>, token?: string) => {
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const result = (await response.json()) as { data?: any; errors?: unknown[] };
    expect(result.errors).toBeUndefined();
    return result.data;
  };

  it('shows open cases with live counts and closed ones with their ruling on /live; a vote through the API shows at once', async () => {
    await caseWith('Return the extra change?', ['Keep it', 'Return it'], [7, 3], { closed: true, rulingSide: 'B' });
    await caseWith('Tell a friend their partner cheats?', ['Tell', 'Stay out of it'], [6, 2], { closed: true, rulingSide: 'A' });
    expect(await t.scheduler.runNow('case-closure', 'manual')).toMatchObject({ status: 'SUCCEEDED', successes: 2 });
    await t.scheduler.runNow('leaderboard', 'manual');
    const watched = await caseWith('Report a colleague who fakes sick days?', ['Report', 'Let it go'], [4, 5]);
    await caseWith('Read your teenager\'s diary?', ['Read it', "Don't"], [2, 1]);
    const cell = `#open-cases tr[data-case-id="${encodeGlobalID('Case', watched.id)}"] .votes`;

    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`${base}/live`);
    await page.waitForSelector('body[data-live="true"]');
    expect(await page.locator(cell).innerText()).toBe('9');
    expect(await page.locator('#open-cases').innerText()).toMatch(/Report a colleague who fakes sick days\?\s+Report or Let it go\s+9\s+0\s+\d+h \d\dm \d\ds/);
    const closed = await page.locator('#closed-cases').innerText();
    expect(closed).toMatch(/Return the extra change\?\s+The judge ruled: Return it\s+Keep it: 7 \(70 %\)\s+Return it: 3 \(30 %\)\s+The crowd sided against the judge\./);
    expect(closed).toMatch(/Tell a friend their partner cheats\?\s+The judge ruled: Tell[\s\S]+The crowd sided with the judge\./);
    expect(await page.locator('#feed').innerText()).toContain('"Return the extra change?" closed: the judge sided with Return it');
    expect(await page.locator('#board').innerText()).toMatch(/live_viewer\s+170/);
    // The week counts only points credited in it: live_viewer's badge bonus, not the 70 before.
    await page.click('#periods [data-period="WEEKLY"]');
    expect(await page.locator('#board').innerText()).toMatch(/live_viewer\s+100/);
    await page.click('#periods [data-period="ALL_TIME"]');

    // Votes through the API, as anyone would cast them. The page's subscription starts a moment
    // after it says "live": vote until the count on the page moves, then it must be the database's.
    let moved = false;
    for (let i = 0; i < 5 && !moved; i++) {
      const { signUp } = await api('mutation ($input: CredentialsInput!) { signUp(input: $input) { token } }', { input: { handle: `live_voter_${i}`, password: 'correct horse battery' } });
      await api('mutation ($id: ID!) { castVote(caseId: $id, side: A) { side } }', { id: watched.id }, signUp.token);
      moved = await page.waitForFunction(([selector, seen]) => document.querySelector(selector)?.textContent !== seen, [cell, '9'] as const, { timeout: 5_000 }).then(() => true, () => false);
    }
    expect(moved).toBe(true);
    const votes = await t.db.vote.count({ where: { caseId: watched.id } });
    await page.waitForFunction(([selector, count]) => document.querySelector(selector)?.textContent === count, [cell, String(votes)] as const, { timeout: 10_000 });

    // The README's picture of the page, once the changed count's highlight has faded.
    await page.waitForFunction(() => document.getAnimations().length === 0);
    await page.screenshot({ path: fileURLToPath(new URL('../docs/live.png', import.meta.url)), fullPage: true });
    await page.close();
  }, 90_000);

  it('runs a subscription in the self-hosted GraphiQL', async () => {
    // Badges earned by other tests' users go out first: the pane then shows only this test's awards.
    await t.scheduler.runNow('badges', 'manual');
    const page = await browser.newPage();
    const query = 'subscription { badgeAwarded { handle badge { key } } }';
    await page.goto(`${base}/graphql?query=${encodeURIComponent(query)}`);
    const run = page.locator('.graphiql-execute-button');
    await run.waitFor({ timeout: 30_000 });
    await run.click();
    // The subscription starts over WebSocket a moment later: award until one shows.
    let shown = false;
    for (let i = 0; i < 10 && !shown; i++) {
      await awardBadge(`graphiql_viewer_${i}`);
      shown = await page
        .waitForSelector('.graphiql-response :text("graphiql_viewer")', { timeout: 2_000 })
        .then(() => true, () => false);
    }
    expect(shown).toBe(true);
    expect(await page.locator('.graphiql-response').innerText()).toContain('early_adopter');
    await page.close();
  }, 90_000);

  it('opens GraphiQL on the example tabs: sign up there, paste the token into Headers, vote', async () => {
    const open = await createCase(t.db, { status: 'OPEN', title: 'A case to vote on in GraphiQL' });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${base}/graphql`);
    const run = page.locator('.graphiql-execute-button');
    await run.waitFor({ timeout: 30_000 });
    expect(await page.locator('.graphiql-tab').allInnerTexts()).toEqual(['OpenCases', 'SignUp', 'Vote', 'LeaderboardLive']);
    const tool = (name: 'Variables' | 'Headers') => page.locator(`.graphiql-editor-tools button:has-text("${name}")`).click();
    // A Monaco editor: typed text would be auto-closed, so the text is inserted and the rest cut.
    const replaceText = async (text: string) => {
      await page.locator('.graphiql-editor-tool .monaco-editor:visible').click();
      await page.keyboard.press('Control+A');
      await page.keyboard.insertText(text);
      await page.keyboard.press('Shift+Control+End');
      await page.keyboard.press('Delete');
    };
    await tool('Headers');
    const headers = (await page.locator('.graphiql-editor-tool').innerText()).replace(/\s+/g, ' ');
    expect(headers).toContain('"Authorization": "Bearer <paste the token from signUp or signIn>"');

    await run.click();
    await page.waitForSelector('.graphiql-response :text("A case to vote on in GraphiQL")', { timeout: 10_000 });

    // Tabs are switched by their buttons' click handlers: the tab strip is draggable.
    await page.locator('.graphiql-tab-button:text-is("SignUp")').dispatchEvent('click');
    await tool('Variables');
    await replaceText('{"input": {"handle": "graphiql_voter", "password": "a long passphrase"}}');
    await run.click();
    await page.locator('[role="menuitem"]:has-text("SignUp")').dispatchEvent('click');
    await page.waitForSelector('.graphiql-response :text("graphiql_voter")', { timeout: 10_000 });
    const token = /"token":\s*"([^"]+)"/.exec((await page.locator('.graphiql-response').innerText()).replace(/\s+/g, ''))?.[1];
    expect(token).toBeTruthy();

    await page.locator('.graphiql-tab-button:text-is("Vote")').dispatchEvent('click');
    await tool('Variables');
    await replaceText(JSON.stringify({ caseId: open.id, side: 'B' }));
    await tool('Headers');
    await replaceText(JSON.stringify({ Authorization: `Bearer ${token}` }));
    await run.click();
    await page.waitForSelector('.graphiql-response :text("signature")', { timeout: 10_000 });
    const voter = await t.db.user.findUniqueOrThrow({ where: { handle: 'graphiql_voter' } });
    expect(await t.db.vote.findFirst({ where: { caseId: open.id, userId: voter.id }, select: { side: true } })).toEqual({ side: 'B' });
    await page.close();
  }, 90_000);
});
