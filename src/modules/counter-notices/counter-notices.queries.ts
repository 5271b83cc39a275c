import { EntityManager } from 'typeorm';
import { AppError } from '../../shared/errors';
import { Notice } from '../notices';
import { CounterNotice } from './counter-notice.entity';

/**
 * The items a notice removed (targets with outcome `removed`), with their page slug and title;
 * `imagesOnly` when the notice removed only images from the item (SPEC §19: the article stays up).
 */
export async function removedItemsOf(
  tx: EntityManager,
  noticeId: string,
): Promise<{ itemId: string; slug: string; title: string; url: string; imagesOnly: boolean }[]> {
  const rows: { item_id: string; slug: string; title: string; url: string; images_only: boolean }[] = await tx.query(
    `SELECT t.item_id, i.slug, i.title, (array_agg(t.url ORDER BY t.position))[1] AS url, bool_and(t.image_id IS NOT NULL) AS images_only
       FROM notice_targets t JOIN items i ON i.id = t.item_id
      WHERE t.notice_id = $1 AND t.outcome = 'removed'
      GROUP BY t.item_id, i.slug, i.title
      ORDER BY t.item_id`,
    [noticeId],
  );
  return rows.map((r) => ({ itemId: r.item_id, slug: r.slug, title: r.title, url: r.url, imagesOnly: r.images_only }));
}

/** The images a notice removed (image targets with outcome `removed`), with their URL as on our page (at the origin). */
export async function removedImagesOf(
  tx: EntityManager,
  noticeId: string,
): Promise<{ imageId: string; itemId: string; url: string; urlNormalised: string }[]> {
  const rows: { image_id: string; item_id: string; url: string; url_normalised: string }[] = await tx.query(
    `SELECT DISTINCT g.id AS image_id, g.item_id, g.url, g.url_normalised
       FROM notice_targets t JOIN item_images g ON g.id = t.image_id
      WHERE t.notice_id = $1 AND t.outcome = 'removed'
      ORDER BY g.url`,
    [noticeId],
  );
  return rows.map((r) => ({ imageId: r.image_id, itemId: r.item_id, url: r.url, urlNormalised: r.url_normalised }));
}

/** The counter-notice, locked for the rest of the transaction (SELECT … FOR UPDATE). */
export async function lockCounterNotice(tx: EntityManager, id: string): Promise<CounterNotice> {
  const found = /^[0-9a-f-]{36}$/i.test(id)
    ? await tx.getRepository(CounterNotice).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } })
    : null;
  if (!found) throw AppError.notFound('Counter-notice', 'COUNTER_NOTICE.NOT_FOUND');
  return found;
}

export async function lockNoticeById(tx: EntityManager, id: string): Promise<Notice> {
  const notice = await tx.getRepository(Notice).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  if (!notice) throw AppError.notFound('Notice', 'NOTICE.NOT_FOUND');
  return notice;
}

/** Contact addresses of the sources of these items (the publishers), for the emails. */
export async function sourceContactsOf(tx: EntityManager, itemIds: string[]): Promise<{ email: string; name: string }[]> {
  if (!itemIds.length) return [];
  const rows: { email: string; name: string }[] = await tx.query(
    `SELECT DISTINCT lower(s.contact_email) AS email, s.name FROM items i JOIN sources s ON s.id = i.source_id
      WHERE i.id = ANY($1::uuid[]) AND s.contact_email IS NOT NULL ORDER BY 1`,
    [itemIds],
  );
  return rows;
}

/** Titles and page slugs of items, in a stable order, for emails. */
export async function itemsForMail(tx: EntityManager, itemIds: string[]): Promise<{ id: string; slug: string; title: string }[]> {
  if (!itemIds.length) return [];
  return tx.query(`SELECT id, slug, title FROM items WHERE id = ANY($1::uuid[]) ORDER BY title, id`, [itemIds]);
}

export interface CounterNoticeRow {
  id: string;
  reference: string;
  noticeStatus: string;
  status: string;
  name: string;
  email: string;
  urls: string[];
  receivedAt: Date;
  restoreAfter: Date;
  restoredAt: Date | null;
  courtAction: CounterNotice['courtAction'];
}

/** Staff list: open ones first (soonest restoration first), then the rest, newest first. */
export async function listCounterNotices(tx: EntityManager, limit = 200): Promise<CounterNoticeRow[]> {
  const rows = await tx.query(
    `SELECT c.id, n.reference, n.status AS notice_status, c.status, c.name, c.email, c.urls, c.received_at, c.restore_after, c.restored_at, c.court_action
       FROM counter_notices c JOIN notices n ON n.id = c.notice_id
      ORDER BY (c.status = 'received') DESC, CASE WHEN c.status = 'received' THEN c.restore_after END ASC, c.received_at DESC
      LIMIT $1`,
    [limit],
  );
  return rows.map((r: Record<string, any>) => ({
    id: r.id,
    reference: r.reference,
    noticeStatus: r.notice_status,
    status: r.status,
    name: r.name,
    email: r.email,
    urls: r.urls,
    receivedAt: r.received_at,
    restoreAfter: r.restore_after,
    restoredAt: r.restored_at,
    courtAction: r.court_action,
  }));
}
