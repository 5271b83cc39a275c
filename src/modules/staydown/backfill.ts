import type { DataSource } from 'typeorm';
import { withTransaction } from '../../db/transaction';
import type { Clock } from '../../shared/clock';
import { Actor, record } from '../audit';
import { addFingerprints, removedWithoutFingerprint } from './bank';

/**
 * `npm run cli -- fingerprint-backfill`: puts items removed before staydown existed into the bank.
 * Batches in id order, one transaction (fingerprints, bands and one audit event) per batch.
 * Resumable: it picks only removed items without a live fingerprint, so a run that stopped
 * halfway starts again where it was, and a second run finds nothing to do.
 */
export async function backfillFingerprints(
  deps: { db: DataSource; clock: Clock },
  opts: { actor: Actor; batch?: number; onProgress?: (done: number, total: number) => void },
): Promise<{ added: number; total: number }> {
  const batch = Math.max(1, Math.min(opts.batch ?? 200, 5000));
  const [{ n: total }] = await deps.db.query(
    `SELECT count(*)::int AS n FROM items i WHERE i.status = 'removed' AND i.removal IS NOT NULL AND i.removed_by_notice_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM content_fingerprints f WHERE f.item_id = i.id AND f.retired_at IS NULL)`,
  );
  let added = 0;
  let after: string | null = null;
  opts.onProgress?.(0, total);
  for (;;) {
    const rows = await removedWithoutFingerprint(deps.db.manager, after, batch);
    if (!rows.length) break;
    after = rows[rows.length - 1].id;
    const n = await withTransaction(deps.db, async (tx) => {
      const at = deps.clock.now();
      let count = 0;
      for (const r of rows) {
        count += await addFingerprints(
          tx,
          [{ itemId: r.id, title: r.title, content: r.content, rawSha256: r.raw_sha256, originalUrlNormalised: r.original_url_normalised }],
          { ...r.removal, noticeId: r.removed_by_notice_id },
          at,
        );
      }
      await record(tx, {
        actor: opts.actor,
        action: 'staydown.backfilled',
        subject: null,
        details: { added: count, firstItemId: rows[0].id, lastItemId: after },
        at,
      });
      return count;
    });
    added += n;
    opts.onProgress?.(added, total);
  }
  return { added, total };
}
