// Job topic-scan: configured feeds become topics with a score history; case-generation writes
// from the best fresh topic no case used yet, and the case keeps the link.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { FeedItem } from '../src/domain/feeds.js';
import { recordScan, trendingTopics } from '../src/domain/topics.js';
import { createTestApp } from './support/app.js';

const HOUR = 3600_000;
const item = (title: string, score: number, overrides: Partial<FeedItem> = {}): FeedItem => ({
  source: 'reddit:moraldilemmas',
  title,
  link: `https://www.reddit.com/r/moraldilemmas/comments/${encodeURIComponent(title)}/`,
  score,
  comments: 0,
  adult: false,
  publishedAt: null,
  ...overrides,
});

/** A Reddit listing as /r/<sub>/hot.json serves it. */
const listing = (posts: { title: string; score: number; over18?: boolean }[]) =>
  JSON.stringify({
    kind: 'Listing',
    data: {
      children: posts.map((p, i) => ({
        kind: 't3',
        data: { title: p.title, permalink: `/r/moraldilemmas/comments/p${i}/x/`, score: p.score, num_comments: 3, over_18: p.over18 ?? false, created_utc: 1795900000 + i },
      })),
    },
  });

let server: http.Server;
let origin: string;
let hotPosts: { title: string; score: number; over18?: boolean }[] = [{ title: 'Returning a lost wallet full of cash to a rude neighbour', score: 120 }];
const requested: string[] = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    requested.push(req.url!);
    if (req.url === '/r/moraldilemmas/hot.json') res.writeHead(200, { 'content-type': 'application/json' }).end(listing(hotPosts));
    else if (req.url === '/broken') res.writeHead(500).end('no');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('topics', () => {
  it('are stored once per source and link, adult ones never, and rank by growth over the last day', async () => {
    const t = await createTestApp();
    onTestFinished(() => t.close());
    const now = Date.now();
    const at = (hoursAgo: number) => new Date(now - hoursAgo * HOUR);
    await recordScan(t.db, [item('steady giant', 5000), item('riser', 10), item('old news', 900), item('adult', 99_999, { adult: true })], at(30));
    await recordScan(t.db, [item('steady giant', 5010), item('riser', 10)], at(2));
    await recordScan(t.db, [item('steady giant', 5020), item('riser', 400), item('newcomer', 50)], at(1));
    expect(await recordScan(t.db, [item('riser', 400)], at(1))).toBe(0); // the same scan again adds nothing

    expect(await t.db.topic.count()).toBe(4);
    expect(await t.db.topic.count({ where: { title: 'adult' } })).toBe(0);
    const trending = await trendingTopics(t.db, 10, new Date(now));
    // 'old news' was last seen 30 hours ago: not fresh. 'riser' grew 390, the giant 10, the newcomer 0.
    expect(trending.map((x) => [x.title, x.growth, x.score])).toEqual([
      ['riser', 390, 400],
      ['steady giant', 10, 5020],
      ['newcomer', 0, 50],
    ]);
  });

  it('inspire the cases the judge writes, each topic once, and the case keeps the link', async () => {
    const t = await createTestApp({ TOPIC_FEEDS: `${origin}/r/moraldilemmas/hot.json,${origin}/broken` });
    onTestFinished(() => t.close());
    hotPosts = [
      { title: 'Should you tell a friend their partner is cheating on them', score: 300 },
      { title: 'Keeping extra change a cashier gave you by mistake', score: 200 },
      { title: 'Something nobody may show here', score: 10_000, over18: true },
    ];
    const scan = await t.scheduler.runNow('topic-scan');
    // One feed failed on its own; the other was recorded.
    expect(scan).toMatchObject({ status: 'SUCCEEDED', items: 2, successes: 1, failures: 1 });
    expect(await t.db.topic.count()).toBe(2);

    const first = await t.scheduler.runNow('case-generation');
    expect(first).toMatchObject({ status: 'SUCCEEDED' });
    const second = await t.scheduler.runNow('case-generation');
    expect(second).toMatchObject({ status: 'SUCCEEDED' });
    const cases = await t.db.case.findMany({ where: { inspiredById: { not: null } }, include: { inspiredBy: true }, orderBy: { createdAt: 'asc' } });
    // Equal growth after one scan: the higher score first, and never the same topic twice.
    expect(cases.map((c) => c.inspiredBy!.title)).toEqual([hotPosts[0]!.title, hotPosts[1]!.title]);

    const response = await t.app.yoga.fetch('http://verdict.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `{ case(id: "${cases[0]!.id}") { inspiredBy { title url source } } trendingTopics(first: 5) { title source usedByCase { id } } }`,
      }),
    });
    const { data, errors } = await response.json();
    expect(errors).toBeUndefined();
    expect(data.case.inspiredBy).toEqual({ title: hotPosts[0]!.title, url: 'https://www.reddit.com/r/moraldilemmas/comments/p0/x/', source: 'reddit:moraldilemmas' });
    expect(data.trendingTopics).toHaveLength(2);

    // No unused topic left: the judge writes freely again.
    await t.scheduler.runNow('case-generation');
    expect(await t.db.case.count({ where: { inspiredById: null, source: 'OFFLINE' } })).toBeGreaterThan(0);
  });

  it('refuses a feed list with anything but http(s) URLs at start-up', async () => {
    await expect(createTestApp({ TOPIC_FEEDS: 'file:///etc/passwd' })).rejects.toThrow(/TOPIC_FEEDS/);
  });
});
