import { AppError } from '../../shared/errors';
import { EntityManager } from 'typeorm';
import { queryPrepared } from '../../db/prepared';
import { normaliseUrl } from '../../shared/url';
import { Actor, record, RequestContext } from '../audit';
import { ITEM_LISTS, itemKey, queuePurge } from '../edge';
import { addImageFingerprints, retireImageFingerprints } from '../staydown';
import { ImageRemoval, ItemImage } from './item-image.entity';
import { Item } from './item.entity';
import { itemFromRow, ITEM_SQL_COLUMNS } from './items.queries';
import { notifyItemsChanged } from './page-cache';

/**
 * Images in the registry (SPEC §19): recorded at import from the sanitised content, fetched and
 * hashed by the image worker (images module) through the functions below, removed and restored
 * one by one while their article stays published. The items module owns `item_images`: it writes
 * them, and its item page renders each removed one as a placeholder.
 */

const IMG = /<img\b[^>]*>/gi;
const attr = (tag: string, name: string) => {
  const m = new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(tag);
  return m ? decodeEntities(m[1]) : '';
};
const decodeEntities = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The images of sanitised content (our sanitiser writes every `src` absolute, http(s) only), in order. */
export function imagesOf(content: string): { position: number; url: string; alt: string }[] {
  const out: { position: number; url: string; alt: string }[] = [];
  const seen = new Set<string>();
  for (const m of content.matchAll(IMG)) {
    const url = attr(m[0], 'src');
    const n = url && normaliseUrl(url);
    if (!n || seen.has(n)) continue;
    seen.add(n);
    out.push({ position: out.length + 1, url, alt: attr(m[0], 'alt').slice(0, 1000) });
  }
  return out;
}

/** At import (upsertItems' transaction): each written item's images, new ones `pending` for the worker. */
export async function recordItemImages(tx: EntityManager, items: { id: string; content: string }[], at: Date): Promise<number> {
  const rows = items.flatMap((i) =>
    imagesOf(i.content).map((img) => ({
      item_id: i.id,
      position: img.position,
      url: img.url,
      url_normalised: normaliseUrl(img.url)!,
      alt: img.alt,
    })),
  );
  if (!rows.length) return 0;
  const inserted: { id: string }[] = await tx.query(
    `INSERT INTO item_images (item_id, position, url, url_normalised, alt, next_attempt_at, created_at)
     SELECT v.item_id, v.position, v.url, v.url_normalised, v.alt, $2, $2
       FROM jsonb_to_recordset($1::jsonb) AS v(item_id uuid, position int, url text, url_normalised text, alt text)
     ON CONFLICT (item_id, url_normalised) DO UPDATE SET position = EXCLUDED.position, alt = EXCLUDED.alt
     RETURNING id`,
    [JSON.stringify(rows), at],
  );
  return inserted.length;
}

/** An image and the article it is in, as notices, staff pages and emails show it. */
export interface ImageInItem {
  imageId: string;
  item: Item;
}

/** Notice targets that are an image's URL (as on our page, i.e. at its origin): URL as given → image. */
export async function findImagesByUrls(tx: EntityManager, urls: string[]): Promise<Map<string, ImageInItem>> {
  const normOf = new Map<string, string>();
  for (const u of urls) {
    const n = typeof u === 'string' ? normaliseUrl(u.trim()) : null;
    if (n) normOf.set(u, n);
  }
  const out = new Map<string, ImageInItem>();
  if (!normOf.size) return out;
  const rows = await queryPrepared<Record<string, any>>(
    tx,
    `SELECT DISTINCT ON (g.url_normalised) g.id AS image_id, g.url_normalised AS image_url, ${ITEM_SQL_COLUMNS}
       FROM item_images g JOIN items i ON i.id = g.item_id JOIN sources s ON s.id = i.source_id
      WHERE g.url_normalised = ANY($1::text[])
      ORDER BY g.url_normalised, (i.status = 'published') DESC, g.created_at`,
    [[...new Set(normOf.values())]],
  );
  const byNorm = new Map(rows.map((r) => [r.image_url as string, { imageId: r.image_id as string, item: itemFromRow(r) }]));
  for (const [url, n] of normOf) if (byNorm.has(n)) out.set(url, byNorm.get(n)!);
  return out;
}

export interface ImageChange {
  changed: (ItemImage & { item: Item })[];
  unchanged: { imageId: string; reason: string }[];
}

export interface RemoveImages {
  imageIds: string[];
  removal: ImageRemoval;
  actor: Actor;
  context?: RequestContext;
  at: Date;
}

