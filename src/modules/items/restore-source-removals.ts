import { EntityManager } from 'typeorm';
import type { Actor, RequestContext } from '../audit';
import { restoreImages } from './item-images';
import { restoreItems } from './remove-items';

export interface RestoreSourceRemovals {
  noticeId: string;
  /** No source (it is unknown): nothing to restore. */
  sourceId: string | null;
  reason: string;
  actor: Actor;
  context?: RequestContext;
  at: Date;
}

/**
 * A removal reversed for one source (a complaint upheld for it, DSA Art. 20): every item the notice
 * removed from that source's pages comes back, and so does every image it removed there (SPEC §19),
 * each through its restoration path (audit event, page and edge purge). Returns the items changed.
 */
export async function restoreSourceRemovals(tx: EntityManager, cmd: RestoreSourceRemovals): Promise<string[]> {
  const { noticeId, sourceId, ...how } = cmd;
  if (!sourceId) return [];
  const items: { id: string }[] = await tx.query(
    `SELECT id FROM items WHERE removed_by_notice_id = $1 AND source_id = $2 AND status = 'removed'`,
    [noticeId, sourceId],
  );
  const withImages: { item_id: string }[] = await tx.query(
    `SELECT DISTINCT g.item_id FROM item_images g JOIN items i ON i.id = g.item_id
      WHERE g.removed_by_notice_id = $1 AND i.source_id = $2 AND g.status = 'removed'`,
    [noticeId, sourceId],
  );
  const articles = await restoreItems(tx, { ...how, noticeId, itemIds: items.map((r) => r.id) });
  const images = await restoreImages(tx, { ...how, noticeId, itemIds: withImages.map((r) => r.item_id) });
  return [...new Set([...articles.changed.map((i) => i.id), ...images.changed.map((g) => g.itemId)])];
}
