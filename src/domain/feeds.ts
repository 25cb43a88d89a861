import { createRequire } from 'node:module';

// fast-xml-parser is loaded with the first XML feed, not at start-up (its CommonJS build, so parsing stays synchronous).
let fxp: typeof import('fast-xml-parser') | undefined;
const xml = () => (fxp ??= createRequire(import.meta.url)('fast-xml-parser') as typeof import('fast-xml-parser'));

/** One trending topic from a feed: the raw material the topic-scan job turns into a case. */
export interface FeedItem {
  /** `reddit:<subreddit>` for a Reddit listing, otherwise the feed URL's host. */
  source: string;
  title: string;
  /** Absolute http(s) URL. */
  link: string;
  /** Reddit score; 0 for RSS and Atom. */
  score: number;
  /** Reddit comment count; 0 for RSS and Atom. */
  comments: number;
  /** Reddit's over_18 flag; always false for RSS and Atom. */
  adult: boolean;
  publishedAt: Date | null;
}

export interface FetchFeedOptions {
  /** The whole request, headers and body, must finish within this time. Default 10 s. */
  timeoutMs?: number;
  /** Bodies larger than this (after decompression) are refused. Default 2 MB. */
  maxBytes?: number;
}

export class FeedError extends Error {
  override name = 'FeedError';
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Feed ${url}: ${message}`, options);
  }
}

export const FEED_LIMITS = {
  timeoutMs: 10_000,
  maxBytes: 2_000_000,
  items: 100,
  titleChars: 300,
} as const;

/** Reddit refuses generic clients; its API rules ask for a descriptive User-Agent. */
const USER_AGENT = 'verdict-topic-scan/0.1';
const ACCEPT = 'application/rss+xml, application/atom+xml, application/json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5';

/**
 * Fetches a Reddit listing, RSS 2.0 or Atom feed and returns its items. Redirects are refused
 * rather than followed, so a feed cannot bounce the fetch to a host nobody configured; the body
 * is counted as it streams, because a Content-Length header is a claim, not a limit.
 */
export async function fetchFeed(url: string, options: FetchFeedOptions = {}): Promise<FeedItem[]> {
  const { timeoutMs = FEED_LIMITS.timeoutMs, maxBytes = FEED_LIMITS.maxBytes } = options;
  const target = httpUrl(url);
  const signal = AbortSignal.timeout(timeoutMs);
  const failure = (error: unknown, doing: string) =>
    signal.aborted
      ? new FeedError(url, `timed out after ${timeoutMs} ms`, { cause: error })
      : new FeedError(url, `${doing} failed: ${messageOf(error)}`, { cause: error });

  let response: Response;
  try {
    response = await fetch(target, { redirect: 'manual', signal, headers: { accept: ACCEPT, 'user-agent': USER_AGENT } });
  } catch (error) {
    throw failure(error, 'request');
  }
  if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
    await discard(response);
    const location = response.headers.get('location');
    throw new FeedError(url, `redirected (HTTP ${response.status}${location ? ` to ${location}` : ''}); redirects are not followed`);
  }
  if (!response.ok) {
    await discard(response);
    throw new FeedError(url, `HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) {
    await discard(response);
    throw new FeedError(url, `body of ${declared} bytes exceeds the limit of ${maxBytes}`);
  }

  let body: string;
  try {
    body = await readText(response, maxBytes);
  } catch (error) {
    if (error instanceof TooLarge) throw new FeedError(url, `body exceeds the limit of ${maxBytes} bytes`);
    throw failure(error, 'reading the body');
  }
  return parseFeed(body, url);
}

class TooLarge extends Error {}

/** Frees the connection; a body that fails while being dropped changes nothing. */
const discard = (response: Response) => response.body?.cancel().catch(() => {});

async function readText(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let received = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new TooLarge();
    }
    text += decoder.decode(value, { stream: true });
  }
}

/** Parses a fetched body; the format is told by its first character, not by a header. */
export function parseFeed(body: string, url: string): FeedItem[] {
  const text = body.startsWith('\uFEFF') ? body.slice(1) : body;
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') return parseRedditListing(text, url);
  if (first === '<') return parseXmlFeed(text, url);
  throw new FeedError(url, 'neither JSON nor XML');
}

function parseRedditListing(text: string, url: string): FeedItem[] {
  let listing: unknown;
  try {
    listing = JSON.parse(text);
  } catch (error) {
    throw new FeedError(url, `malformed JSON: ${messageOf(error)}`, { cause: error });
  }
  const children = field(field(listing, 'data'), 'children');
  if (!Array.isArray(children)) throw new FeedError(url, 'JSON is not a Reddit listing (no data.children)');

  const fallbackSource = redditSource(safeUrl(url)?.pathname) ?? 'reddit';
  return collect(children, (child) => {
    const post = field(child, 'data');
    const permalink = field(post, 'permalink');
    // Permalinks are site paths; anything else could point the link at another host.
    if (typeof permalink !== 'string' || !permalink.startsWith('/') || permalink.startsWith('//')) return null;
    // A moderators' pinned post (rules, a monthly thread) is not a topic people are discussing.
    if (field(post, 'stickied') === true) return null;
    const created = field(post, 'created_utc');
    return {
      source: redditSource(permalink) ?? fallbackSource,
      title: field(post, 'title'),
      link: httpLink(`https://www.reddit.com${permalink}`),
      score: count(field(post, 'score')),
      comments: count(field(post, 'num_comments')),
      adult: field(post, 'over_18') === true,
      publishedAt: typeof created === 'number' ? validDate(new Date(created * 1000)) : null,
    };
  });
}

