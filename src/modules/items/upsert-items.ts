import { createHash } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { normaliseUrl } from '../../shared/url';
import { SYSTEM, record } from '../audit';
import { ITEM_LISTS, itemKey, queuePurge, sourceKey } from '../edge';
import { BankMatch, DEFAULT_STAYDOWN_SIMILARITY, findMatches, Signature, signatureOf } from '../staydown';
import type { ItemAddress } from './item-alias.entity';
import { saveAliases } from './item-aliases.queries';
import { recordItemImages } from './item-images';
import { ItemHold, ItemStatus, RightsSignals } from './item.entity';
import { notifyItemsChanged } from './page-cache';
import { excerptOfSanitised, htmlToText, sanitiseContent } from './sanitise';
import { Source } from './source.entity';

/**
 * The registry's write path: every way in (feed import, API, JSON Lines file) upserts through
 * `upsertItems`, which sanitises, checks the staydown bank, records aliases and queues purges.
 */
/** One item to create or update, from a feed entry, the API or a JSON Lines file (unsanitised). */
export interface ItemInput {
  /** The key within the source: the feed guid, else the link. */
  guid: string;
  title: string;
  titleIsHtml?: boolean;
  author: string | null;
  originalUrl: string;
  publishedAt: Date | null;
  contentHtml: string;
  rights: RightsSignals;
  /** SHA-256 (hex) of the raw entry. */
  rawSha256: string;
  /** Every other address the entry gives for the article (feed proxy, entry link, guid…): kept as item aliases. */
  aliases?: ItemAddress[];
}

export interface UpsertResult {
  created: number;
  updated: number;
  unchanged: number;
  skipped: Record<string, number>;
  createdIds: string[];
  updatedIds: string[];
  /** Created or updated items held because they match removed content (SPEC §13). */
  held: number;
  heldIds: string[];
}

export const SKIP = {
  noKey: 'no link and no guid',
  badLink: 'link is not an http(s) URL',
  duplicateInFeed: 'duplicate entry in the same import',
  urlTaken: 'original URL already belongs to another item',
  notPublished: 'not updated: removed or withdrawn',
  conflict: 'conflict with a concurrent import',
} as const;

export const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** "Café au lait, 3 ways!" → "cafe-au-lait-3-ways". */
export function slugify(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
}

/** Stable for a (source, guid): a re-import computes the same slug, and the page keeps its URL. */
export function slugFor(sourceId: string, guid: string, title: string): string {
  return `${slugify(title) || 'item'}-${sha256(`${sourceId}\n${guid}`).slice(0, 10)}`;
}

/** Feed guids can be anything; a very long one is kept as its hash so the unique index stays small. */
export function guidKey(guid: string): string {
  const g = guid.trim();
  return g.length <= 500 ? g : `sha256:${sha256(g)}`;
}

interface Prepared {
  guid: string;
  slug: string;
  title: string;
  author: string | null;
  original_url: string;
  original_url_normalised: string;
  source_published_at: string | null;
  listed_at: string;
  raw_sha256: string;
  rights: RightsSignals;
  content: string;
  excerpt: string;
  status: ItemStatus;
  held: ItemHold | null;
}

interface Keyed {
  input: ItemInput;
  guid: string;
  normalised: string;
}

/** Cheap checks first (a key and an http(s) link): nothing is sanitised for entries that are skipped. */
function keyOf(input: ItemInput): Keyed | keyof typeof SKIP {
  const guid = guidKey(input.guid || input.originalUrl || '');
  if (!guid) return 'noKey';
  const normalised = normaliseUrl(input.originalUrl ?? '');
  if (!normalised || normalised.length > 2048 || input.originalUrl.length > 2048) return 'badLink';
  return { input, guid, normalised };
}

/** The expensive part (sanitising), only for entries that will be written. */
function prepare(source: Source, k: Keyed, now: Date): Prepared {
  const { input } = k;
  const content = sanitiseContent(input.contentHtml ?? '', input.originalUrl);
  const excerpt = excerptOfSanitised(content);
  const title = titleText(input) || excerptOfSanitised(content, 80) || '(untitled)';
  const published = input.publishedAt && !Number.isNaN(input.publishedAt.getTime()) ? input.publishedAt : null;
  const listed = published && published < now ? published : now;
  return {
    guid: k.guid,
    slug: slugFor(source.id, k.guid, title),
    title,
    author: input.author ? input.author.replace(/\s+/g, ' ').trim().slice(0, 200) || null : null,
    original_url: input.originalUrl.trim(),
    original_url_normalised: k.normalised,
    source_published_at: published?.toISOString() ?? null,
    listed_at: listed.toISOString(),
    raw_sha256: input.rawSha256,
    rights: input.rights ?? {},
    content,
    excerpt,
    status: 'published',
    held: null,
  };
}

