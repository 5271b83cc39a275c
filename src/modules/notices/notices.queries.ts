import { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AppError } from '../../shared/errors';
import { Notice } from './notice.entity';
import { NoticeTarget } from './notice-target.entity';
import { tokenMatches } from './status-token';

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

/**
 * Inserts a new notice and its targets with ONE statement (a data-modifying CTE), so the intake's
 * transaction pays one round trip for both. TypeORM still builds the notice's INSERT from the
 * entity, so the column mapping lives in one place. `notice.id` must be set by the caller.
 */
export async function insertNoticeWithTargets(
  tx: EntityManager,
  notice: Notice,
  rows: { url: string; normalisedUrl: string; itemId: string | null; outcome: string }[],
): Promise<void> {
  const [insertSql, params] = tx.createQueryBuilder().insert().into(Notice).values(notice as QueryDeepPartialEntity<Notice>).updateEntity(false).getQueryAndParameters();
  const p = params.length;
  await tx.query(
    `WITH n AS (${insertSql} RETURNING id)
     INSERT INTO notice_targets (notice_id, position, url, normalised_url, item_id, outcome)
     SELECT n.id, t.position, t.url, t.normalised_url, t.item_id, t.outcome
       FROM n, unnest($${p + 1}::int[], $${p + 2}::text[], $${p + 3}::text[], $${p + 4}::uuid[], $${p + 5}::text[])
            AS t(position, url, normalised_url, item_id, outcome)`,
    [...params, rows.map((_, i) => i + 1), rows.map((r) => r.url), rows.map((r) => r.normalisedUrl), rows.map((r) => r.itemId), rows.map((r) => r.outcome)],
  );
}

/** What the intake reads before it writes (one statement: see `intakeFacts`). */
export interface IntakeFacts {
  /** The new notice's reference, from a sequence (outside any transaction anyway). */
  reference: string;
  /** Other notices from this email or IP since `since`, counted only up to `cap`. */
  recentFromSender: number;
  /** References of open notices that already name one of the URLs or items. */
  duplicateOf: string[];
  /** Active staff to notify of the new notice (empty unless `withModerators`); the same list as notify-moderators' `moderatorEmails`. */
  moderators: string[];
}

/**
 * Everything the intake needs to know besides the registry match, in ONE statement: on a busy
 * 2-core machine each round trip costs a context switch on both sides, so four reads become one.
 * Bounded: the sender count stops at `cap` (all that the burst flag needs) and the duplicate check
 * at 50 rows, so a busy sender or a popular URL does not make every later intake slower.
 */
export async function intakeFacts(
  tx: EntityManager,
  q: { email: string; ip: string | null | undefined; since: Date; cap: number; normalisedUrls: string[]; itemIds: string[]; withModerators: boolean },
): Promise<IntakeFacts> {
  const [row] = await tx.query(
    `SELECT nextval('notice_reference_seq')::text AS n,
            (SELECT count(*)::int FROM (
               (SELECT id FROM notices WHERE email = $1 AND submitted_at > $3 LIMIT $4)
               UNION
               (SELECT id FROM notices WHERE $2::text IS NOT NULL AND submitter_ip = $2 AND submitted_at > $3 LIMIT $4)
               LIMIT $4) s) AS recent,
            ARRAY(SELECT DISTINCT d.reference FROM (
               SELECT n.reference FROM notice_targets t JOIN notices n ON n.id = t.notice_id
                WHERE n.status IN ('unverified', 'pending', 'in_review', 'needs_info')
                  AND (t.normalised_url = ANY($5::text[]) OR t.item_id = ANY($6::uuid[]))
                LIMIT 50) d) AS duplicates,
            CASE WHEN $7::boolean THEN ARRAY(SELECT email FROM users WHERE active ORDER BY email) ELSE '{}'::text[] END AS moderators`,
    [q.email, q.ip ?? null, q.since, q.cap, q.normalisedUrls, q.itemIds, q.withModerators],
  );
  return {
    reference: `TD-${String(row.n).padStart(6, '0')}`,
    recentFromSender: row.recent,
    duplicateOf: row.duplicates,
    moderators: row.moderators,
  };
}

/** A notice closed without removal: every target still waiting becomes `kept`. */
export async function keepPendingTargets(tx: EntityManager, noticeId: string): Promise<void> {
  await tx.query(`UPDATE notice_targets SET outcome = 'kept' WHERE notice_id = $1 AND outcome = 'pending'`, [noticeId]);
}

/** Replaces a notice's targets (an incomplete notice completed with a corrected URL list). */
export async function replaceTargets(
  tx: EntityManager,
  noticeId: string,
  rows: { url: string; normalisedUrl: string; itemId: string | null; outcome: string }[],
): Promise<void> {
  await tx.query(`DELETE FROM notice_targets WHERE notice_id = $1`, [noticeId]);
  await tx.query(
    `INSERT INTO notice_targets (notice_id, position, url, normalised_url, item_id, outcome)
     SELECT $1, t.position, t.url, t.normalised_url, t.item_id, t.outcome
       FROM unnest($2::int[], $3::text[], $4::text[], $5::uuid[], $6::text[]) AS t(position, url, normalised_url, item_id, outcome)`,
    [noticeId, rows.map((_, i) => i + 1), rows.map((r) => r.url), rows.map((r) => r.normalisedUrl), rows.map((r) => r.itemId), rows.map((r) => r.outcome)],
  );
}
