import { EntityManager, In } from 'typeorm';
import { AppError } from '../../shared/errors';
import { Actor, record, RequestContext } from '../audit';
import { ITEM_LISTS, itemKey, LIST_KEYS, queuePurge, sourceKey } from '../edge';
import { addFingerprints, retireFingerprints } from '../staydown';
import { releaseHeldOn } from './held-items';
import { Item } from './item.entity';
import { ALL, notifyItemsChanged } from './page-cache';
import { Source } from './source.entity';

/**
 * The content functions of the review and counter-notice issues. Each runs in the caller's
 * transaction (beside the notice's own change, its audit events and emails), locks the rows it
 * changes, records one audit event per item, and tells every instance's page cache. Nothing is
 * deleted: a removed item keeps its content for restoration.
 */

export interface RemoveItems {
  itemIds: string[];
  noticeId: string;
  /** The notice reference shown on the 451 page, e.g. "TD-000123". */
  reference: string;
  /** The claimant organisation's name, or null for a private person (shown as "[private]"). */
  claimant: string | null;
  /** The legal basis shown on the 451 page, e.g. "17 U.S.C. § 512(c) (copyright)". */
  legalBasis: string;
  actor: Actor;
  context?: RequestContext;
  at: Date;
}

export interface ContentChange {
  /** Items whose status changed. */
  changed: Item[];
  /** Items left as they were, with why. */
  unchanged: { item: Item; reason: string }[];
  /** Ids that are not in the registry. */
  missing: string[];
  /** restoreItems: held copies released because the original they matched was restored (SPEC §13). */
  releasedCopies?: Item[];
}

async function lockItems(tx: EntityManager, ids: string[]): Promise<{ items: Item[]; missing: string[] }> {
  const unique = [...new Set(ids)].filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  const items = unique.length
    ? await tx.getRepository(Item).find({ where: { id: In(unique) }, order: { id: 'ASC' }, lock: { mode: 'pessimistic_write' } })
    : [];
  const found = new Set(items.map((i) => i.id));
  return { items, missing: [...new Set(ids)].filter((id) => !found.has(id)) };
}

/**
 * Published (or held) items become `removed` (the page answers 451 naming the notice), and each
 * joins the staydown fingerprint bank in this transaction (SPEC §13).
 */
export async function removeItems(tx: EntityManager, cmd: RemoveItems): Promise<ContentChange> {
  if (!cmd.reference || !cmd.legalBasis) throw AppError.badRequest('A removal needs the notice reference and the legal basis.');
  const { items, missing } = await lockItems(tx, cmd.itemIds);
  const out: ContentChange = { changed: [], unchanged: [], missing };
  const before = new Map<string, string>();
  const removal = {
    noticeId: cmd.noticeId,
    reference: cmd.reference,
    claimant: cmd.claimant?.trim() || '[private]',
    legalBasis: cmd.legalBasis,
  };
  for (const item of items) {
    if (item.status !== 'published' && item.status !== 'held') {
      out.unchanged.push({
        item,
        reason: item.status === 'removed' ? `already removed (${item.removal?.reference ?? 'another notice'})` : 'withdrawn by the source',
      });
      continue;
    }
    before.set(item.id, item.status);
    item.status = 'removed';
    item.removedAt = cmd.at;
    item.removedByNoticeId = cmd.noticeId;
    item.removal = removal;
    out.changed.push(item);
  }
  if (out.changed.length) {
    await tx.query(
      `UPDATE items SET status = 'removed', removed_at = $2, removed_by_notice_id = $3, removal = $4::jsonb, held = NULL, updated_at = $2 WHERE id = ANY($1::uuid[])`,
      [out.changed.map((i) => i.id), cmd.at, cmd.noticeId, JSON.stringify(removal)],
    );
    for (const item of out.changed) {
      await record(tx, {
        actor: cmd.actor,
        action: 'item.removed',
        subject: { type: 'item', id: item.id },
        details: {
          slug: item.slug,
          title: item.title,
          originalUrl: item.originalUrl,
          sourceId: item.sourceId,
          before: before.get(item.id),
          after: 'removed',
          ...removal,
        },
        context: cmd.context,
        at: cmd.at,
      });
    }
    await addFingerprints(
      tx,
      out.changed.map((i) => ({
        itemId: i.id,
        title: i.title,
        content: i.content,
        rawSha256: i.rawSha256,
        originalUrlNormalised: i.originalUrlNormalised,
      })),
      removal,
      cmd.at,
    );
    await notifyItemsChanged(
      tx,
      out.changed.map((i) => i.slug),
    );
    await queuePurge(tx, [...out.changed.map((i) => itemKey(i.id)), ...ITEM_LISTS, LIST_KEYS.transparency], cmd.at);
  }
  return out;
}