export function holdOf(m: BankMatch): ItemHold {
  return {
    fingerprintId: m.fingerprintId,
    matchedItemId: m.matchedItemId,
    noticeId: m.noticeId,
    noticeReference: m.removal.reference,
    claimant: m.removal.claimant,
    legalBasis: m.removal.legalBasis,
    similarity: m.similarity,
    match: m.match,
  };
}

/** The title as text: HTML titles (RSS in the wild, Atom type="html") lose their tags, entities decoded once, whitespace folded. */
function titleText(input: ItemInput): string {
  return (input.titleIsHtml ? htmlToText(input.title) : input.title.replace(/\s+/g, ' ').trim()).slice(0, 500);
}

const WRITE_CHUNK = 500;

/** What the earlier batches of one import wrote (see `seen` below). */
export interface UpsertSeen {
  guids: Set<string>;
  /** Normalised original URL → the guid that has it. */
  urls: Map<string, string>;
}

/**
 * Edge caches: changed pages, and the lists new or changed items appear in. Many pages at once
 * (a big feed update): the source's key covers them all in one purge.
 */
export async function purgeUpserted(
  tx: EntityManager,
  source: Source,
  r: Pick<UpsertResult, 'createdIds' | 'updatedIds'>,
  at: Date,
): Promise<void> {
  if (!r.createdIds.length && !r.updatedIds.length) return;
  const pages = r.updatedIds.length > 200 ? [sourceKey(source.id)] : r.updatedIds.map(itemKey);
  await queuePurge(tx, [...pages, ...ITEM_LISTS], at);
}

/**
 * Creates and updates the items of one source in a few statements, however many inputs (feed
 * import's speed depends on it): keyed by (source, guid), so importing the same entries again
 * changes nothing (and sanitises nothing: unchanged entries are recognised by the SHA-256 of their
 * raw XML); an entry whose raw SHA-256 changed updates its item unless the item is removed or
 * withdrawn; an original URL that already belongs to another item is skipped, never duplicated.
 * Writes go in chunks of 500, and the next chunk is sanitised while the database writes the current
 * one. Runs in the caller's transaction; changed pages are evicted from every instance's page cache.
 */
