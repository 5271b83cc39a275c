/**
 * Which address of a feed entry is the publisher's own (issue 21), and every other address it is
 * known by. Entries proxied by FeedBurner and the like carry a redirect through the proxy as their
 * `<link>` (`feeds.feedburner.com/~r/…`, `feedproxy.google.com/~r/…`, `feeds.<publisher>/~r/…`),
 * and the publisher's address elsewhere: `feedburner:origLink`, a permalink `<guid>`, an Atom
 * `<link rel="alternate">`. A rights holder names the publisher's address in a notice; both must
 * match the item, and the backdating and domain checks must see the publisher's host.
 */

import type { ItemAddress } from '../items';

/** An address of an entry and where it came from (the registry keeps it as an item alias). */
export type EntryUrl = ItemAddress;

/** Hosts that only redirect (feed proxies, click trackers): never an item's original when something better is known. */
const REDIRECT_HOSTS = new Set([
  'feedproxy.google.com',
  'feeds.feedburner.com',
  'feedburner.google.com',
  'feeds.feedblitz.com',
  'rss.feedsportal.com',
]);

/** True for a known proxy or tracking redirect: the hosts above, `*.feedsportal.com`, and FeedBurner's `/~r/` paths on any host (`feeds.<publisher>/~r/…`). */
export function isRedirectProxy(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const host = u.hostname.toLowerCase().replace(/^www\./, '');
  if (REDIRECT_HOSTS.has(host) || host.endsWith('.feedsportal.com')) return true;
  if (/^\/~r\//.test(u.pathname)) return true; // FeedBurner's redirect path, also on a publisher's feeds.<domain>
  if (host.startsWith('feeds.') && /^\/~[a-z]{0,3}\//i.test(u.pathname)) return true; // FeedBlitz-style /~/ on feeds.<domain>
  return false;
}

/**
 * The candidates in order of preference (`feedburner:origLink`, a permalink guid, the alternate link,
 * the entry link); the original is the first that is not a redirect proxy (the first at all if all
 * are). Returns the original and every distinct address with its kind (proxies marked `proxy`).
 */
export function chooseOriginal(candidates: EntryUrl[]): { original: string | null; all: EntryUrl[] } {
  const seen = new Set<string>();
  const all: EntryUrl[] = [];
  for (const c of candidates) {
    if (!c.url || seen.has(c.url)) continue;
    seen.add(c.url);
    all.push({ url: c.url, kind: isRedirectProxy(c.url) ? 'proxy' : c.kind });
  }
  const original =
    (all.find((c) => c.kind !== 'proxy' && c.kind !== 'canonical') ?? all.find((c) => c.kind !== 'canonical') ?? all[0])?.url ?? null;
  return { original, all };
}

/** A link tag longer than this is no canonical link (and its attributes are not searched). */
const MAX_TAG = 4096;

/** `<link rel="canonical" href>` (or an `<a rel="canonical">`) in an entry's content HTML, resolved against `base`. */
export function canonicalLinksIn(html: string, base: string | null): string[] {
  const out: string[] = [];
  if (!html || !/canonical/i.test(html)) return out;
  // Each pattern stops at the next "<" or quote: `[^>]*` searched to the end of a 20 MB entry from
  // every "<a" when no ">" followed (117 KB took 8 s, issue 18's hostile-input review).
  const tag = /<(?:link|a)\b[^<>]*>/gi;
  for (let m = tag.exec(html); m && out.length < 5; m = tag.exec(html)) {
    const t = m[0];
    if (t.length > MAX_TAG) continue;
    const rel = /\brel\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i.exec(t);
    if (!rel || !/\bcanonical\b/i.test(rel[1] ?? rel[2] ?? rel[3] ?? '')) continue;
    const href = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(t);
    const value = href && (href[1] ?? href[2] ?? href[3]);
    if (!value) continue;
    try {
      const u = base ? new URL(value.replace(/&amp;/g, '&'), base) : new URL(value.replace(/&amp;/g, '&'));
      if (u.protocol === 'http:' || u.protocol === 'https:') out.push(u.toString());
    } catch {
      // not a URL: ignored
    }
  }
  return out;
}
