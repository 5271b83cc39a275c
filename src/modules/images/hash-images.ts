import { availableParallelism } from 'node:os';
import type { AppDeps } from '../../deps';
import { createLeaseHolder, LeaseHolder } from '../../db/leases';
import { withTransaction } from '../../db/transaction';
import { SYSTEM } from '../audit';
import { claimImagesToFetch, imagesChecked, removeImages, storeImageFacts, storeImageFailure, StoredImage } from '../items';
import { addImageFingerprints, findImageMatch } from '../staydown';
import { fetchImage, FetchImageOptions } from './fetch-image';
import { ImageFacts, ImageRefused } from './perceptual-hash';

export type ImageDeps = Pick<AppDeps, 'db' | 'clock' | 'config' | 'logger'> & {
  /** The process's claims (server.ts passes `container.leases`); default: one registered for this run. */
  leases?: LeaseHolder;
  /** Tests: host names allowed to be private although ALLOW_PRIVATE_FEEDS is off. */
  privateHosts?: readonly string[];
};

export const MAX_IMAGE_ATTEMPTS = 4;

/**
 * The image job (SPEC §19): claims due `pending` images through the shared leases (SKIP LOCKED,
 * `claimed_by` = this process), downloads each outside any transaction (SSRF-guarded, capped,
 * checked), and then in ONE transaction per image: stores its SHA-256, perceptual hash and
 * thumbnail; if a notice removed it before it was hashed, adds it to the bank; if it is shown and
 * matches a live image fingerprint within IMAGE_STAYDOWN_DISTANCE, removes it from its page on
 * that notice's account (`item.image_removed` with the match), purges the page. Returns how many
 * images it handled.
 *
 * Staydown at import: until this job has checked an image, its page leaves it out (items'
 * `withImageStates`), so a copy of a removed photo is never shown, not even for the seconds before
 * it is hashed; a clear image (or one given up on) appears when its page is purged here. Hashing in
 * the import itself was measured and refused: a download (up to IMAGE_LIMITS.timeoutMs, from a
 * host the import does not control) plus ~5 ms of decoding per image is many times the whole
 * per-entry budget of a feed import (≥ 2,000 entries/s), and no download belongs in its transaction.
 */
export async function hashPendingImages(deps: ImageDeps, opts: { limit?: number; concurrency?: number } = {}): Promise<number> {
  const own = !deps.leases;
  const leases =
    deps.leases ?? createLeaseHolder(deps.db, { leaseMs: deps.config.claimLeaseSeconds * 1000, logger: deps.logger, name: 'images' });
  const fetchOpts: FetchImageOptions = {
    allowPrivate: deps.config.policy.allowPrivateFeeds,
    privateHosts: deps.privateHosts,
    userAgent: `TakedownDesk (+${deps.config.publicBaseUrl})`,
  };
  // As many images at once as the machine has cores: decoding is libvips' (off the event loop, one
  // thread per image), and a download waits on the network, not on us.
  const concurrency = Math.max(1, opts.concurrency ?? availableParallelism());
  let n = 0;
  try {
    const limit = opts.limit ?? 500;
    while (n < limit) {
      const batch = await claimImagesToFetch(leases, deps.clock.now(), Math.min(Math.max(8, 4 * concurrency), limit - n));
      if (!batch.length) break;
      let next = 0;
      const notStarted: string[] = [];
      await Promise.all(
        Array.from({ length: Math.min(concurrency, batch.length) }, async () => {
          while (next < batch.length && !notStarted.length) {
            const row = batch[next++];
            if (!leases.holds(row.claimed_by)) {
              notStarted.push(row.id, ...batch.slice(next).map((r) => r.id));
              next = batch.length;
              return;
            }
            await hashOne(deps, fetchOpts, row);
            n++;
          }
        }),
      );
      if (notStarted.length) {
        await leases.release('item_images', { ids: notStarted, set: 'attempts = t.attempts - 1' });
        return n;
      }
    }
    return n;
  } finally {
    if (own) await leases.stop();
  }
}

async function hashOne(
  deps: ImageDeps,
  fetchOpts: FetchImageOptions,
  row: { id: string; url: string; attempts: number; claimed_by: string },
) {
  let facts: ImageFacts;
  try {
    facts = await fetchImage(row.url, fetchOpts);
  } catch (e) {
    const refused = e instanceof ImageRefused;
    const retry = !refused && row.attempts < MAX_IMAGE_ATTEMPTS;
    const retryAt = retry ? new Date(deps.clock.now().getTime() + 60_000 * 4 ** row.attempts) : null;
    deps.logger.info({ imageId: row.id, error: String((e as Error).message), retry }, 'image not fetched');
    await withTransaction(deps.db, (tx) =>
      storeImageFailure(tx, row.id, row.claimed_by, (e as Error).message ?? String(e), retryAt, deps.clock.now()),
    );
    return;
  }
  await recordImageFacts(deps, { id: row.id, claimedBy: row.claimed_by }, facts);
}

/**
 * One image's facts, in one transaction: stored (only while the claim is ours; `claimedBy` null for
 * an unclaimed pending row whose bytes the caller already has, as the demo seed does), then banked
 * if a notice removed it before it was hashed, or checked against the bank and removed on a match.
 */
export async function recordImageFacts(deps: ImageDeps, row: { id: string; claimedBy: string | null }, facts: ImageFacts): Promise<void> {
  await withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const image = await storeImageFacts(tx, row.id, row.claimedBy, facts, now);
    if (!image) return; // the claim was lost: another instance has it
    if (image.status === 'removed' && image.removal && !image.removal.match) {
      const { noticeId, reference, claimant, legalBasis } = image.removal;
      await addImageFingerprints(tx, [entryOf(image)], { noticeId, reference, claimant, legalBasis }, now);
      return;
    }
    if (image.status !== 'shown') return;
    const match = await findImageMatch(
      tx,
      { id: image.id, phash: image.phash!, sha256: image.sha256!, releasedFrom: image.releasedFrom },
      deps.config.policy.imageStaydownDistance,
    );
    // Clear of the bank: its page, which left it out until now, shows it (purged in this transaction).
    if (!match) return imagesChecked(tx, [image.id], now);
    await removeImages(tx, {
      imageIds: [image.id],
      removal: {
        ...match.removal,
        match: { fingerprintId: match.fingerprintId, matchedImageId: match.matchedImageId, distance: match.distance },
      },
      actor: SYSTEM,
      at: now,
    });
  });
}

const entryOf = (g: StoredImage) => ({ imageId: g.id, itemId: g.itemId, phash: g.phash!, sha256: g.sha256! });
