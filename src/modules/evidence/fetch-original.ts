import { convert } from 'html-to-text';
import type { AppDeps } from '../../deps';
import { fetchFeed } from '../feeds';

/**
 * The claimed original, fetched on demand for the evidence page through the feeds' SSRF-guarded
 * fetcher: http(s) only, no private, loopback or link-local address (unless ALLOW_PRIVATE_FEEDS),
 * checked on the address each connection really uses; EVIDENCE_TIMEOUT_SECONDS overall,
 * EVIDENCE_MAX_BYTES at most, a few redirects. The text is kept per instance for 10 minutes (a
 * failure for 1), so moderators opening the same notice do not fetch the page again; concurrent
 * requests for one URL share one download.
 */

export type Original =
  { ok: true; url: string; finalUrl: string; text: string; fetchedAt: Date } | { ok: false; url: string; error: string; fetchedAt: Date };

const KEEP_MS = 10 * 60_000;
const KEEP_FAILURE_MS = 60_000;
const MAX_ENTRIES = 500;
/**
 * What the kept texts may take together (issue 18: every in-process cache bounded by bytes): 500
 * pages of EVIDENCE_MAX_BYTES would be a gigabyte. Counted as 2 bytes a character (V8's widest
 * strings); the oldest go first, and a text over a quarter of it is served but not kept.
 */
export const ORIGINALS_MAX_BYTES = 8 * 1024 * 1024;

/** The readable text of a page: its <article>, else <main>, else <body>; no navigation, scripts or images. */
export function pageText(html: string): string {
  const base = /<article[\s>]/i.test(html) ? 'article' : /<main[\s>]/i.test(html) ? 'main' : 'body';
  return convert(html, {
    wordwrap: false,
    baseElements: { selectors: [base], returnDomByDefault: true },
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'nav', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'form', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
    ],
  })
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function decode(body: Buffer, contentType: string | null): string {
  const charset = /charset=["']?([\w-]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase() ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}

/** The fetcher's reasons speak of feeds ("the feed is too large"); here the moderator asked for a web page. */
const asPage = (reason: string) => reason.replace(/\bfeed(s?)\b/g, 'page$1');

export function originalFetcher(deps: Pick<AppDeps, 'config' | 'clock'>) {
  type Entry = { until: number; bytes: number; p: Promise<Original> };
  const cache = new Map<string, Entry>();
  const load = async (url: string): Promise<Original> => {
    const fetchedAt = deps.clock.now();
    try {
      const res = await fetchFeed(url, {
        allowPrivate: deps.config.policy.allowPrivateFeeds,
        timeoutMs: deps.config.evidence.timeoutMs,
        maxBytes: deps.config.evidence.maxBytes,
        maxRedirects: 5,
        userAgent: 'TakedownDesk evidence check',
      });
      if (res.notModified) return { ok: false, url, error: 'the page answered 304 Not Modified', fetchedAt };
      const type = (res.contentType ?? '').toLowerCase();
      const html = /html|xml/.test(type) || !type;
      if (!html && !type.startsWith('text/plain')) return { ok: false, url, error: `not a web page (${type.split(';')[0]})`, fetchedAt };
      const raw = decode(res.body, res.contentType);
      return { ok: true, url, finalUrl: res.finalUrl, text: html ? pageText(raw) : raw.trim(), fetchedAt };
    } catch (e) {
      return { ok: false, url, error: asPage(e instanceof Error ? e.message : String(e)), fetchedAt };
    }
  };
  let bytes = 0;
  const drop = (url: string) => {
    const e = cache.get(url);
    if (!e) return;
    cache.delete(url);
    bytes -= e.bytes;
  };
  return (url: string): Promise<Original> => {
    const now = Date.now();
    const hit = cache.get(url);
    if (hit && hit.until > now) return hit.p;
    drop(url);
    if (cache.size >= MAX_ENTRIES) for (const [k, v] of cache) if (v.until <= now || cache.size >= MAX_ENTRIES) drop(k);
    const entry: Entry = { until: now + KEEP_MS, bytes: 0, p: load(url) };
    cache.set(url, entry);
    void entry.p.then((o) => {
      if (cache.get(url) !== entry) return;
      if (!o.ok) entry.until = Date.now() + KEEP_FAILURE_MS;
      entry.bytes = 2 * ((o.ok ? o.text.length + o.finalUrl.length : o.error.length) + url.length) + 200;
      bytes += entry.bytes;
      if (entry.bytes > ORIGINALS_MAX_BYTES / 4) return drop(url);
      for (const k of cache.keys()) {
        if (bytes <= ORIGINALS_MAX_BYTES) break;
        drop(k);
      }
    });
    return entry.p;
  };
}