async function lockImages(tx: EntityManager, ids: string[]): Promise<(ItemImage & { item: Item })[]> {
  const unique = [...new Set(ids)].filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (!unique.length) return [];
  const images = await tx
    .getRepository(ItemImage)
    .createQueryBuilder('g')
    .innerJoinAndSelect('g.item', 'i')
    .where('g.id IN (:...ids)', { ids: unique })
    .orderBy('g.id')
    .setLock('pessimistic_write', undefined, ['g'])
    .getMany();
  return images as (ItemImage & { item: Item })[];
}

/**
 * Shown images become `removed` (the article stays as it is; its page shows a placeholder linking
 * to the notice's public record), each audited `item.image_removed`; hashed ones join the staydown
 * bank in this transaction (one not hashed yet joins it when the worker hashes it). Pages purged.
 */
export async function removeImages(tx: EntityManager, cmd: RemoveImages): Promise<ImageChange> {
  const out: ImageChange = { changed: [], unchanged: [] };
  for (const img of await lockImages(tx, cmd.imageIds)) {
    if (img.status === 'removed') {
      out.unchanged.push({ imageId: img.id, reason: `already removed (${img.removal?.reference ?? 'another notice'})` });
      continue;
    }
    img.status = 'removed';
    img.removedAt = cmd.at;
    img.removedByNoticeId = cmd.removal.noticeId;
    img.removal = cmd.removal;
    await tx.query(
      `UPDATE item_images SET status = 'removed', removed_at = $2, removed_by_notice_id = $3, removal = $4::jsonb WHERE id = $1`,
      [img.id, cmd.at, cmd.removal.noticeId, JSON.stringify(cmd.removal)],
    );
    await record(tx, {
      actor: cmd.actor,
      action: 'item.image_removed',
      subject: { type: 'item', id: img.itemId },
      details: { imageId: img.id, imageUrl: img.url, position: img.position, slug: img.item.slug, title: img.item.title, ...cmd.removal },
      context: cmd.context,
      at: cmd.at,
    });
    out.changed.push(img);
  }
  if (out.changed.length) {
    const { match: _match, ...removal } = cmd.removal;
    await addImageFingerprints(
      tx,
      out.changed.filter((g) => g.phash !== null).map((g) => ({ imageId: g.id, itemId: g.itemId, phash: g.phash!, sha256: g.sha256! })),
      removal,
      cmd.at,
    );
    await pagesChanged(tx, out.changed, cmd.at);
  }
  return out;
}

export interface RestoreImages {
  noticeId: string;
  /** Every image the notice removed on these items comes back (a counter-notice named the article, a complaint its source). */
  itemIds: string[];
  /** Images named by their own URL (SPEC §19, a counter-notice naming an image): only these come back, on these items. */
  images?: { itemIds: string[]; urls: string[] };
  reason: string;
  actor: Actor;
  context?: RequestContext;
  at: Date;
}

/**
 * Counter-notice restoration: the notice's removed images on the named items (or only the named
 * images), and the copies staydown removed at import because they matched one of them (or a copy
 * of one), are shown again; their fingerprints are retired.
 */
export async function restoreImages(tx: EntityManager, cmd: RestoreImages): Promise<ImageChange> {
  const urls = (cmd.images?.urls ?? []).map((u) => normaliseUrl(u.trim())).filter((u): u is string => !!u);
  const named: { id: string }[] = await tx.query(
    `SELECT id FROM item_images WHERE removed_by_notice_id = $1 AND status = 'removed'
        AND (item_id = ANY($2::uuid[]) OR (item_id = ANY($3::uuid[]) AND url_normalised = ANY($4::text[])))`,
    [cmd.noticeId, cmd.itemIds, cmd.images?.itemIds ?? [], urls],
  );
  const out: ImageChange = { changed: [], unchanged: [] };
  // The copies of what comes back come back with it, and the copies of those (a copy is banked too).
  for (let ids = named.map((r) => r.id); ids.length;) {
    const changed = await restoreImageRows(tx, ids, cmd);
    out.changed.push(...changed);
    const copies: { id: string }[] = changed.length
      ? await tx.query(
          `SELECT id FROM item_images WHERE removed_by_notice_id = $1 AND status = 'removed'
              AND removal->'match'->>'matchedImageId' = ANY($2::text[])`,
          [cmd.noticeId, changed.map((g) => g.id)],
        )
      : [];
    ids = copies.map((r) => r.id);
  }
  if (out.changed.length) {
    await retireImageFingerprints(
      tx,
      out.changed.map((g) => g.id),
      cmd.at,
    );
    await pagesChanged(tx, out.changed, cmd.at);
  }
  return out;
}

