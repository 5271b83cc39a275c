import { EntityManager } from 'typeorm';
import { composeParts } from '../../db/one-statement';
import { queryPrepared } from '../../db/prepared';
import { normaliseUrl } from '../../shared/url';
import { Item, ItemHold, ItemRemoval, ItemStatus } from './item.entity';
import { Source } from './source.entity';

/** Columns for lists and lookups: everything but the (large) content. */
const LIST_COLUMNS = [
  'id',
  'sourceId',
  'slug',
  'title',
  'author',
  'originalUrl',
  'originalUrlNormalised',
  'guid',
  'feedUrl',
  'sourcePublishedAt',
  'firstFetchedAt',
  'lastFetchedAt',
  'listedAt',
  'rawSha256',
  'rights',
  'excerpt',
  'status',
  'removedAt',
  'removedByNoticeId',
  'removal',
  'held',
  'withdrawnAt',
  'createdAt',
  'updatedAt',
] as const;

/** Where this site's item pages live, from PUBLIC_BASE_URL: host (normal form) and path prefix. */
function siteOf(baseUrl: string): { host: string; prefix: string } | null {
  const n = normaliseUrl(baseUrl);
  if (!n) return null;
  const u = new URL(n);
  return { host: u.host, prefix: u.pathname === '/' ? '' : u.pathname };
}

const ITEM_PATH = /^\/items\/([^/?#]+)\/*(?:[?#]|$)/;

function slugFromPath(path: string, site: { prefix: string }): string | null {
  let p = path;
  if (site.prefix && (p === site.prefix || p.startsWith(site.prefix + '/'))) p = p.slice(site.prefix.length);
  const m = ITEM_PATH.exec(p);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]).toLowerCase();
  } catch {
    return null;
  }
}

/** The slug when `url` is one of this site's item pages (absolute on our host, or relative), else null. */
export function slugOfPageUrl(url: string, baseUrl: string): string | null {
  const site = siteOf(baseUrl);
  if (!site) return null;
  const raw = url.trim();
  if (raw.startsWith('/') && !raw.startsWith('//')) return slugFromPath(raw, site);
  const n = normaliseUrl(raw);
  return n ? slugOfNormalised(n, site) : null;
}

/** `https://host[:port]/path…` (a normal form) → the slug when it is on our host. */
function slugOfNormalised(n: string, site: { host: string; prefix: string }): string | null {
  const afterScheme = n.indexOf('//') + 2;
  const slash = n.indexOf('/', afterScheme);
  const q = n.indexOf('?', afterScheme);
  const hostEnd = slash === -1 ? (q === -1 ? n.length : q) : q !== -1 && q < slash ? q : slash;
  if (n.slice(afterScheme, hostEnd) !== site.host) return null;
  return slugFromPath(n.slice(hostEnd) || '/', site);
}

export const ITEM_SQL_COLUMNS = `i.id, i.source_id, i.slug, i.title, i.author, i.original_url, i.original_url_normalised, i.guid, i.feed_url,
  i.source_published_at, i.first_fetched_at, i.last_fetched_at, i.listed_at, i.raw_sha256, i.rights, i.excerpt, i.status,
  i.removed_at, i.removed_by_notice_id, i.removal, i.withdrawn_at, i.created_at, i.updated_at,
  s.name AS s_name, s.domains AS s_domains, s.status AS s_status, s.contact_email AS s_contact_email, s.feed_url AS s_feed_url,
  s.strike_count AS s_strike_count`;