export async function upsertItems(
  tx: EntityManager,
  cmd: {
    source: Source;
    inputs: ItemInput[];
    now: Date;
    feedUrl: string | null;
    onProgress?: (done: number, total: number) => void;
    /** STAYDOWN_SIMILARITY: entries this close to removed content are stored `held`. */
    staydownSimilarity?: number;
    /**
     * One import in several calls (a feed read in batches, issue 18): the keys of the earlier
     * batches, so a duplicate across batches is skipped as within one. With it, the edge purge is
     * left to the caller (`purgeUpserted` once, after the last batch).
     */
    seen?: UpsertSeen;
  },
): Promise<UpsertResult> {
  const result: UpsertResult = { created: 0, updated: 0, unchanged: 0, skipped: {}, createdIds: [], updatedIds: [], held: 0, heldIds: [] };
  const skip = (why: keyof typeof SKIP, n = 1) => {
    result.skipped[SKIP[why]] = (result.skipped[SKIP[why]] ?? 0) + n;
  };
  const byGuid = new Map<string, Keyed>();
  const byUrl = new Map<string, string>();
  const seen = cmd.seen;
  for (const input of cmd.inputs) {
    const k = keyOf(input);
    if (typeof k === 'string') {
      skip(k);
      continue;
    }
    const urlOwner = byUrl.get(k.normalised) ?? seen?.urls.get(k.normalised);
    if (byGuid.has(k.guid) || seen?.guids.has(k.guid) || (urlOwner !== undefined && urlOwner !== k.guid)) {
      skip('duplicateInFeed');
      continue;
    }
    byGuid.set(k.guid, k);
    byUrl.set(k.normalised, k.guid);
  }
  if (seen) {
    for (const guid of byGuid.keys()) seen.guids.add(guid);
    for (const [url, guid] of byUrl) seen.urls.set(url, guid);
  }
  if (!byGuid.size) return result;

  const existing: {
    id: string;
    guid: string;
    raw_sha256: string;
    status: ItemStatus;
    slug: string;
    original_url_normalised: string;
    title: string;
  }[] = await tx.query(
    `SELECT id, guid, raw_sha256, status, slug, original_url_normalised, title FROM items WHERE source_id = $1 AND guid = ANY($2::text[])`,
    [cmd.source.id, [...byGuid.keys()]],
  );
  const urlOwners: { id: string; original_url_normalised: string }[] = await tx.query(
    `SELECT id, original_url_normalised FROM items WHERE original_url_normalised = ANY($1::text[])`,
    [[...byUrl.keys()]],
  );
  const ownerOfUrl = new Map(urlOwners.map((r) => [r.original_url_normalised, r.id]));
  type Write = { kind: 'update'; k: Keyed; id: string; keepUrl: boolean } | { kind: 'insert'; k: Keyed };
  const writes: Write[] = [];
  const changedSlugs: string[] = [];
  for (const row of existing) {
    const k = byGuid.get(row.guid)!;
    byGuid.delete(row.guid);
    const owner = ownerOfUrl.get(k.normalised);
    const keepUrl = owner !== undefined && owner !== row.id;
    // An unchanged entry still updates an item imported before the publisher's URL or text titles were
    // read from it (issue 21): its original URL moves off a feed proxy, its title loses its markup.
    const stale =
      (!keepUrl && row.original_url_normalised !== k.normalised) ||
      (k.input.titleIsHtml && titleText(k.input) !== row.title && titleText(k.input) !== '');
    if (row.raw_sha256 === k.input.rawSha256 && !stale) result.unchanged++;
    else if (row.status !== 'published') skip('notPublished');
    else {
      writes.push({ kind: 'update', k, id: row.id, keepUrl });
      changedSlugs.push(row.slug);
    }
  }
  for (const k of byGuid.values()) {
    if (ownerOfUrl.has(k.normalised)) skip('urlTaken');
    else writes.push({ kind: 'insert', k });
  }
  const written: { id: string; guid: string }[] = [];
  /** Written items' sanitised content, for their images (SPEC §19). */
  const contents: { id: string; content: string }[] = [];
  const inputOf = new Map(writes.map((w) => [w.k.guid, w.k]));
  const total = cmd.inputs.length;
  let done = total - writes.length;
  cmd.onProgress?.(done, total);

  const now = cmd.now.toISOString();
  const prepareChunk = (from: number) => {
    const updates: (Prepared & { id: string; keep_url: boolean })[] = [];
    const inserts: Prepared[] = [];
    const updSigs: Signature[] = [];
    const insSigs: Signature[] = [];
    for (const w of writes.slice(from, from + WRITE_CHUNK)) {
      const p = prepare(cmd.source, w.k, cmd.now);
      if (w.kind === 'update') updates.push({ ...p, id: w.id, keep_url: w.keepUrl });
      else inserts.push(p);
      (w.kind === 'update' ? updSigs : insSigs).push(signatureOf(p.title, p.content));
    }
    return { updates, inserts, signatures: [...updSigs, ...insSigs] };
  };
  const writeChunk = async ({ updates, inserts, signatures }: ReturnType<typeof prepareChunk>) => {
    // Staydown (SPEC §13): the chunk is checked against the fingerprint bank before it is written;
    // a match is written `held` in the same statement, and audited below in this transaction.
    const all = [...updates, ...inserts];
    const matches = await findMatches(
      tx,
      all.map((p, key) => ({
        key,
        itemId: key < updates.length ? updates[key].id : undefined,
        rawSha256: p.raw_sha256,
        originalUrlNormalised: p.original_url_normalised,
        signature: signatures[key],
      })),
      cmd.staydownSimilarity ?? DEFAULT_STAYDOWN_SIMILARITY,
    );
    for (const [key, m] of matches) {
      all[key].status = 'held';
      all[key].held = holdOf(m);
    }
    if (updates.length) {
      // The slug, first-fetched time and status never change on update. (TypeORM answers an UPDATE with [rows, count].)
      const [rows]: [{ id: string }[], number] = await tx.query(
        `UPDATE items i SET
           title = v.title, author = v.author,
           original_url = CASE WHEN v.keep_url THEN i.original_url ELSE v.original_url END,
           original_url_normalised = CASE WHEN v.keep_url THEN i.original_url_normalised ELSE v.original_url_normalised END,
           source_published_at = v.source_published_at, raw_sha256 = v.raw_sha256, rights = v.rights,
           content = v.content, excerpt = v.excerpt, status = v.status, held = v.held, last_fetched_at = $2, updated_at = $2
         FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, title text, author text, original_url text, original_url_normalised text,
           keep_url boolean, source_published_at timestamptz, raw_sha256 text, rights jsonb, content text, excerpt text, status text, held jsonb)
         WHERE i.id = v.id AND i.status = 'published'
         RETURNING i.id`,
        [JSON.stringify(updates), now],
      );
      result.updated += rows.length;
      result.updatedIds.push(...rows.map((r) => r.id));
      const guidOf = new Map(updates.map((u) => [u.id, u.guid]));
      for (const r of rows) written.push({ id: r.id, guid: guidOf.get(r.id)! });
      const updated = new Set(rows.map((r) => r.id));
      for (const u of updates) if (updated.has(u.id)) contents.push({ id: u.id, content: u.content });
      await auditHolds(updates.filter((u) => u.held && updated.has(u.id)).map((u) => ({ id: u.id, p: u })));
    }
    if (inserts.length) {
      const rows: { id: string; slug: string; guid: string }[] = await tx.query(
        `INSERT INTO items (source_id, slug, title, author, original_url, original_url_normalised, guid, feed_url,
           source_published_at, first_fetched_at, last_fetched_at, listed_at, raw_sha256, rights, content, excerpt, status, held)
         SELECT $2, v.slug, v.title, v.author, v.original_url, v.original_url_normalised, v.guid, $3,
           v.source_published_at, $4, $4, v.listed_at, v.raw_sha256, v.rights, v.content, v.excerpt, v.status, v.held
         FROM jsonb_to_recordset($1::jsonb) AS v(slug text, title text, author text, original_url text, original_url_normalised text,
           guid text, source_published_at timestamptz, listed_at timestamptz, raw_sha256 text, rights jsonb, content text, excerpt text,
           status text, held jsonb)
         ON CONFLICT DO NOTHING
         RETURNING id, guid, slug`,
        [JSON.stringify(inserts), cmd.source.id, cmd.feedUrl, now],
      );
      for (const r of rows) written.push({ id: r.id, guid: r.guid });
      const bySlug = new Map(inserts.map((p) => [p.slug, p.content]));
      for (const r of rows) contents.push({ id: r.id, content: bySlug.get(r.slug) ?? '' });
      result.created += rows.length;
      result.createdIds.push(...rows.map((r) => r.id));
      if (rows.length < inserts.length) skip('conflict', inserts.length - rows.length);
      const held = new Map(inserts.filter((p) => p.held).map((p) => [p.slug, p]));
      await auditHolds(rows.filter((r) => held.has(r.slug)).map((r) => ({ id: r.id, p: held.get(r.slug)! })));
    }
  };
  const auditHolds = async (list: { id: string; p: Prepared }[]) => {
    for (const { id, p } of list) {
      result.held++;
      result.heldIds.push(id);
      await record(tx, {
        actor: SYSTEM,
        action: 'item.held',
        subject: { type: 'item', id },
        details: { slug: p.slug, title: p.title, originalUrl: p.original_url, sourceId: cmd.source.id, after: 'held', ...p.held },
        at: cmd.now,
      });
    }
  };
  // A pipeline: while PostgreSQL writes chunk n, this process sanitises chunk n + 1.
  let next = writes.length ? prepareChunk(0) : null;
  for (let from = 0; next; from += WRITE_CHUNK) {
    const chunk = next;
    const writing = writeChunk(chunk);
    writing.catch(() => undefined); // handled by the await below; never an unhandled rejection meanwhile
    // Let the query leave (TypeORM sends it a few microtasks later) before the CPU work starts.
    await new Promise((r) => setImmediate(r));
    next = from + WRITE_CHUNK < writes.length ? prepareChunk(from + WRITE_CHUNK) : null;
    await writing;
    done += chunk.updates.length + chunk.inserts.length;
    cmd.onProgress?.(done, total);
  }
  if (changedSlugs.length) await notifyItemsChanged(tx, changedSlugs);
  if (!seen) await purgeUpserted(tx, cmd.source, result, cmd.now);
  // Images (SPEC §19): each written item's images, fetched and hashed (and checked against the
  // image bank) by the image worker after this commit.
  await recordItemImages(tx, contents, cmd.now);
  // Every address of each written item, so a notice naming any of them matches it.
  await saveAliases(
    tx,
    written.flatMap(({ id, guid }) => {
      const { input } = inputOf.get(guid)!;
      return [{ url: input.originalUrl, kind: 'original' as const }, ...(input.aliases ?? [])].map((a) => ({ itemId: id, ...a }));
    }),
  );
  return result;
}
