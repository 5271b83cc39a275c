import { EntityManager } from 'typeorm';
import { AppError } from '../../shared/errors';
import { Actor, record, RequestContext } from '../audit';
import { recordException } from '../staydown';
import { Item, ItemHold } from './item.entity';
import { notifyItemsChanged } from './page-cache';

/**
 * Held items (SPEC §13): imported copies of removed content, stored `held` by `upsertItems`.
 * A moderator releases one (published; this match never holds it again) or confirms it (the
 * review module's `confirmHeldItem`, through `removeItems`); a restored original releases its copies.
 */

const actorLabel = (a: Actor) => (a.type === 'user' ? a.label : (a.label ?? a.type));

/** Releases one held item: `published` (or `withdrawn` if its source opted out meanwhile), audited. */
export async function releaseHeldItem(
  tx: EntityManager,
  cmd: { itemId: string; actor: Actor; context?: RequestContext; at: Date },
): Promise<Item> {
  const item = /^[0-9a-f-]{36}$/i.test(cmd.itemId)
    ? await tx.getRepository(Item).findOne({ where: { id: cmd.itemId }, lock: { mode: 'pessimistic_write' } })
    : null;
  if (!item) throw AppError.notFound('Item', 'ITEM.NOT_FOUND');
  if (item.status !== 'held' || !item.held)
    throw AppError.conflict('ITEM.NOT_HELD', `This item is ${item.status}, not held: there is nothing to release.`);
  const hold = item.held;
  await recordException(tx, item.id, hold.fingerprintId, actorLabel(cmd.actor), cmd.at);
  item.status = item.withdrawnAt ? 'withdrawn' : 'published';
  item.held = null;
  await tx.query(`UPDATE items SET status = $2, held = NULL, updated_at = $3 WHERE id = $1`, [item.id, item.status, cmd.at]);
  await record(tx, {
    actor: cmd.actor,
    action: 'item.released',
    subject: { type: 'item', id: item.id },
    details: {
      slug: item.slug,
      title: item.title,
      before: 'held',
      after: item.status,
      reason: 'released by a moderator: never held again for this match',
      ...hold,
    },
    context: cmd.context,
    at: cmd.at,
  });
  await notifyItemsChanged(tx, [item.slug]);
  return item;
}

/** Releases every item held on these fingerprints (their originals were restored), audited each. */
export async function releaseHeldOn(
  tx: EntityManager,
  cmd: { fingerprintIds: string[]; reason: string; actor: Actor; context?: RequestContext; at: Date },
): Promise<Item[]> {
  if (!cmd.fingerprintIds.length) return [];
  const [rows]: [{ id: string; slug: string; title: string; status: Item['status']; source_id: string; held: ItemHold }[], number] =
    await tx.query(
      `UPDATE items i SET status = CASE WHEN i.withdrawn_at IS NULL THEN 'published' ELSE 'withdrawn' END, held = NULL, updated_at = $2
       FROM (SELECT id, held FROM items WHERE status = 'held' AND held->>'fingerprintId' = ANY($1::text[]) FOR UPDATE) old
      WHERE i.id = old.id
      RETURNING i.id, i.slug, i.title, i.status, i.source_id, old.held`,
      [cmd.fingerprintIds, cmd.at],
    );
  for (const r of rows) {
    await record(tx, {
      actor: cmd.actor,
      action: 'item.released',
      subject: { type: 'item', id: r.id },
      details: { slug: r.slug, title: r.title, before: 'held', after: r.status, reason: cmd.reason, ...r.held },
      context: cmd.context,
      at: cmd.at,
    });
  }
  if (rows.length)
    await notifyItemsChanged(
      tx,
      rows.map((r) => r.slug),
    );
  return rows.map((r) => Object.assign(new Item(), { id: r.id, slug: r.slug, title: r.title, status: r.status, sourceId: r.source_id }));
}

/** How many items are held (the queue header), through the partial index on held items. */
export async function countHeld(tx: EntityManager): Promise<number> {
  const [{ n }] = await tx.query(`SELECT count(*)::int AS n FROM items WHERE status = 'held'`);
  return n;
}