/** `reddit:<subreddit>` from a path that starts with /r/<subreddit>/. */
function redditSource(path: string | undefined): string | null {
  const [empty, r, subreddit] = path?.split('/') ?? [];
  return empty === '' && r === 'r' && subreddit ? `reddit:${subreddit}` : null;
}

/**
 * Entities are expanded in one pass (an entity's value is never scanned again), so the only
 * growth comes from DOCTYPE entities: few, short, and a cap on what expansion may add. The
 * expansion count includes every `&amp;`, so it is set far above what a 2 MB feed can hold.
 * `htmlEntities` turns on numeric references (`&#8217;`), which XML requires and feeds use.
 */
const xmlParser = () =>
  new (xml().XMLParser)({
    ignoreAttributes: false,
    parseTagValue: false,
    htmlEntities: true,
    processEntities: {
      enabled: true,
      maxEntityCount: 50,
      maxEntitySize: 1_000,
      maxExpandedLength: 100_000,
      maxTotalExpansions: 1_000_000,
    },
  });

function parseXmlFeed(text: string, url: string): FeedItem[] {
  let document: unknown;
  try {
    // The parser itself is lenient (it closes what is left open), so well-formedness is checked first.
    const valid = xml().XMLValidator.validate(text);
    if (valid !== true) throw new FeedError(url, `malformed XML: ${valid.err.msg} (line ${valid.err.line})`);
    document = xmlParser().parse(text);
  } catch (error) {
    if (error instanceof FeedError) throw error;
    throw new FeedError(url, `unreadable XML: ${messageOf(error)}`, { cause: error });
  }

  const source = safeUrl(url)?.host ?? '';
  const rss = field(document, 'rss');
  if (rss !== undefined) {
    const items = list(field(rss, 'channel')).flatMap((channel) => list(field(channel, 'item')));
    return collect(items, (item) => ({
      source,
      title: textOf(field(item, 'title')),
      link: httpLink(textOf(list(field(item, 'link'))[0]), url),
      score: 0,
      comments: 0,
      adult: false,
      publishedAt: dateOf(textOf(field(item, 'pubDate'))),
    }));
  }
  const feed = field(document, 'feed');
  if (feed !== undefined) {
    return collect(list(field(feed, 'entry')), (entry) => ({
      source,
      title: textOf(field(entry, 'title')),
      link: httpLink(atomAlternate(field(entry, 'link')), url),
      score: 0,
      comments: 0,
      adult: false,
      publishedAt: dateOf(textOf(field(entry, 'published')) || textOf(field(entry, 'updated'))),
    }));
  }
  throw new FeedError(url, 'XML is neither RSS 2.0 (rss > channel) nor Atom (feed)');
}

/** An Atom link without `rel` is the alternate (RFC 4287 §4.2.7.2); self, edit and enclosure are not the story. */
function atomAlternate(links: unknown): string {
  const alternate = list(links).find((link) => {
    const rel = field(link, '@_rel');
    return rel === undefined || rel === 'alternate';
  });
  const href = field(alternate, '@_href');
  return typeof href === 'string' ? href : '';
}

type Draft = Omit<FeedItem, 'title' | 'link'> & { title: unknown; link: string | null };

/** Keeps drafts with a title and an http(s) link, normalised, up to the per-feed limit. */
function collect(entries: unknown[], draft: (entry: unknown) => Draft | null): FeedItem[] {
  const items: FeedItem[] = [];
  for (const entry of entries) {
    if (items.length === FEED_LIMITS.items) break;
    const item = draft(entry);
    const title = typeof item?.title === 'string' ? cleanTitle(item.title) : '';
    if (!item || !title || !item.link) continue;
    items.push({ ...item, title, link: item.link });
  }
  return items;
}

function cleanTitle(title: string): string {
  const collapsed = title.replace(/\s+/g, ' ').trim();
  const chars = [...collapsed];
  return chars.length <= FEED_LIMITS.titleChars ? collapsed : chars.slice(0, FEED_LIMITS.titleChars).join('').trimEnd();
}

/** Resolves against the feed (Atom allows relative links) and keeps only http(s) results. */
function httpLink(raw: string, base?: string): string | null {
  if (!raw.trim()) return null;
  const link = safeUrl(raw.trim(), base);
  return link && (link.protocol === 'http:' || link.protocol === 'https:') ? link.href : null;
}

/** Refuses anything but http(s) before a socket is opened: file:, data:, ftp: and friends. */
function httpUrl(url: string): URL {
  const parsed = safeUrl(url);
  if (!parsed) throw new FeedError(url, 'not a valid URL');
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new FeedError(url, `only http: and https: feeds are fetched, not ${parsed.protocol}`);
  }
  return parsed;
}

function safeUrl(url: string, base?: string): URL | null {
  try {
    return new URL(url, base);
  } catch {
    return null;
  }
}

/** Element text: a plain string, or `#text` when the element also has attributes. */
function textOf(node: unknown): string {
  if (typeof node === 'string') return node;
  const text = field(node, '#text');
  return typeof text === 'string' ? text : '';
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** The XML parser gives one child as a value and several as an array. */
const list = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Counts are whole numbers (GraphQL exposes them as Int); anything else counts as 0. */
const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : 0);

const validDate = (date: Date) => (Number.isNaN(date.getTime()) ? null : date);

const dateOf = (text: string) => (text.trim() ? validDate(new Date(text.trim())) : null);

const messageOf = (error: unknown) => {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error instanceof Error ? error.message + cause : String(error);
};
