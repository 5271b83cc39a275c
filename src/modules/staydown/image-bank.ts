import { EntityManager } from 'typeorm';
import type { FingerprintRemoval } from './content-fingerprint.entity';

/**
 * The image side of the staydown bank (SPEC §19). A removed image's 64-bit perceptual hash is
 * added in the removal's transaction; every image hashed later is compared with the live ones by
 * Hamming distance, `bit_count((phash # $1)::bit(64))` (PostgreSQL ≥ 14). The default distance was chosen
 * with `npm run bench -- images` (docs/images.md): every tested edit of a photo stays within it,
 * another photo of the same scene does not come near it.
 */
export const DEFAULT_IMAGE_DISTANCE = 10;

export interface ImageBankEntry {
  imageId: string;
  itemId: string;
  /** The signed 64-bit perceptual hash, as PostgreSQL returns a bigint (a decimal string). */
  phash: string;
  sha256: string;
}

export interface ImageBankMatch {
  fingerprintId: string;
  matchedImageId: string;
  matchedItemId: string;
  noticeId: string;
  removal: FingerprintRemoval;
  distance: number;
}

/** Removed images join the bank (one row each; an image with a live row is skipped). Returns how many were added. */
export async function addImageFingerprints(
  tx: EntityManager,
  entries: ImageBankEntry[],
  removal: FingerprintRemoval,
  at: Date,
): Promise<number> {
  const hashed = entries.filter((e) => e.phash !== null && e.sha256);
  if (!hashed.length) return 0;
  const rows: { id: string }[] = await tx.query(
    `INSERT INTO image_fingerprints (image_id, item_id, notice_id, removal, phash, sha256, created_at)
     SELECT v.image_id, v.item_id, $2, $3::jsonb, v.phash, v.sha256, $4
       FROM jsonb_to_recordset($1::jsonb) AS v(image_id uuid, item_id uuid, phash bigint, sha256 text)
      WHERE NOT EXISTS (SELECT 1 FROM image_fingerprints f WHERE f.image_id = v.image_id AND f.retired_at IS NULL)
     RETURNING id`,
    [
      JSON.stringify(hashed.map((e) => ({ image_id: e.imageId, item_id: e.itemId, phash: e.phash, sha256: e.sha256 }))),
      removal.noticeId,
      JSON.stringify(removal),
      at,
    ],
  );
  return rows.length;
}

/**
 * The closest live fingerprint within `maxDistance` bits of this image's hash (the same SHA-256 is
 * distance 0), other than the image's own and those a moderator released it from; null if none.
 */
export async function findImageMatch(
  tx: EntityManager,
  image: { id: string; phash: string; sha256: string; releasedFrom: string[] },
  maxDistance: number,
): Promise<ImageBankMatch | null> {
  const [row]: {
    id: string;
    image_id: string;
    item_id: string;
    notice_id: string;
    removal: FingerprintRemoval;
    distance: number;
  }[] = await tx.query(
    `SELECT id, image_id, item_id, notice_id, removal, distance FROM (
       SELECT f.*, CASE WHEN f.sha256 = $2 THEN 0 ELSE bit_count((f.phash # $1::bigint)::bit(64))::int END AS distance
         FROM image_fingerprints f
        WHERE f.retired_at IS NULL AND f.image_id <> $3 AND NOT (f.id = ANY($4::uuid[]))) m
      WHERE distance <= $5
      ORDER BY distance, created_at LIMIT 1`,
    [image.phash, image.sha256, image.id, image.releasedFrom, maxDistance],
  );
  if (!row) return null;
  return {
    fingerprintId: row.id,
    matchedImageId: row.image_id,
    matchedItemId: row.item_id,
    noticeId: row.notice_id,
    removal: row.removal,
    distance: row.distance,
  };
}

/** Restored images no longer hold anything: their live fingerprints are retired (kept). Returns the retired ids. */
export async function retireImageFingerprints(tx: EntityManager, imageIds: string[], at: Date): Promise<string[]> {
  if (!imageIds.length) return [];
  const [rows]: [{ id: string }[], number] = await tx.query(
    `UPDATE image_fingerprints SET retired_at = $2 WHERE image_id = ANY($1::uuid[]) AND retired_at IS NULL RETURNING id`,
    [imageIds, at],
  );
  return rows.map((r) => r.id);
}

/** Live image fingerprints (the bench and the staff pages). */
export async function imageBankSize(tx: EntityManager): Promise<number> {
  const [r]: { n: number }[] = await tx.query(`SELECT count(*)::int AS n FROM image_fingerprints WHERE retired_at IS NULL`);
  return r.n;
}