export interface RestoreItems {
  itemIds: string[];
  /** Restore only items removed by this notice (the counter-notice case); omit for any removal. */
  noticeId?: string;
  reason: string;
  actor: Actor;
  context?: RequestContext;
  at: Date;
}

/**
 * Removed items come back: `published` again, or `withdrawn` if their source opted out meanwhile.
 * The removal's record stays in the audit history.
 */
export async function restoreItems(tx: EntityManager, cmd: RestoreItems): Promise<ContentChange> {
  const { items, missing } = await lockItems(tx, cmd.itemIds);
  const out: ContentChange = { changed: [], unchanged: [], missing };
  for (const item of items) {
    if (item.status !== 'removed') {
      out.unchanged.push({ item, reason: `not removed (${item.status})` });
      continue;
    }
    if (cmd.noticeId && item.removedByNoticeId !== cmd.noticeId) {
      out.unchanged.push({ item, reason: 'removed by another notice' });
      continue;
    }
    const previous = item.removal;
    item.status = item.withdrawnAt ? 'withdrawn' : 'published';
    item.removedAt = null;
    item.removedByNoticeId = null;
    item.removal = null;
    await tx.query(
      `UPDATE items SET status = $2, removed_at = NULL, removed_by_notice_id = NULL, removal = NULL, updated_at = $3 WHERE id = $1`,
      [item.id, item.status, cmd.at],
    );
    await record(tx, {
      actor: cmd.actor,
      action: 'item.restored',
      subject: { type: 'item', id: item.id },
      details: { slug: item.slug, title: item.title, before: 'removed', after: item.status, reason: cmd.reason, removal: previous },
      context: cmd.context,
      at: cmd.at,
    });
    out.changed.push(item);
  }
  if (out.changed.length) {
    // Staydown (SPEC §13): the restored originals no longer hold anything.
    const retired = await retireFingerprints(
      tx,
      out.changed.map((i) => i.id),
      cmd.at,
    );
    out.releasedCopies = await releaseHeldOn(tx, {
      fingerprintIds: retired,
      reason: `the original was restored: ${cmd.reason}`,
      actor: cmd.actor,
      context: cmd.context,
      at: cmd.at,
    });
    await notifyItemsChanged(
      tx,
      out.changed.map((i) => i.slug),
    );
    await queuePurge(tx, [...out.changed.map((i) => itemKey(i.id)), ...ITEM_LISTS, LIST_KEYS.transparency], cmd.at);
  }
  return out;
}

export interface WithdrawSource {
  sourceId: string;
  /** Why, for the record (e.g. "publisher opt-out confirmed by editor@example.org"). */
  reason: string;
  actor: Actor;
  context?: RequestContext;
  at: Date;
}

/**
 * The publisher opted out (SPEC §9): the source becomes `blocked` (no more imports, no strike) and
 * every published item `withdrawn` (410 with a link to the original). Removed items stay removed
 * (their notice still stands) but are marked, so a later restoration makes them withdrawn.
 */
export async function withdrawSource(tx: EntityManager, cmd: WithdrawSource): Promise<{ source: Source; withdrawn: number }> {
  const source = await tx.getRepository(Source).findOne({ where: { id: cmd.sourceId }, lock: { mode: 'pessimistic_write' } });
  if (!source) throw AppError.notFound('Source', 'SOURCE.NOT_FOUND');
  const before = source.status;
  const [rows]: [{ id: string; status: string }[], number] = await tx.query(
    `UPDATE items SET status = CASE WHEN status = 'published' THEN 'withdrawn' ELSE status END, withdrawn_at = $2, updated_at = $2
     WHERE source_id = $1 AND withdrawn_at IS NULL AND status IN ('published', 'removed', 'held') RETURNING id, status`,
    [source.id, cmd.at],
  );
  const withdrawn = rows.filter((r) => r.status === 'withdrawn').length;
  await tx.query(`UPDATE sources SET status = 'blocked', next_fetch_at = NULL, updated_at = $2 WHERE id = $1`, [source.id, cmd.at]);
  source.status = 'blocked';
  await record(tx, {
    actor: cmd.actor,
    action: 'source.withdrawn',
    subject: { type: 'source', id: source.id },
    details: { name: source.name, before, after: 'blocked', itemsWithdrawn: withdrawn, itemsMarked: rows.length, reason: cmd.reason },
    context: cmd.context,
    at: cmd.at,
  });
  await notifyItemsChanged(tx, ALL);
  await queuePurge(tx, [sourceKey(source.id), ...ITEM_LISTS], cmd.at);
  return { source, withdrawn };
}
