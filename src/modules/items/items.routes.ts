import { createHash } from 'node:crypto';
import type { Express, Request, Response } from 'express';
import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { Item } from './item.entity';
import { decodeCursor, findItemBySlug, itemPageUrl, latestPublished } from './items.queries';
import { CachedPage, pageCacheFor } from './page-cache';

/**
 * The public site (SPEC §5): the front page, item pages with the attribution footer, our RSS feed
 * and the sitemap. Mounted before the staff router, so no request here touches the session store.
 * Item pages are served from the rendered-page cache (page-cache.ts) whenever it is live.
 */

const PUBLISHED_CACHE = 'public, max-age=0, must-revalidate';
const SLUG = /^[a-z0-9][a-z0-9-]{0,119}$/;

function render(app: Express, view: string, locals: Record<string, unknown>): Promise<string> {
  return new Promise((resolve, reject) => app.render(view, locals, (err, html) => (err ? reject(err) : resolve(html as string))));
}

const etagOf = (body: Buffer) => `"${createHash('sha1').update(body).digest('base64url')}"`;

/** Renders one item's page in the state it is in: 200, 451 (removed) or 410 (withdrawn). */
export async function renderItemPage(app: Express, deps: AppDeps, item: Item): Promise<CachedPage> {
  const base = deps.config.publicBaseUrl;
  const pageUrl = itemPageUrl(base, item.slug);
  const common = { baseUrl: base, item, source: item.source, pageUrl };
  let status = 200;
  let html: string;
  const headers: Record<string, string> = { 'Content-Type': 'text/html; charset=utf-8' };
  if (item.status === 'removed' && item.removal) {
    status = 451;
    headers['Cache-Control'] = 'no-store';
    // RFC 7725: the party that implements the block.
    headers.Link = `<${base}>; rel="blocked-by"`;
    html = await render(app, 'items/removed', {
      ...common,
      title: 'Unavailable for legal reasons',
      removal: item.removal,
      recordUrl: `/transparency/notices/${encodeURIComponent(item.removal.reference)}`,
      robotsNoindex: true,
    });
  } else if (item.status === 'withdrawn' || item.status === 'removed') {
    status = 410;
    headers['Cache-Control'] = 'no-store';
    html = await render(app, 'items/withdrawn', { ...common, title: 'This item is no longer here', robotsNoindex: true });
  } else {
    headers['Cache-Control'] = PUBLISHED_CACHE;
    html = await render(app, 'items/show', {
      ...common,
      title: item.title,
      // Only %XX escapes and unreserved characters: nothing the template's escaping changes.
      takedownTarget: encodeURIComponent(pageUrl),
      published: item.sourcePublishedAt ?? item.firstFetchedAt,
    });
  }
  const body = Buffer.from(html, 'utf8');
  return { status, body, etag: etagOf(body), headers };
}

function send(req: Request, res: Response, page: CachedPage) {
  res.status(page.status);
  res.set(page.headers);
  if (page.status === 200) res.set('ETag', page.etag);
  res.send(page.body); // answers 304 itself when If-None-Match matches a 200 page
}

export function publicItemRoutes(deps: AppDeps): Router {
  const r = Router();
  const cache = pageCacheFor(deps.db);

  r.get('/', async (req, res) => {
    const before = decodeCursor(req.query.before);
    const { items, next } = await latestPublished(deps.db.manager, { before, limit: 20 });
    res.set('Cache-Control', PUBLISHED_CACHE);
    res.render('home', { title: 'Latest articles', items, next, paged: !!before });
  });

  // Concurrent misses of one page share one read and render (a popular page just invalidated must
  // not send every waiting reader to the database at once). A render is shared only with requests
  // that arrived before any later invalidation, so nobody is handed a page older than their request.
  const inflight = new Map<string, { epoch: number; page: Promise<CachedPage | null> }>();
  const renderFresh = (app: Express, slug: string): Promise<CachedPage | null> => {
    const epoch = cache.epoch;
    const shared = inflight.get(slug);
    if (shared && shared.epoch === epoch) return shared.page;
    const page = (async () => {
      const item = await findItemBySlug(deps.db.manager, slug);
      if (!item) return null;
      const rendered = await renderItemPage(app, deps, item);
      cache.set(slug, rendered, epoch);
      return rendered;
    })().finally(() => {
      if (inflight.get(slug)?.page === page) inflight.delete(slug);
    });
    inflight.set(slug, { epoch, page });
    return page;
  };

  r.get('/items/:slug', async (req, res) => {
    const slug = String(req.params.slug).toLowerCase();
    if (!SLUG.test(slug)) throw AppError.notFound('Item', 'ITEM.NOT_FOUND');
    const page = cache.get(slug) ?? (await renderFresh(req.app as Express, slug));
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
    res.set('Cache-Control', PUBLISHED_CACHE);
    res.type('application/rss+xml; charset=utf-8').send(parts.join(''));
  });

  /** Published items only, newest first; a sitemap holds at most 50,000 URLs (the newest are listed). */
  r.get('/sitemap.xml', async (_req, res) => {
    const base = deps.config.publicBaseUrl;
    const parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n', `<url><loc>${xml(base + '/')}</loc></url>\n`];
    let before: { at: Date; id: string } | null = null;
    for (let n = 0; n < 49_999; ) {
      const rows: { slug: string; updated_at: Date; listed_at: Date; id: string }[] = await deps.db.query(
        `SELECT slug, updated_at, listed_at, id FROM items WHERE status = 'published' ${before ? 'AND (listed_at, id) < ($2, $3)' : ''}
         ORDER BY listed_at DESC, id DESC LIMIT $1`,
        before ? [Math.min(5000, 49_999 - n), before.at, before.id] : [Math.min(5000, 49_999 - n)],
      );
      for (const row of rows) parts.push(`<url><loc>${xml(itemPageUrl(base, row.slug))}</loc><lastmod>${row.updated_at.toISOString()}</lastmod></url>\n`);
      n += rows.length;
      if (rows.length < 5000) break;
      const last = rows[rows.length - 1];
      before = { at: last.listed_at, id: last.id };
    }
    parts.push('</urlset>\n');
    res.set('Cache-Control', PUBLISHED_CACHE);
    res.type('application/xml; charset=utf-8').send(parts.join(''));
  });

  return r;
}

/** XML text and attribute escaping; characters XML 1.0 forbids are dropped. */
export function xml(s: string): string {
  return String(s)
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