async function restoreImageRows(tx: EntityManager, ids: string[], cmd: RestoreImages): Promise<(ItemImage & { item: Item })[]> {
  const out: (ItemImage & { item: Item })[] = [];
  for (const img of await lockImages(tx, ids)) {
    if (img.status !== 'removed') continue;
    const previous = img.removal;
    await tx.query(
      `UPDATE item_images SET status = 'shown', removed_at = NULL, removed_by_notice_id = NULL, removal = NULL WHERE id = $1`,
      [img.id],
    );
    await record(tx, {
      actor: cmd.actor,
      action: 'item.image_restored',
      subject: { type: 'item', id: img.itemId },
      details: { imageId: img.id, imageUrl: img.url, slug: img.item.slug, reason: cmd.reason, removal: previous },
      context: cmd.context,
      at: cmd.at,
    });
    img.status = 'shown';
    out.push(img);
  }
  return out;
}

/** A moderator releases an image staydown removed by mistake: shown again, never matched against that fingerprint again. */
export async function releaseImage(
  tx: EntityManager,
  cmd: { imageId: string; actor: Actor; context?: RequestContext; at: Date },
): Promise<ItemImage & { item: Item }> {
  const [img] = await lockImages(tx, [cmd.imageId]);
  if (!img) throw AppError.notFound('Image', 'IMAGE.NOT_FOUND');
  if (img.status !== 'removed' || !img.removal?.match) {
    throw AppError.conflict('IMAGE.NOT_RELEASABLE', 'Only an image removed at import by a staydown match can be released here.');
  }
  const previous = img.removal;
  await tx.query(
    `UPDATE item_images SET status = 'shown', removed_at = NULL, removed_by_notice_id = NULL, removal = NULL,
            released_from = array_append(released_from, $2::uuid) WHERE id = $1`,
    [img.id, previous.match!.fingerprintId],
  );
  await record(tx, {
    actor: cmd.actor,
    action: 'item.image_released',
    subject: { type: 'item', id: img.itemId },
    details: { imageId: img.id, imageUrl: img.url, slug: img.item.slug, removal: previous },
    context: cmd.context,
    at: cmd.at,
  });
  img.status = 'shown';
  img.removal = null;
  img.releasedFrom = [...(img.releasedFrom ?? []), previous.match!.fingerprintId];
  await pagesChanged(tx, [img], cmd.at);
  return img;
}

async function pagesChanged(tx: EntityManager, images: (ItemImage & { item: Item })[], at: Date): Promise<void> {
  const items = [...new Map(images.map((g) => [g.itemId, g.item])).values()];
  await notifyItemsChanged(
    tx,
    items.map((i) => i.slug),
  );
  await queuePurge(tx, [...items.map((i) => itemKey(i.id)), ...ITEM_LISTS], at);
}

/**
 * The item page's content as its images' states allow: each removed image replaced by the
 * placeholder (escaped text and a link to the public record), each image not yet checked against
 * the image staydown bank left out (no placeholder: nothing was removed), the rest as imported.
 */
export function withImageStates(content: string, removedImages: { url: string; reference: string }[], unchecked: string[] = []): string {
  if (!removedImages.length && !unchecked.length) return content;
  const removed = new Map(removedImages.map((r) => [normaliseUrl(r.url) ?? r.url, r.reference]));
  const pending = new Set(unchecked.map((u) => normaliseUrl(u) ?? u));
  return content.replace(IMG, (tag) => {
    const src = attr(tag, 'src');
    const n = normaliseUrl(src) ?? src;
    const reference = removed.get(n);
    if (reference) {
      const ref = encodeURIComponent(reference);
      return `<span class="image-removed">Image removed following a copyright notice (<a href="/transparency/notices/${ref}">${ref}</a>).</span>`;
    }
    return pending.has(n) ? '' : tag;
  });
}

/** The image worker's claim (images module): due `pending` images under the process's lease (src/db/leases.ts). */
export async function claimImagesToFetch(
  leases: { claim<T extends object>(spec: any): Promise<Array<T & { claimed_by: string }>> },
  now: Date,
  limit: number,
): Promise<Array<{ id: string; url: string; attempts: number; claimed_by: string }>> {
  return leases.claim<{ id: string; url: string; attempts: number }>({
    table: 'item_images',
    where: `t.fetch_status = 'pending' AND t.next_attempt_at <= $1`,
    params: [now],
    orderBy: 't.next_attempt_at',
    limit,
    set: 'attempts = t.attempts + 1',
    returning: 't.id, t.url, t.attempts',
  });
}

export interface ImageFactsToStore {
  sha256: string;
  phash: bigint;
  format: string;
  width: number;
  height: number;
  thumbnail: Buffer;
}

/** What the image job needs of a stored image to bank it or check it against the bank. */
export type StoredImage = Pick<ItemImage, 'id' | 'itemId' | 'status' | 'removal' | 'phash' | 'sha256' | 'releasedFrom'>;

