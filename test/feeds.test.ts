import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedError, fetchFeed, parseFeed, type FeedItem } from '../src/domain/feeds.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/feeds/${name}`, import.meta.url), 'utf8');
const fixtures = {
  reddit: fixture('reddit-hot.json'),
  rss: fixture('rss.xml'),
  atom: fixture('atom.xml'),
  malformedXml: fixture('malformed.xml'),
  malformedJson: fixture('malformed.json'),
};

const REDDIT_URL = 'https://www.reddit.com/r/AmItheAsshole/hot.json?raw_json=1';
const RSS_URL = 'https://news.example.com/ethics/rss.xml';
const ATOM_URL = 'https://blog.example.org/feed.atom';

const rssItem = (title: string, link: string, publishedAt: Date | null = null): FeedItem => ({
  source: 'news.example.com',
  title,
  link,
  score: 0,
  comments: 0,
  adult: false,
  publishedAt,
});

/** The rejection of `promise`, which must be a FeedError for `url`. */
async function feedError(promise: Promise<unknown>, url: string): Promise<FeedError> {
  const error = await promise.then(
    () => expect.unreachable('expected a FeedError'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FeedError);
  expect((error as FeedError).url).toBe(url);
  return error as FeedError;
}

const parseError = (body: string, url = 'https://feeds.test/x') => feedError(Promise.resolve().then(() => parseFeed(body, url)), url);

describe('parseFeed', () => {
  it('reads a Reddit listing, adult posts flagged, stickied posts and blank titles skipped', () => {
    expect(parseFeed(fixtures.reddit, REDDIT_URL)).toEqual([
      {
        source: 'reddit:AmItheAsshole',
        title: "AITA for refusing to give my sister our late mom's ring?",
        link: 'https://www.reddit.com/r/AmItheAsshole/comments/1dc7h1m/aita_for_refusing_to_give_my_sister_our_late_moms/',
        score: 15234,
        comments: 3012,
        adult: false,
        publishedAt: new Date('2024-06-10T09:39:05.000Z'),
      },
      {
        source: 'reddit:AmItheAsshole',
        title: 'AITA for telling my roommate what her boyfriend did at the party?',
        link: 'https://www.reddit.com/r/AmItheAsshole/comments/1dc8j5p/aita_for_telling_my_roommate_what_her_boyfriend/',
        score: 4410,
        comments: 987,
        adult: true,
        publishedAt: new Date('2024-06-10T11:46:40.500Z'),
      },
      {
        source: 'reddit:AmItheAsshole',
        title: "WIBTA if I skipped my best friend's wedding for a job interview?",
        link: 'https://www.reddit.com/r/AmItheAsshole/comments/1dc9k2q/wibta_if_i_skipped_my_best_friends_wedding_for_a/',
        score: 982,
        comments: 455,
        adult: false,
        publishedAt: new Date('2024-06-10T14:33:20.000Z'),
      },
    ]);
  });

  it('takes the subreddit from the listing URL when a permalink has none, and builds links only from site paths', () => {
    const listing = JSON.stringify({
      kind: 'Listing',
      data: {
        children: [
          { kind: 't3', data: { title: 'Odd permalink', permalink: '/comments/abc/odd/', score: 'many', num_comments: 7.9, created_utc: 'soon' } },
          { kind: 't3', data: { title: 'Absolute permalink', permalink: 'https://evil.example/r/x/', score: 1 } },
          { kind: 't3', data: { title: 'Protocol-relative permalink', permalink: '//evil.example/r/x/', score: 1 } },
          { kind: 't3', data: { title: 'No permalink', url: 'https://example.com/', score: 1 } },
          null,
        ],
      },
    });
    expect(parseFeed(listing, 'https://old.reddit.com/r/moraldilemmas/top.json')).toEqual([
      {
        source: 'reddit:moraldilemmas',
        title: 'Odd permalink',
        link: 'https://www.reddit.com/comments/abc/odd/',
        score: 0,
        comments: 7,
        adult: false,
        publishedAt: null,
      },
    ]);
  });

  it('reads RSS 2.0: entities, CDATA, whitespace, relative links and bad dates; skips items without title or http(s) link', () => {
    expect(parseFeed(fixtures.rss, RSS_URL)).toEqual([
      rssItem('Is it ever right to lie to protect a friend?', 'https://news.example.com/ethics/lying-for-a-friend', new Date('2024-06-10T08:30:00Z')),
      rssItem(
        'Doctors & the duty to warn: a \u201chard case\u201d',
        'https://news.example.com/ethics/duty-to-warn?ref=rss&utm_source=feed',
        new Date('2024-06-11T12:00:00Z'),
      ),
      rssItem('Should AI <em>judges</em> decide small claims?', 'https://news.example.com/ethics/ai-judges'),
      rssItem('1984', 'https://news.example.com/ethics/1984'),
    ]);
  });

  it('reads Atom: typed titles, the alternate link, published before updated', () => {
    const atomItem = (title: string, link: string, publishedAt: Date | null): FeedItem => ({
      source: 'blog.example.org',
      title,
      link,
      score: 0,
      comments: 0,
      adult: false,
      publishedAt,
    });
    expect(parseFeed(fixtures.atom, ATOM_URL)).toEqual([
      atomItem('The trolley problem, revisited', 'https://blog.example.org/2024/06/trolley-revisited', new Date('2024-06-01T10:00:00Z')),
      atomItem('Who owns a promise made to the dead?', 'https://blog.example.org/2024/06/promises-to-the-dead', new Date('2024-06-08T06:15:00Z')),
      atomItem('Relative links resolve against the feed', 'https://blog.example.org/posts/4', null),
    ]);
  });

  it('rejects malformed XML and JSON with a FeedError', async () => {
    expect((await parseError(fixtures.malformedXml)).message).toMatch(/malformed XML.*titel/);
    expect((await parseError(fixtures.malformedJson)).message).toMatch(/malformed JSON/);
    expect((await parseError('<rss><channel><item><title>cut')).message).toMatch(/malformed XML/);
  });

  it.each([
    ['an empty body', ''],
    ['plain text', 'Service unavailable'],
    ['an HTML page', '<!DOCTYPE html><html><head><title>Hi</title></head><body></body></html>'],
    ['RSS 1.0 (RDF)', '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><item/></rdf:RDF>'],
    ['JSON that is not a listing', '{"data": {"items": []}}'],
    ['a Reddit comments page (an array of listings)', '[{"kind": "Listing", "data": {"children": []}}]'],
    ['JSON null', 'null'],
  ])('rejects %s', async (_, body) => {
    await parseError(body);
  });

  it('bounds entity expansion', async () => {
    const entity = 'x'.repeat(1_000);
    const bomb = `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e "${entity}">]><rss><channel><item><title>${'&e;'.repeat(1_000)}</title><link>https://a.test/</link></item></channel></rss>`;
    expect((await parseError(bomb)).message).toMatch(/limit/);
    const laughs = `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><rss><channel><item><title>&c;</title><link>https://a.test/</link></item></channel></rss>`;
    // Entity values are never expanded again, so nesting gains nothing.
    expect(parseFeed(laughs, RSS_URL)[0]!.title.length).toBeLessThan(100);
  });

  it('never reads external entities', async () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel><item><title>&x;</title><link>https://a.test/</link></item></channel></rss>';
    await parseError(xxe);
  });

  it('keeps at most 100 items and 300 characters of a title', () => {
    const title = `${'🙂'.repeat(298)}  \n abc`;
    const items = Array.from({ length: 150 }, (_, i) => `<item><title>${title}</title><link>https://a.test/${i}</link></item>`).join('');
    const parsed = parseFeed(`<rss><channel>${items}</channel></rss>`, RSS_URL);
    expect(parsed).toHaveLength(100);
    expect(parsed[99]!.link).toBe('https://a.test/99');
    expect(parsed[0]!.title).toBe(`${'🙂'.repeat(298)} a`);
  });

  it('accepts a byte-order mark and an empty feed', () => {
    expect(parseFeed(`\uFEFF${fixtures.atom}`, ATOM_URL)).toHaveLength(3);
    expect(parseFeed('<rss version="2.0"><channel><title>Quiet</title></channel></rss>', RSS_URL)).toEqual([]);
    expect(parseFeed('{"kind": "Listing", "data": {"children": []}}', REDDIT_URL)).toEqual([]);
  });
});

