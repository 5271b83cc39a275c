import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { Router } from 'express';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { itemKey, LIST_KEYS, NO_STORE, publicCacheHeaders, sitemapPartKey, sourceKey } from '../../shared/http-cache';
import type { LeanRoute } from '../../shared/lean-public';
import { createPageRenderer, PageRenderer } from '../../shared/views';
import { poolOf } from '../../db/data-source';
import { decodeCursor, ItemPage, itemPageReader, itemPageUrl, latestPublished } from './items.queries';
import { CachedPage, pageCacheFor } from './page-cache';
import { withImageStates } from './item-images';

/**
 * The public site (SPEC §5): the front page, item pages with the attribution footer, our RSS feed
 * and the sitemap. Mounted before the staff router, so no request here touches the session store.
 * Item pages are served from the rendered-page cache (page-cache.ts) whenever it is live.
 *
 * HTTP caching (SPEC §16, shared/http-cache.ts): every page may be kept by shared caches for
 * EDGE_MAX_AGE and names its surrogate keys; every change queues an edge purge of them (modules/edge).
 * Item pages carry `Last-Modified` (the item's or its source's last change, whichever is later);
 * lists carry a strong `ETag` only: a removal makes a list *older*, so no date of it is a safe validator.
 */
const SLUG = /^[a-z0-9][a-z0-9-]{0,119}$/;

const etagOf = (body: Buffer) => `"${createHash('sha1').update(body).digest('base64url')}"`;

/** Renders one item's page in the state it is in: 200, 451 (removed) or 410 (withdrawn). */
export function renderItemPage(render: PageRenderer, deps: AppDeps, item: ItemPage): CachedPage {
  const base = deps.config.publicBaseUrl;
  const pageUrl = itemPageUrl(base, item.slug);
  const common = { baseUrl: base, item, source: item.source, pageUrl };
  let status = 200;
  let html: string;
  const headers: Record<string, string> = { 'Content-Type': 'text/html; charset=utf-8' };
  // A held copy (SPEC §13) answers like the removed original it matched, naming the same notice.
  const removal =
    item.status === 'removed'
      ? item.removal
      : item.status === 'held' && item.held
        ? {
            noticeId: item.held.noticeId,
            reference: item.held.noticeReference,
            claimant: item.held.claimant,
            legalBasis: item.held.legalBasis,
          }
        : null;
  if (removal) {
    status = 451;
    Object.assign(headers, NO_STORE);
    // RFC 7725: the party that implements the block.
    headers.Link = `<${base}>; rel="blocked-by"`;
    html = render('items/removed', {
      ...common,
      title: 'Unavailable for legal reasons',
      removal,
      recordUrl: `/transparency/notices/${encodeURIComponent(removal.reference)}`,
      robotsNoindex: true,
    });
  } else if (item.status !== 'published') {
    // Withdrawn (and any state not published, e.g. held): 410, kept nowhere.
    status = 410;
    Object.assign(headers, NO_STORE);
    html = render('items/withdrawn', { ...common, title: 'This item is no longer here', robotsNoindex: true });
  } else {
    const updated = Math.max(item.updatedAt.getTime(), item.source.updatedAt.getTime());
    // A page still waiting for an image check changes when the check ends, later than any date it
    // carries: it has no Last-Modified, so a revalidation goes by its ETag (of the body) alone.
    const lastModified = item.uncheckedImages.length ? undefined : new Date(updated);
    Object.assign(headers, publicCacheHeaders(deps.config.edge, [itemKey(item.id), sourceKey(item.sourceId)], { lastModified }));
    // SPEC §19: each removed image becomes a note linking to the notice's public record; an image
    // not yet checked against the image staydown bank is left out until the check (read with the item).
    html = render('items/show', {
      ...common,
      item: { ...item, content: withImageStates(item.content, item.removedImages, item.uncheckedImages) },
      title: item.title,
      // Only %XX escapes and unreserved characters: nothing the template's escaping changes.
      takedownTarget: encodeURIComponent(pageUrl),
      published: item.sourcePublishedAt ?? item.firstFetchedAt,
    });
  }
  // Its own memory, never a slice of Node's shared 8 KiB buffer pool: a page under 4 KiB kept in the
  // page cache would keep the pool's whole slab alive, more than the cache counts (issue 18: bytes).
  const body = Buffer.allocUnsafeSlow(Buffer.byteLength(html, 'utf8'));
  body.write(html, 'utf8');
  return { status, body, etag: etagOf(body), headers };
}

function send(req: Request, res: Response, page: CachedPage) {
  res.status(page.status);
  res.set(page.headers);
  if (page.status === 200) res.set('ETag', page.etag);
  res.send(page.body); // answers 304 itself when If-None-Match matches a 200 page
}