/**
 * Stores a fetched image's hashes and thumbnail (only while still ours, or unclaimed and pending
 * when `claimedBy` is null); returns the row, locked by the UPDATE for the rest of the
 * transaction, or null when the claim was lost. One statement: no second read of the row.
 */
export async function storeImageFacts(
  tx: EntityManager,
  id: string,
  claimedBy: string | null,
  facts: ImageFactsToStore,
  at: Date,
): Promise<StoredImage | null> {
  const [rows]: [Record<string, any>[], number] = await tx.query(
    `UPDATE item_images SET fetch_status = 'fetched', fetched_at = $3, fetch_error = NULL, sha256 = $4, phash = $5, format = $6,
            width = $7, height = $8, thumbnail = $9, next_attempt_at = NULL, claimed_by = NULL, claimed_at = NULL
      WHERE id = $1 AND (claimed_by = $2 OR ($2::uuid IS NULL AND claimed_by IS NULL AND fetch_status = 'pending'))
      RETURNING id, item_id, status, removal, phash::text AS phash, sha256, released_from::text[] AS released_from`,
    [id, claimedBy, at, facts.sha256, facts.phash.toString(), facts.format, facts.width, facts.height, facts.thumbnail],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id,
    itemId: r.item_id,
    status: r.status,
    removal: r.removal,
    phash: r.phash,
    sha256: r.sha256,
    releasedFrom: r.released_from ?? [],
  };
}

/**
 * A failed fetch: retried at `retryAt` (still unchecked, still left out of its page), or `failed`
 * for good (refused, or out of attempts): it cannot be checked, so its page shows it as imported
 * (readers' browsers load it from its origin, as before the registry) and is purged.
 */
export async function storeImageFailure(
  tx: EntityManager,
  id: string,
  claimedBy: string,
  error: string,
  retryAt: Date | null,
  at: Date,
): Promise<void> {
  const [rows]: [{ id: string }[], number] = await tx.query(
    `UPDATE item_images SET fetch_status = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE 'pending' END, fetch_error = $3,
            next_attempt_at = $4, claimed_by = NULL, claimed_at = NULL
      WHERE id = $1 AND claimed_by = $2 RETURNING id`,
    [id, claimedBy, error.slice(0, 500), retryAt],
  );
  if (rows.length && !retryAt) await imagesChecked(tx, [id], at);
}

/**
 * Images whose check ended without a removal (hashed and clear of the bank, or given up on): their
 * pages, rendered without them meanwhile, are dropped from every instance's page cache and purged
 * at the edge (only the pages: lists show no images), in the caller's transaction.
 */
export async function imagesChecked(tx: EntityManager, imageIds: string[], at: Date): Promise<void> {
  if (!imageIds.length) return;
  const items: { id: string; slug: string }[] = await tx.query(
    `SELECT DISTINCT i.id, i.slug FROM item_images g JOIN items i ON i.id = g.item_id WHERE g.id = ANY($1::uuid[])`,
    [imageIds],
  );
  if (!items.length) return;
  await notifyItemsChanged(
    tx,
    items.map((i) => i.slug),
  );
  await queuePurge(
    tx,
    items.map((i) => itemKey(i.id)),
    at,
  );
}

/** A thumbnail we serve ourselves (staff pages, the complainant's status page). */
export async function thumbnailOf(tx: EntityManager, imageId: string): Promise<Buffer | null> {
  if (!/^[0-9a-f-]{36}$/i.test(imageId)) return null;
  const [r]: { thumbnail: Buffer | null }[] = await tx.query(`SELECT thumbnail FROM item_images WHERE id = $1`, [imageId]);
  return r?.thumbnail ?? null;
}

/** An item's images with their state (the API's `images`, staff pages). */
export async function imagesOfItem(tx: EntityManager, itemId: string) {
  const rows: Record<string, any>[] = await tx.query(
    `SELECT id, position, url, alt, fetch_status, fetch_error, status, sha256, phash::text AS phash, width, height, removal, (thumbnail IS NOT NULL) AS has_thumbnail
       FROM item_images WHERE item_id = $1 ORDER BY position, created_at`,
    [itemId],
  );
  return rows.map((r) => ({
    id: r.id as string,
    position: r.position as number,
    url: r.url as string,
    alt: r.alt as string,
    status: r.status as string,
    fetchStatus: r.fetch_status as string,
    fetchError: r.fetch_error as string | null,
    sha256: r.sha256 as string | null,
    phash: r.phash ? BigInt.asUintN(64, BigInt(r.phash)).toString(16).padStart(16, '0') : null,
    width: r.width as number | null,
    height: r.height as number | null,
    removal: r.removal as ImageRemoval | null,
    hasThumbnail: r.has_thumbnail as boolean,
  }));
}