describe('fetchFeed', () => {
  let server: Server;
  let base: string;
  /** Paths the server was asked for, in order. */
  const hits: string[] = [];
  /** Resolves with the bytes a /huge response had sent when its connection closed. */
  const hugeClosed = new Map<string, Promise<{ sent: number; finished: boolean }>>();
  const HUGE_TOTAL = 64 * 1024 * 1024;

  const send = (res: ServerResponse, type: string, body: string) => {
    res.writeHead(200, { 'content-type': type });
    res.end(body);
  };

  /** Writes up to HUGE_TOTAL bytes of chunked JSON, respecting back-pressure, until the client leaves. */
  function huge(req: IncomingMessage, res: ServerResponse, id: string) {
    let sent = 0;
    hugeClosed.set(
      id,
      new Promise((resolve) => res.on('close', () => resolve({ sent, finished: res.writableFinished }))),
    );
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = () => {
      while (!res.destroyed && sent < HUGE_TOTAL) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    res.write('{"kind": "Listing", "data": {"children": [], "padding": "');
    pump();
  }

  function route(req: IncomingMessage, res: ServerResponse) {
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://localhost');
    hits.push(pathname);
    const [, first, second] = pathname.split('/');
    if (pathname === '/r/AmItheAsshole/hot.json') return send(res, 'application/json; charset=utf-8', fixtures.reddit);
    if (pathname === '/rss.xml') return send(res, 'application/rss+xml', fixtures.rss);
    if (pathname === '/atom.xml') return send(res, 'application/atom+xml', fixtures.atom);
    if (pathname === '/malformed.xml') return send(res, 'application/xml', fixtures.malformedXml);
    if (pathname === '/malformed.json') return send(res, 'application/json', fixtures.malformedJson);
    if (first === 'huge') return huge(req, res, searchParams.get('id') ?? '');
    if (pathname === '/declared-huge') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(50_000_000) });
      return void res.write('{"kind": "Listing"');
    }
    if (pathname === '/slow') {
      // Headers and a first chunk, then nothing: only the overall timeout can end this.
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.write('{"kind": "Listing", "data": {"children": [');
    }
    if (pathname === '/silent') return; // never answers
    if (first === 'redirect') {
      res.writeHead(Number(second), { location: `/redirect-target/${second}` });
      return void res.end();
    }
    if (first === 'redirect-target') return send(res, 'application/rss+xml', fixtures.rss);
    if (first === 'status') {
      res.writeHead(Number(second), { 'content-type': 'text/plain' });
      return void res.end('nope');
    }
    res.writeHead(404);
    res.end();
  }

  beforeAll(async () => {
    server = createServer(route);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fetches a Reddit listing', async () => {
    const url = `${base}/r/AmItheAsshole/hot.json?limit=25`;
    const items = await fetchFeed(url);
    expect(items).toEqual(parseFeed(fixtures.reddit, url));
    expect(items.map((i) => [i.source, i.adult])).toEqual([
      ['reddit:AmItheAsshole', false],
      ['reddit:AmItheAsshole', true],
      ['reddit:AmItheAsshole', false],
    ]);
  });

  it('fetches RSS and Atom, naming the feed host as the source', async () => {
    const host = new URL(base).host;
    const rss = await fetchFeed(`${base}/rss.xml`);
    expect(rss).toEqual(parseFeed(fixtures.rss, `${base}/rss.xml`));
    expect(rss.map((i) => i.source)).toEqual(Array(4).fill(host));
    expect(rss[2]!.link).toBe(`${base}/ethics/ai-judges`);
    const atom = await fetchFeed(`${base}/atom.xml`);
    expect(atom).toEqual(parseFeed(fixtures.atom, `${base}/atom.xml`));
    expect(atom.map((i) => i.source)).toEqual(Array(3).fill(host));
  });

  it.each(['malformed.xml', 'malformed.json'])('rejects %s with a FeedError', async (name) => {
    const url = `${base}/${name}`;
    expect((await feedError(fetchFeed(url), url)).message).toMatch(/malformed/);
  });

  it('aborts a body that grows past maxBytes without a Content-Length', async () => {
    const url = `${base}/huge?id=small`;
    expect((await feedError(fetchFeed(url, { maxBytes: 100_000 }), url)).message).toMatch(/exceeds the limit of 100000 bytes/);
    const closed = await hugeClosed.get('small');
    expect(closed?.finished).toBe(false);
    expect(closed?.sent).toBeLessThan(HUGE_TOTAL);
  });

  it('refuses more than 2 MB by default', async () => {
    const url = `${base}/huge?id=default`;
    expect((await feedError(fetchFeed(url), url)).message).toMatch(/exceeds the limit of 2000000 bytes/);
    expect((await hugeClosed.get('default'))?.finished).toBe(false);
  });

  it('accepts a body of exactly maxBytes and refuses one byte less', async () => {
    const url = `${base}/rss.xml`;
    const size = Buffer.byteLength(fixtures.rss);
    await expect(fetchFeed(url, { maxBytes: size })).resolves.toHaveLength(4);
    await feedError(fetchFeed(url, { maxBytes: size - 1 }), url);
  });

  it('refuses a declared Content-Length over the limit without waiting for the body', async () => {
    const url = `${base}/declared-huge`;
    expect((await feedError(fetchFeed(url, { timeoutMs: 20_000 }), url)).message).toMatch(/body of 50000000 bytes exceeds/);
  });

  it('times out a response that sends headers and then stalls', async () => {
    const url = `${base}/slow`;
    expect((await feedError(fetchFeed(url, { timeoutMs: 300 }), url)).message).toMatch(/timed out after 300 ms/);
  });

  it('times out a server that never answers', async () => {
    const url = `${base}/silent`;
    expect((await feedError(fetchFeed(url, { timeoutMs: 300 }), url)).message).toMatch(/timed out after 300 ms/);
  });

  it.each([301, 302, 303, 307, 308])('treats a %i redirect as an error and never follows it', async (code) => {
    const url = `${base}/redirect/${code}`;
    const error = await feedError(fetchFeed(url), url);
    expect(error.message).toMatch(new RegExp(`redirected \\(HTTP ${code} to /redirect-target/${code}\\)`));
    expect(hits).toContain(`/redirect/${code}`);
    expect(hits).not.toContain(`/redirect-target/${code}`);
  });

  it.each([500, 404])('rejects HTTP %i', async (code) => {
    const url = `${base}/status/${code}`;
    expect((await feedError(fetchFeed(url), url)).message).toMatch(new RegExp(`HTTP ${code}$`));
  });

  it('reports a refused connection as a FeedError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/feed`;
    await new Promise((resolve) => closed.close(resolve));
    expect((await feedError(fetchFeed(url), url)).message).toMatch(/request failed/);
  });

  it.each([
    ['file:///etc/passwd', /not file:/],
    ['ftp://127.0.0.1/rss.xml', /not ftp:/],
    ['javascript:alert(1)', /not javascript:/],
    ['data:application/json,{}', /not data:/],
    ['not a url', /not a valid URL/],
  ])('refuses %s before any network access', async (url, message) => {
    const realFetch = globalThis.fetch;
    let calls = 0;
    globalThis.fetch = (...args) => {
      calls++;
      return realFetch(...args);
    };
    try {
      expect((await feedError(fetchFeed(url), url)).message).toMatch(message);
      expect(calls).toBe(0);
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