/** A row of ITEM_SQL_COLUMNS as an Item with its Source (everything but the content). */
export function itemFromRow(r: Record<string, any>): Item {
  const source = Object.assign(new Source(), {
    id: r.source_id,
    name: r.s_name,
    domains: r.s_domains,
    status: r.s_status,
    contactEmail: r.s_contact_email,
    feedUrl: r.s_feed_url,
    strikeCount: r.s_strike_count,
  });
  return Object.assign(new Item(), {
    id: r.id,
    sourceId: r.source_id,
    source,
    slug: r.slug,
    title: r.title,
    author: r.author,
    originalUrl: r.original_url,
    originalUrlNormalised: r.original_url_normalised,
    guid: r.guid,
    feedUrl: r.feed_url,
    sourcePublishedAt: r.source_published_at,
    firstFetchedAt: r.first_fetched_at,
    lastFetchedAt: r.last_fetched_at,
    listedAt: r.listed_at,
    rawSha256: r.raw_sha256,
    rights: r.rights,
    excerpt: r.excerpt,
    status: r.status,
    removedAt: r.removed_at,
    removedByNoticeId: r.removed_by_notice_id,
    removal: r.removal,
    withdrawnAt: r.withdrawn_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}

/**
 * Finds the items named by a list of URLs (up to a few thousand): each URL may be one of this
 * site's item pages — `/items/<slug>`, absolute (with or without `www.`, http or https, tracking
 * parameters, a trailing slash) or relative — or the item's original URL in any equivalent
 * spelling. One indexed query (slug = ANY, original_url_normalised = ANY: a BitmapOr of the two
 * unique indexes), never a scan, and no ORM hydration (1,000 URLs among 1,000,000 items in tens of ms).
 * Returns a map from each URL as given to its item (with `source` loaded, without `content`);
 * URLs that match nothing are absent.
 */
export async function findItemsByUrls(tx: EntityManager, urls: string[], opts: { baseUrl: string }): Promise<Map<string, Item>> {
  const match = itemMatch(urls, opts);
  if (match.empty) return new Map();
  // Named (planned once per connection): planning was most of this statement's cost on the intake (issue 18).
  const { sql, params } = composeParts([match.sql]);
  return match.resolve(await queryPrepared(tx, sql, params));
}

/**
 * The registry match of `findItemsByUrls` as a part of the caller's own statement (the intake
 * reads it with its triage facts, in one round trip): `sql` selects the matched items' rows
 * (ITEM_SQL_COLUMNS and `alias_hits`; a statement may add rows whose `id` is null, which are
 * skipped), `resolve` maps the rows back to the URLs as given. `empty`: nothing to look up.
 */
export interface ItemMatch {
  empty: boolean;
  sql: (p: (value: unknown) => string) => string;
  resolve(rows: Record<string, any>[]): Map<string, Item>;
}

export function itemMatch(urls: string[], opts: { baseUrl: string }): ItemMatch {
  const site = siteOf(opts.baseUrl);
  const slugOf = new Map<string, string>();
  const normOf = new Map<string, string>();
  for (const url of urls) {
    if (typeof url !== 'string' || slugOf.has(url) || normOf.has(url)) continue;
    const raw = url.trim();
    if (raw.startsWith('/') && !raw.startsWith('//')) {
      const slug = site && slugFromPath(raw, site);
      if (slug) slugOf.set(url, slug);
      continue;
    }
    const n = normaliseUrl(raw);
    if (!n) continue;
    normOf.set(url, n);
    const slug = site && slugOfNormalised(n, site);
    if (slug) slugOf.set(url, slug);
  }
  // Also any other address the item is known by (item_aliases: the publisher's URL, the feed proxy's,
  // the entry link…), in the same round trip: the alias primary key is one more index lookup per URL.
  const sql = (p: (value: unknown) => string) => {
    const slugs = p([...new Set(slugOf.values())]);
    const norms = p([...new Set(normOf.values())]);
    return `WITH al AS (SELECT item_id, array_agg(url_normalised) AS urls FROM item_aliases WHERE url_normalised = ANY(${norms}::text[]) GROUP BY item_id)
     SELECT ${ITEM_SQL_COLUMNS}, al.urls AS alias_hits
       FROM items i JOIN sources s ON s.id = i.source_id LEFT JOIN al ON al.item_id = i.id
      WHERE i.slug = ANY(${slugs}::text[]) OR i.original_url_normalised = ANY(${norms}::text[]) OR i.id = ANY(ARRAY(SELECT item_id FROM al))`;
  };
  const resolve = (all: Record<string, any>[]) => {
    const rows = all.filter((r) => r.id);
    const items = rows.map(itemFromRow);
    const bySlug = new Map(items.map((i) => [i.slug, i]));
    const byNorm = new Map<string, Item>();
    rows.forEach((r, n) => ((r.alias_hits as string[] | null) ?? []).forEach((a) => byNorm.set(a, items[n])));
    for (const i of items) byNorm.set(i.originalUrlNormalised, i); // an item's own original URL wins over another's alias
    const out = new Map<string, Item>();
    for (const url of urls) {
      const hit = (slugOf.has(url) && bySlug.get(slugOf.get(url)!)) || (normOf.has(url) && byNorm.get(normOf.get(url)!));
      if (hit) out.set(url, hit);
    }
    return out;
  };
  return { empty: !slugOf.size && !normOf.size, sql, resolve };
}

/** The absolute URL of an item's public page. */
export function itemPageUrl(baseUrl: string, slug: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/items/${encodeURIComponent(slug)}`;
}

export function findItemById(tx: EntityManager, id: string): Promise<Item | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return Promise.resolve(null);
  return tx.getRepository(Item).findOne({ where: { id }, relations: { source: true } });
}

export function findItemBySlug(tx: EntityManager, slug: string): Promise<Item | null> {
  return tx.getRepository(Item).findOne({ where: { slug }, relations: { source: true } });
}

/** What an item's public page shows: one indexed read (items_slug_key), without the ORM's mapping. */
export interface ItemPage {
  id: string;
  sourceId: string;
  slug: string;
  title: string;
  author: string | null;
  originalUrl: string;
  sourcePublishedAt: Date | null;
  firstFetchedAt: Date;
  content: string;
  status: ItemStatus;
  removal: ItemRemoval | null;
  /** Why a held copy is held (SPEC §13): its page answers like the removed original. */
  held: ItemHold | null;
  updatedAt: Date;
  source: { id: string; name: string; updatedAt: Date };
  /** SPEC §19: the page's removed images (`src` as imported) and the notice each placeholder links to. */
  removedImages: { url: string; reference: string }[];
  /**
   * SPEC §19: images not yet checked against the image staydown bank (`fetch_status` pending): the
   * page leaves them out until the image job has hashed them (and purges the page then), so a copy
   * of a removed photo is never shown, not even for the seconds before it is hashed.
   */
  uncheckedImages: string[];
}

/**
 * The public page's read (a cache miss of /items/:slug): the plain pg pool, one statement, only the
 * columns the page shows. Measured on the cold-page bench, the ORM's query building and entity
 * mapping were the largest cost of a miss after the socket writes.
 */
export async function findItemPage(pool: Queryable, slug: string): Promise<ItemPage | null> {
  return (await findItemPages(pool, [slug])).get(slug) ?? null;
}

/** The pages of several slugs in the same one statement (`slug = ANY`: the same unique index, one round trip). */
export async function findItemPages(pool: Queryable, slugs: string[]): Promise<Map<string, ItemPage>> {
  const { rows } = await pool.query({
    // A named statement: each pooled connection parses and plans it once, then only binds and
    // executes it (on the cold-page bench, parsing and planning were half of PostgreSQL's work per miss).
    name: 'item-pages',
    text: `SELECT i.id, i.source_id, i.slug, i.title, i.author, i.original_url, i.source_published_at, i.first_fetched_at, i.content,
            i.status, i.removal, i.held, i.updated_at, s.name AS source_name, s.updated_at AS source_updated_at,
            (SELECT json_build_object(
                      'removed', coalesce(json_agg(json_build_object('url', g.url, 'reference', g.removal->>'reference'))
                                            FILTER (WHERE g.status = 'removed'), '[]'::json),
                      'unchecked', coalesce(json_agg(g.url) FILTER (WHERE g.status = 'shown'), '[]'::json))
               FROM item_images g WHERE g.item_id = i.id AND (g.status = 'removed' OR g.fetch_status = 'pending')) AS images
       FROM items i JOIN sources s ON s.id = i.source_id
      WHERE i.slug = ANY($1::text[])`,
    values: [slugs],
  });
  const out = new Map<string, ItemPage>();
  for (const r of rows)
    out.set(r.slug, {
      id: r.id,
      sourceId: r.source_id,
      slug: r.slug,
      title: r.title,
      author: r.author,
      originalUrl: r.original_url,
      sourcePublishedAt: r.source_published_at,
      firstFetchedAt: r.first_fetched_at,
      content: r.content,
      status: r.status,
      removal: r.removal,
      held: r.held,
      updatedAt: r.updated_at,
      source: { id: r.source_id, name: r.source_name, updatedAt: r.source_updated_at },
      removedImages: r.images.removed,
      uncheckedImages: r.images.unchecked,
    });
  return out;
}

/**
 * Page misses read in batches: at most `maxReads` statements at once; slugs asked for while they
 * run wait and go together in the next one (up to `maxBatch`). Under a crawl of random pages this
 * turns fifty concurrent misses into a few statements instead of fifty round trips (each one
 * PostgreSQL's executor start, a network exchange and the driver's work on both sides); a lone
 * request is read at once, in the same turn of the event loop it arrived in.
 */
export function itemPageReader(
  pool: Queryable,
  opts: { maxReads?: number; maxBatch?: number } = {},
): (slug: string) => Promise<ItemPage | null> {
  const maxReads = opts.maxReads ?? 4;
  const maxBatch = opts.maxBatch ?? 100;
  type Waiter = { resolve: (p: ItemPage | null) => void; reject: (e: unknown) => void };
  const waiting = new Map<string, Waiter[]>();
  let reads = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    while (reads < maxReads && waiting.size) {
      const batch = new Map<string, Waiter[]>();
      for (const [slug, waiters] of waiting) {
        batch.set(slug, waiters);
        waiting.delete(slug);
        if (batch.size >= maxBatch) break;
      }
      reads++;
      findItemPages(pool, [...batch.keys()])
        .then(
          (found) => batch.forEach((waiters, slug) => waiters.forEach((w) => w.resolve(found.get(slug) ?? null))),
          (err) => batch.forEach((waiters) => waiters.forEach((w) => w.reject(err))),
        )
        .finally(() => {
          reads--;
          flush();
        });
    }
  };
  return (slug) =>
    new Promise((resolve, reject) => {
      const waiters = waiting.get(slug);
      if (waiters) waiters.push({ resolve, reject });
      else waiting.set(slug, [{ resolve, reject }]);
      // Everything that arrives in this turn of the event loop goes in one statement.
      if (!scheduled && reads < maxReads) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

interface Queryable {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, any>[] }>;
}

/** Keyset cursors: "<ISO time>|<uuid>" in base64url. */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}
export function decodeCursor(cursor: unknown): { at: Date; id: string } | null {
  if (typeof cursor !== 'string' || !cursor || cursor.length > 200) return null;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const d = new Date(at);
  if (Number.isNaN(d.getTime()) || !/^[0-9a-f-]{36}$/i.test(id ?? '')) return null;
  return { at: d, id };
}

/** The public front page: published items, newest first, keyset-paginated. */
export async function latestPublished(tx: EntityManager, opts: { before?: { at: Date; id: string } | null; limit: number }) {
  const qb = tx
    .getRepository(Item)
    .createQueryBuilder('i')
    .select(LIST_COLUMNS.map((c) => `i.${c}`))
    .leftJoin('i.source', 's')
    .addSelect(['s.id', 's.name', 's.feedUrl'])
    .where(`i.status = 'published'`)
    .orderBy('i.listed_at', 'DESC')
    .addOrderBy('i.id', 'DESC')
    .limit(opts.limit + 1);
  if (opts.before) qb.andWhere('(i.listed_at, i.id) < (:at, :id)', { at: opts.before.at, id: opts.before.id });
  const rows = await qb.getMany();
  const more = rows.length > opts.limit;
  const items = rows.slice(0, opts.limit);
  const last = items[items.length - 1];
  return { items, next: more && last ? encodeCursor(last.listedAt, last.id) : null };
}

export interface ItemSearch {
  q?: string;
  sourceId?: string;
  status?: ItemStatus;
  after?: { at: Date; id: string } | null;
  limit: number;
}

/**
 * Staff search: a URL (our page or the original, any spelling) is looked up exactly through the
 * indexes; other text matches the title (trigram index) or the original URL's beginning.
 */
export async function searchItems(tx: EntityManager, s: ItemSearch, baseUrl: string) {
  const qb = tx
    .getRepository(Item)
    .createQueryBuilder('i')
    .select(LIST_COLUMNS.map((c) => `i.${c}`))
    .leftJoin('i.source', 's')
    .addSelect(['s.id', 's.name'])
    .orderBy('i.listed_at', 'DESC')
    .addOrderBy('i.id', 'DESC')
    .limit(s.limit + 1);
  if (s.sourceId) qb.andWhere('i.source_id = :sourceId', { sourceId: s.sourceId });
  if (s.status) qb.andWhere('i.status = :status', { status: s.status });
  const q = s.q?.trim();
  if (q) {
    const slug = slugOfPageUrl(q, baseUrl);
    const norm = normaliseUrl(q);
    if (slug || norm) {
      qb.andWhere('(i.slug = :slug OR i.original_url_normalised = :norm)', { slug: slug ?? '', norm: norm ?? '' });
    } else {
      const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere('(i.title ILIKE :like OR i.guid = :q)', { like, q });
    }
  }
  if (s.after) qb.andWhere('(i.listed_at, i.id) < (:at, :id)', { at: s.after.at, id: s.after.id });
  const rows = await qb.getMany();
  const more = rows.length > s.limit;
  const items = rows.slice(0, s.limit);
  const last = items[items.length - 1];
  return { items, next: more && last ? encodeCursor(last.listedAt, last.id) : null };
}

export function listSources(tx: EntityManager): Promise<Source[]> {
  return tx.getRepository(Source).find({ order: { name: 'ASC' } });
}

/** The sources that list a domain (normal host form) among their homepage domains. */
export function findSourcesByDomain(tx: EntityManager, domain: string): Promise<Source[]> {
  return tx.getRepository(Source).createQueryBuilder('s').where(':d = ANY(s.domains)', { d: domain }).getMany();
}

/** The notices that named an item (newest first), for its staff page. Read through the targets' item index. */
export async function noticesNamingItem(
  tx: EntityManager,
  itemId: string,
): Promise<{ reference: string; status: string; submittedAt: Date; url: string; outcome: string }[]> {
  const rows: { reference: string; status: string; submitted_at: Date; url: string; outcome: string }[] = await tx.query(
    `SELECT n.reference, n.status, n.submitted_at, t.url, t.outcome
       FROM notice_targets t JOIN notices n ON n.id = t.notice_id
      WHERE t.item_id = $1
      ORDER BY n.submitted_at DESC
      LIMIT 200`,
    [itemId],
  );
  return rows.map((r) => ({ reference: r.reference, status: r.status, submittedAt: r.submitted_at, url: r.url, outcome: r.outcome }));
}

/** Name and contact address of each source, for the emails that tell a source about its items. */
export async function sourceContactsOf(
  tx: EntityManager,
  ids: string[],
): Promise<Map<string, { name: string; contactEmail: string | null }>> {
  if (!ids.length) return new Map();
  const rows: { id: string; name: string; contact_email: string | null }[] = await tx.query(
    `SELECT id, name, contact_email FROM sources WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, { name: r.name, contactEmail: r.contact_email }]));
}
