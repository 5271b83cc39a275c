import { EntityManager } from 'typeorm';
import { FingerprintRemoval } from './content-fingerprint.entity';
import { containment, lshBands, minhash, Signature, signatureOf } from './signature';

/** The default of STAYDOWN_SIMILARITY (config.ts reads the setting). */
export const DEFAULT_STAYDOWN_SIMILARITY = 0.8;

/** A removed item as the bank needs it. */
export interface BankEntry {
  itemId: string;
  title: string;
  /** Sanitised HTML content. */
  content: string;
  rawSha256: string;
  originalUrlNormalised: string;
}

/**
 * Adds removed items to the bank, in the caller's (the removal's) transaction: one fingerprint
 * row each and its LSH band rows. An item that already has a live fingerprint is skipped.
 * Returns how many were added.
 */
export async function addFingerprints(tx: EntityManager, entries: BankEntry[], removal: FingerprintRemoval, at: Date): Promise<number> {
  if (!entries.length) return 0;
  const live: { item_id: string }[] = await tx.query(
    `SELECT item_id FROM content_fingerprints WHERE item_id = ANY($1::uuid[]) AND retired_at IS NULL`,
    [entries.map((e) => e.itemId)],
  );
  const skip = new Set(live.map((r) => r.item_id));
  const fresh = entries.filter((e) => !skip.has(e.itemId));
  if (!fresh.length) return 0;
  const sigs = fresh.map((e) => signatureOf(e.title, e.content));
  const rows: { id: string; item_id: string }[] = await tx.query(
    `INSERT INTO content_fingerprints (item_id, notice_id, removal, raw_sha256, original_url_normalised, shingles, created_at)
     SELECT v.item_id, $2, $3::jsonb, v.raw_sha256, v.original_url_normalised, v.shingles, $4
       FROM jsonb_to_recordset($1::jsonb) AS v(item_id uuid, raw_sha256 text, original_url_normalised text, shingles int[])
     RETURNING id, item_id`,
    [
      JSON.stringify(
        fresh.map((e, i) => ({
          item_id: e.itemId,
          raw_sha256: e.rawSha256,
          original_url_normalised: e.originalUrlNormalised,
          shingles: Array.from(sigs[i].shingles),
        })),
      ),
      removal.noticeId,
      JSON.stringify(removal),
      at,
    ],
  );
  const idOf = new Map(rows.map((r) => [r.item_id, r.id]));
  await insertBands(
    tx,
    fresh.map((e, i) => ({ id: idOf.get(e.itemId)!, bands: sigs[i].bands })),
  );
  return rows.length;
}

/** Band rows for fingerprints (also used by the bench to fill a bank quickly). */
export async function insertBands(tx: EntityManager, list: { id: string; bands: number[] }[]): Promise<void> {
  const bands: number[] = [];
  const ids: string[] = [];
  for (const f of list)
    for (const b of f.bands) {
      bands.push(b);
      ids.push(f.id);
    }
  if (!bands.length) return;
  await tx.query(
    `INSERT INTO content_fingerprint_bands (band, fingerprint_id) SELECT * FROM unnest($1::bigint[], $2::uuid[]) ON CONFLICT DO NOTHING`,
    [bands, ids],
  );
}

/** An imported entry to check against the bank. */
export interface Candidate {
  /** The caller's key for the answer (e.g. the index in its batch). */
  key: number;
  /** The existing item when this is an update (its release exceptions apply). */
  itemId?: string;
  rawSha256: string;
  originalUrlNormalised: string;
  signature: Signature;
}

export interface BankMatch {
  fingerprintId: string;
  matchedItemId: string;
  noticeId: string;
  removal: FingerprintRemoval;
  similarity: number;
  match: 'raw_sha256' | 'original_url' | 'text';
}

interface FingerprintHit {
  id: string;
  item_id: string;
  notice_id: string;
  removal: FingerprintRemoval;
  raw_sha256: string;
  original_url_normalised: string;
  shingles: number[];
  bands: string[] | null;
}

/**
 * Checks a batch of imported entries against the live bank in one round trip: exact (same raw
 * SHA-256 or normalised original URL, through their partial indexes) or near-duplicate (a shared
 * LSH band through the bands' primary key, verified by exact containment ≥ `threshold`). Pairs a
 * moderator released are skipped. Returns the best match per candidate key.
 */