/** An item's page by slug: from the page cache (synchronously), else read and rendered; null: no such item. */
type ItemPages = (slug: string) => CachedPage | Promise<CachedPage | null>;

/** One per database (per app instance), shared by the Express route and the lean front (app.ts). */
const itemPagesByDb = new WeakMap<DataSource, ItemPages>();
function itemPagesFor(deps: AppDeps): ItemPages {
  let pages = itemPagesByDb.get(deps.db);
  if (!pages) itemPagesByDb.set(deps.db, (pages = createItemPages(deps)));
  return pages;
}

function createItemPages(deps: AppDeps): ItemPages {
  const cache = pageCacheFor(deps.db);
  const read = itemPageReader(poolOf(deps.db));
  const render = createPageRenderer({ reload: deps.config.viewReload });
  // Concurrent misses of one page share one read and render (a popular page just invalidated must
  // not send every waiting reader to the database at once). A render is shared only with requests
  // that arrived before any later invalidation, so nobody is handed a page older than their request.
  const inflight = new Map<string, { epoch: number; page: Promise<CachedPage | null> }>();
  const renderFresh = (slug: string): Promise<CachedPage | null> => {
    const epoch = cache.epoch;
    const shared = inflight.get(slug);
    if (shared && shared.epoch === epoch) return shared.page;
    const page = read(slug)
      .then((item) => {
        if (!item) return null;
        const rendered = renderItemPage(render, deps, item);
        cache.set(slug, rendered, epoch);
        return rendered;
      })
      .finally(() => {
        if (inflight.get(slug)?.page === page) inflight.delete(slug);
      });
    inflight.set(slug, { epoch, page });
    return page;
  };
  return (slug) => cache.get(slug) ?? renderFresh(slug);
}

/**
 * `/items/<slug>` on the lean front (shared/lean-public.ts): a plain lower-case slug is answered
 * there, hit or miss; anything else (another spelling, an unknown slug, a failed read) is handed to
 * the full app, whose route below answers it (404, 503…) as before.
 */
const PLAIN_SLUG = /^[A-Za-z0-9][A-Za-z0-9-]{0,119}$/;
export function leanItemPages(deps: AppDeps): LeanRoute {
  const pages = itemPagesFor(deps);
  return {
    route: '/items/:slug',
    prefix: '/items/',
    answer: (rest) => (PLAIN_SLUG.test(rest) ? pages(rest.toLowerCase()) : null),
  };
}

export function publicItemRoutes(deps: AppDeps): Router {
  const r = Router();
  const pool = poolOf(deps.db);
  const pages = itemPagesFor(deps);

  r.get('/', async (req, res) => {
    const before = decodeCursor(req.query.before);
    const { items, next } = await latestPublished(deps.db.manager, { before, limit: 20 });
    res.set(publicCacheHeaders(deps.config.edge, [LIST_KEYS.front]));
    res.render('home', { title: 'Latest articles', items, next, paged: !!before });
  });

  r.get('/items/:slug', async (req, res) => {
    const slug = String(req.params.slug).toLowerCase();
    if (!SLUG.test(slug)) throw AppError.notFound('Item', 'ITEM.NOT_FOUND');
    const page = await pages(slug);
    if (!page) throw AppError.notFound('Item', 'ITEM.NOT_FOUND');
    send(req, res, page);
  });

  r.get('/feed.xml', async (_req, res) => {
    const base = deps.config.publicBaseUrl;
    const { items } = await latestPublished(deps.db.manager, { limit: 50 });
    const parts = [
      '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n',
      `<title>Takedown Desk: republished articles</title>\n<link>${xml(base + '/')}</link>\n`,
      `<description>Articles republished from publicly available feeds, with attribution to their original publishers.</description>\n`,
      `<atom:link href="${xml(base + '/feed.xml')}" rel="self" type="application/rss+xml"/>\n`,
      items[0] ? `<lastBuildDate>${items[0].listedAt.toUTCString()}</lastBuildDate>\n` : '',
    ];
    for (const i of items) {
      const url = itemPageUrl(base, i.slug);
      parts.push(
        '<item>\n',
        `<title>${xml(i.title)}</title>\n<link>${xml(url)}</link>\n<guid isPermaLink="true">${xml(url)}</guid>\n`,
        `<pubDate>${i.listedAt.toUTCString()}</pubDate>\n`,
        i.author ? `<dc:creator>${xml(i.author)}</dc:creator>\n` : '',
        `<description>${xml(i.excerpt)}</description>\n`,
        i.source?.feedUrl ? `<source url="${xml(i.source.feedUrl)}">${xml(i.source.name)}</source>\n` : '',
        '</item>\n',
      );
    }
    parts.push('</channel>\n</rss>\n');
    res.set(publicCacheHeaders(deps.config.edge, [LIST_KEYS.feed]));
    res.type('application/rss+xml; charset=utf-8').send(parts.join(''));
  });

  /**
   * Published items. Up to 49,999 of them: one sitemap (with the front page). Past that, a sitemap
   * index (with each part's lastmod) of parts /sitemap-<n>.xml of 49,999 items each (part 1 also
   * lists the front page, so no part exceeds the protocol's 50,000 URLs), oldest first, so new
   * items fill the last part and earlier parts keep their lastmod. Every part carries the keys
   * `sitemap` and `sitemap-<n>`: a change to the lists purges them all, like the pages.
   */
  r.get('/sitemap.xml', async (_req, res) => {
    const base = deps.config.publicBaseUrl;
    const parts = await sitemapParts(pool);
    if (parts.length > 1) {
      const out = ['<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'];
      for (const p of parts)
        out.push(`<sitemap><loc>${xml(`${base}/sitemap-${p.part}.xml`)}</loc><lastmod>${p.lastmod.toISOString()}</lastmod></sitemap>\n`);
      out.push('</sitemapindex>\n');
      res.set(publicCacheHeaders(deps.config.edge, [LIST_KEYS.sitemap]));
      return res.type('application/xml; charset=utf-8').send(out.join(''));
    }
    res.set(publicCacheHeaders(deps.config.edge, [LIST_KEYS.sitemap]));
    res.type('application/xml; charset=utf-8').send(await sitemapUrlset(pool, base, 1));
  });

  r.get('/sitemap-:part.xml', async (req, res) => {
    const part = /^[1-9]\d{0,5}$/.test(String(req.params.part)) ? Number(req.params.part) : 0;
    const parts = part ? await sitemapParts(pool) : [];
    if (parts.length < 2 || part > parts.length) throw AppError.notFound('Sitemap', 'SITEMAP.NOT_FOUND');
    res.set(publicCacheHeaders(deps.config.edge, [LIST_KEYS.sitemap, sitemapPartKey(part)], { lastModified: parts[part - 1].lastmod }));
    res.type('application/xml; charset=utf-8').send(await sitemapUrlset(pool, deps.config.publicBaseUrl, part));
  });

  return r;
}

