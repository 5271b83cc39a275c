import { EntityManager } from 'typeorm';
import { AppError } from '../../shared/errors';
import { Notice } from './notice.entity';
import { NoticeTarget } from './notice-target.entity';
import { tokenMatches } from './status-token';

export async function nextReference(tx: EntityManager): Promise<string> {
  const [{ n }] = await tx.query(`SELECT nextval('notice_reference_seq')::text AS n`);
  return `TD-${String(n).padStart(6, '0')}`;
}

/** The notice, locked for the rest of the transaction (SELECT … FOR UPDATE). */
export async function lockByReference(tx: EntityManager, reference: string): Promise<Notice> {
  const notice = await tx.getRepository(Notice).findOne({ where: { reference: String(reference).toUpperCase() }, lock: { mode: 'pessimistic_write' } });
  if (!notice) throw AppError.notFound('Notice', 'NOTICE.NOT_FOUND');
  return notice;
}

export function findByReference(tx: EntityManager, reference: string): Promise<Notice | null> {
  if (!/^TD-\d{6,12}$/i.test(String(reference))) return Promise.resolve(null);
  return tx.getRepository(Notice).findOneBy({ reference: String(reference).toUpperCase() });
}

/**
 * The notice a complainant may see: a wrong or missing token gets exactly the same 404 as an
 * unknown reference, so references cannot be probed.
 */
export async function findForComplainant(tx: EntityManager, reference: string, token: unknown): Promise<Notice> {
  const notice = await findByReference(tx, reference);
  const ok = notice ? tokenMatches(token, notice.statusTokenHash) : tokenMatches(token, '0'.repeat(64));
  if (!notice || !ok) throw AppError.notFound('Notice', 'NOTICE.NOT_FOUND');
  return notice;
}

export function targetsOf(tx: EntityManager, noticeId: string): Promise<NoticeTarget[]> {
  return tx.getRepository(NoticeTarget).find({ where: { noticeId }, order: { position: 'ASC' } });
}

export async function insertTargets(
  tx: EntityManager,
  noticeId: string,
  rows: { url: string; normalisedUrl: string; itemId: string | null; outcome: string }[],
): Promise<void> {
  if (!rows.length) return;
  await tx.query(
    `INSERT INTO notice_targets (notice_id, position, url, normalised_url, item_id, outcome)
     SELECT $1, t.position, t.url, t.normalised_url, t.item_id, t.outcome
       FROM unnest($2::int[], $3::text[], $4::text[], $5::uuid[], $6::text[]) AS t(position, url, normalised_url, item_id, outcome)`,
    [noticeId, rows.map((_, i) => i + 1), rows.map((r) => r.url), rows.map((r) => r.normalisedUrl), rows.map((r) => r.itemId), rows.map((r) => r.outcome)],
  );
}

/**
 * References of open notices that already name one of these URLs or items. Bounded: a popular
 * URL named by thousands of notices costs no more than the first few rows.
 */
export async function openNoticesNaming(tx: EntityManager, normalisedUrls: string[], itemIds: string[]): Promise<string[]> {
  if (!normalisedUrls.length && !itemIds.length) return [];
  const rows: { reference: string }[] = await tx.query(
    `SELECT n.reference FROM notice_targets t JOIN notices n ON n.id = t.notice_id
      WHERE n.status IN ('unverified', 'pending', 'in_review', 'needs_info')
        AND (t.normalised_url = ANY($1::text[]) OR t.item_id = ANY($2::uuid[]))
      LIMIT 50`,
    [normalisedUrls, itemIds],
  );
  return [...new Set(rows.map((r) => r.reference))];
}

/**
 * Other notices from the same email or IP since `since`, counted only up to `cap` (all that the
 * burst flag needs), so a busy sender does not make every later intake slower.
 */
export async function countRecentFromSender(tx: EntityManager, email: string, ip: string | null | undefined, since: Date, cap: number): Promise<number> {
  const [{ n }] = await tx.query(
    `SELECT count(*)::int AS n FROM (
       (SELECT id FROM notices WHERE email = $1 AND submitted_at > $3 LIMIT $4)
       UNION
       (SELECT id FROM notices WHERE $2::text IS NOT NULL AND submitter_ip = $2 AND submitted_at > $3 LIMIT $4)
       LIMIT $4
     ) s`,
    [email, ip ?? null, since, cap],
  );
  return n;
}


/** A notice closed without removal: every target still waiting becomes `kept`. */
export async function keepPendingTargets(tx: EntityManager, noticeId: string): Promise<void> {
  await tx.query(`UPDATE notice_targets SET outcome = 'kept' WHERE notice_id = $1 AND outcome = 'pending'`, [noticeId]);
}