export async function findMatches(tx: EntityManager, candidates: Candidate[], threshold: number): Promise<Map<number, BankMatch>> {
  const out = new Map<number, BankMatch>();
  if (!candidates.length) return out;
  const bands = candidates.flatMap((c) => c.signature.bands);
  // One round trip, each branch on its own index: the band primary key, and the partial indexes on
  // the raw hash (char(64): compared as char, or the index could not be used) and the URL.
  const rows: FingerprintHit[] = await tx.query(
    `SELECT f.id, f.item_id, f.notice_id, f.removal, f.raw_sha256, f.original_url_normalised, f.shingles, h.bands
       FROM (SELECT fingerprint_id AS id, array_agg(band::text) AS bands FROM content_fingerprint_bands
              WHERE band = ANY($3::bigint[]) GROUP BY fingerprint_id
             UNION ALL SELECT id, NULL FROM content_fingerprints WHERE retired_at IS NULL AND raw_sha256 = ANY($1::char(64)[])
             UNION ALL SELECT id, NULL FROM content_fingerprints WHERE retired_at IS NULL AND original_url_normalised = ANY($2::varchar[])) h
       JOIN content_fingerprints f ON f.id = h.id
      WHERE f.retired_at IS NULL`,
    [candidates.map((c) => c.rawSha256), candidates.map((c) => c.originalUrlNormalised), bands],
  );
  const byId = new Map<string, FingerprintHit>();
  for (const r of rows) {
    const seen = byId.get(r.id);
    if (!seen) byId.set(r.id, r);
    else if (r.bands) seen.bands = [...(seen.bands ?? []), ...r.bands];
  }
  const hits = [...byId.values()];
  if (!hits.length) return out;
  const withItem = candidates.filter((c) => c.itemId).map((c) => c.itemId!);
  const released = new Set<string>();
  if (withItem.length) {
    const ex: { item_id: string; fingerprint_id: string }[] = await tx.query(
      `SELECT item_id, fingerprint_id FROM staydown_exceptions WHERE item_id = ANY($1::uuid[])`,
      [withItem],
    );
    for (const e of ex) released.add(`${e.item_id}|${e.fingerprint_id}`);
  }
  const byBand = new Map<string, FingerprintHit[]>();
  for (const h of hits) for (const b of h.bands ?? []) byBand.set(b, [...(byBand.get(b) ?? []), h]);
  for (const c of candidates) {
    const allowed = (h: FingerprintHit) => h.item_id !== c.itemId && !(c.itemId && released.has(`${c.itemId}|${h.id}`));
    let best: BankMatch | null = null;
    const consider = (h: FingerprintHit, similarity: number, match: BankMatch['match']) => {
      if (!allowed(h) || similarity < threshold) return;
      if (!best || similarity > best.similarity) {
        best = { fingerprintId: h.id, matchedItemId: h.item_id, noticeId: h.notice_id, removal: h.removal, similarity, match };
      }
    };
    for (const h of hits) {
      if (h.raw_sha256 === c.rawSha256) consider(h, 1, 'raw_sha256');
      else if (h.original_url_normalised === c.originalUrlNormalised) consider(h, 1, 'original_url');
    }
    if (!best) {
      const seen = new Set<string>();
      for (const b of c.signature.bands) {
        for (const h of byBand.get(String(b)) ?? []) {
          if (seen.has(h.id)) continue;
          seen.add(h.id);
          consider(h, Math.round(containment(c.signature.shingles, h.shingles) * 1000) / 1000, 'text');
        }
      }
    }
    if (best) out.set(c.key, best);
  }
  return out;
}

/**
 * The originals were restored: their live fingerprints are retired (kept, no longer matched;
 * band rows deleted by primary key, recomputed from the stored shingles). Returns the retired ids.
 */
export async function retireFingerprints(tx: EntityManager, itemIds: string[], at: Date): Promise<string[]> {
  if (!itemIds.length) return [];
  const [rows]: [{ id: string; shingles: number[] }[], number] = await tx.query(
    `UPDATE content_fingerprints SET retired_at = $2 WHERE item_id = ANY($1::uuid[]) AND retired_at IS NULL RETURNING id, shingles`,
    [itemIds, at],
  );
  const bands: number[] = [];
  const ids: string[] = [];
  for (const r of rows) {
    const set = Int32Array.from(r.shingles);
    if (set.length)
      for (const b of lshBands(minhash(set))) {
        bands.push(b);
        ids.push(r.id);
      }
  }
  if (bands.length) {
    await tx.query(
      `DELETE FROM content_fingerprint_bands b USING unnest($1::bigint[], $2::uuid[]) AS d(band, fingerprint_id)
        WHERE b.band = d.band AND b.fingerprint_id = d.fingerprint_id`,
      [bands, ids],
    );
  }
  return rows.map((r) => r.id);
}

/** A moderator released `itemId` held on `fingerprintId`: that match never holds it again. */
export async function recordException(tx: EntityManager, itemId: string, fingerprintId: string, by: string, at: Date): Promise<void> {
  await tx.query(
    `INSERT INTO staydown_exceptions (item_id, fingerprint_id, created_by, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
    [itemId, fingerprintId, by.slice(0, 200), at],
  );
}

/** Removed items not yet in the bank, in id order after `after` (the backfill). */
export async function removedWithoutFingerprint(tx: EntityManager, after: string | null, limit: number) {
  const rows: {
    id: string;
    title: string;
    content: string;
    raw_sha256: string;
    original_url_normalised: string;
    removed_by_notice_id: string;
    removal: FingerprintRemoval;
  }[] = await tx.query(
    `SELECT i.id, i.title, i.content, i.raw_sha256, i.original_url_normalised, i.removed_by_notice_id, i.removal
       FROM items i
      WHERE i.status = 'removed' AND i.removed_by_notice_id IS NOT NULL AND i.removal IS NOT NULL
        AND ($1::uuid IS NULL OR i.id > $1::uuid)
        AND NOT EXISTS (SELECT 1 FROM content_fingerprints f WHERE f.item_id = i.id AND f.retired_at IS NULL)
      ORDER BY i.id LIMIT $2`,
    [after, limit],
  );
  return rows;
}

/** Bank size for the bench and the backfill's summary. */
export async function bankStats(tx: EntityManager): Promise<{ live: number; bytes: number }> {
  const [r] = await tx.query(
    `SELECT (SELECT count(*)::int FROM content_fingerprints WHERE retired_at IS NULL) AS live,
            (pg_total_relation_size('content_fingerprints') + pg_total_relation_size('content_fingerprint_bands'))::bigint AS bytes`,
  );
  return { live: r.live, bytes: Number(r.bytes) };
}