export const SITEMAP_PART_SIZE = 49_999;

/** Published items in parts of SITEMAP_PART_SIZE, oldest first, with each part's last change. */
async function sitemapParts(pool: Pool): Promise<{ part: number; lastmod: Date }[]> {
  const { rows } = await pool.query(
    `SELECT (rn - 1) / $1 + 1 AS part, max(updated_at) AS lastmod
       FROM (SELECT updated_at, row_number() OVER (ORDER BY listed_at, id) AS rn FROM items WHERE status = 'published') x
      GROUP BY 1 ORDER BY 1`,
    [SITEMAP_PART_SIZE],
  );
  return rows.map((r: { part: string; lastmod: Date }) => ({ part: Number(r.part), lastmod: r.lastmod }));
}

/** One part as a urlset (part 1 also lists the front page), read in keyset batches of 5,000. */
async function sitemapUrlset(pool: Pool, base: string, part: number): Promise<string> {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'];
  if (part === 1) out.push(`<url><loc>${xml(base + '/')}</loc></url>\n`);
  // The first row of the part by OFFSET on the partial index, then keyset from there.
  let after: { at: Date; id: string } | null = null;
  if (part > 1) {
    const { rows } = await pool.query(
      `SELECT listed_at, id FROM items WHERE status = 'published' ORDER BY listed_at, id OFFSET $1 LIMIT 1`,
      [(part - 1) * SITEMAP_PART_SIZE - 1],
    );
    if (!rows[0]) return out.concat('</urlset>\n').join('');
    after = { at: rows[0].listed_at, id: rows[0].id };
  }
  for (let n = 0; n < SITEMAP_PART_SIZE;) {
    const limit = Math.min(5000, SITEMAP_PART_SIZE - n);
    const { rows } = await pool.query(
      `SELECT slug, updated_at, listed_at, id FROM items WHERE status = 'published' ${after ? 'AND (listed_at, id) > ($2, $3)' : ''}
        ORDER BY listed_at, id LIMIT $1`,
      after ? [limit, after.at, after.id] : [limit],
    );
    for (const row of rows)
      out.push(`<url><loc>${xml(itemPageUrl(base, row.slug))}</loc><lastmod>${row.updated_at.toISOString()}</lastmod></url>\n`);
    n += rows.length;
    if (rows.length < limit) break;
    const last = rows[rows.length - 1];
    after = { at: last.listed_at, id: last.id };
  }
  out.push('</urlset>\n');
  return out.join('');
}

/** XML text and attribute escaping; characters XML 1.0 forbids are dropped. */
export function xml(s: string): string {
  return String(s)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
