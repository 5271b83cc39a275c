import { createHash } from 'node:crypto';

/**
 * HTTP caching of public pages (SPEC §16): the headers that let any HTTP cache or CDN keep a page,
 * and the surrogate keys that name what a page shows, so one removal purges exactly the pages it
 * changes (`modules/edge` sends the purges).
 *
 * - `Cache-Control: public, max-age=<PUBLIC_MAX_AGE>, s-maxage=<EDGE_MAX_AGE>`: browsers keep a page
 *   briefly (they cannot be purged); shared caches keep it long, because every change purges them.
 * - `Surrogate-Key` (Varnish, Fastly; space-separated) and `Cache-Tag` (Cloudflare; comma-separated)
 *   carry the same keys: `item-<id>`, `source-<id>` and the lists below.
 * - `ETag` (and `Last-Modified` where a correct one is known): Express answers `304` itself.
 * - No `Vary` beyond what the content depends on (no cookies, no Accept-Encoding games here).
 * - `451`/`410` and every error: `no-store`, never kept anywhere.
 */

/** Keys of the list pages: each is purged whenever an item enters or leaves it. */
export const LIST_KEYS = { front: 'front', feed: 'feed', sitemap: 'sitemap', transparency: 'transparency' } as const;
export type ListKey = (typeof LIST_KEYS)[keyof typeof LIST_KEYS];

export const itemKey = (id: string) => `item-${id}`;
export const sourceKey = (id: string) => `source-${id}`;
export const sitemapPartKey = (n: number) => `sitemap-${n}`;

/** Every list an item's publication or removal changes. */
export const ITEM_LISTS: readonly string[] = [LIST_KEYS.front, LIST_KEYS.feed, LIST_KEYS.sitemap];

export interface CachePolicy {
  publicMaxAge: number;
  edgeMaxAge: number;
}

export const NO_STORE: Readonly<Record<string, string>> = Object.freeze({ 'Cache-Control': 'no-store' });

/** The headers of a public page that shared caches may keep until purged. */
export function publicCacheHeaders(
  policy: CachePolicy,
  keys: readonly string[],
  opts: { lastModified?: Date | null; edgeMaxAge?: number } = {},
): Record<string, string> {
  const edge = opts.edgeMaxAge ?? policy.edgeMaxAge;
  const h: Record<string, string> = {
    'Cache-Control': `public, max-age=${Math.min(policy.publicMaxAge, edge)}, s-maxage=${edge}`,
  };
  if (keys.length) {
    h['Surrogate-Key'] = keys.join(' ');
    h['Cache-Tag'] = keys.join(',');
  }
  if (opts.lastModified) h['Last-Modified'] = httpDate(opts.lastModified);
  return h;
}

/** A strong validator of a body. */
export function strongEtag(body: Buffer | string): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/** HTTP dates have whole seconds. */
export function httpDate(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toUTCString();
}
