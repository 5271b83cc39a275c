import type { SubmitterStanding } from './submitter-standing';
import { EntityManager, In } from 'typeorm';
import { composeParts, entityInsertPart, runAsOneStatement, type WritePart } from '../../db/one-statement';
import { statementGroups } from '../../db/statement-groups';
import { queryPrepared } from '../../db/prepared';
import { AppError } from '../../shared/errors';
import { normaliseUrl } from '../../shared/url';
import { Notice } from './notice.entity';
import { NoticeTarget } from './notice-target.entity';
import { tokenMatches } from './status-token';
import type { Item, ItemMatch } from '../items';

/** The notice, locked for the rest of the transaction (SELECT … FOR UPDATE). */
export async function lockByReference(tx: EntityManager, reference: string): Promise<Notice> {
  const notice = await tx
    .getRepository(Notice)
    .findOne({ where: { reference: String(reference).toUpperCase() }, lock: { mode: 'pessimistic_write' } });
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
 * transaction pays one round trip for both. The notice's INSERT is made from the entity's column
 * metadata (`entityInsertPart`), so the column mapping lives in one place. `notice.id` must be set
 * by the caller.
 */
export async function insertNoticeWithTargets(tx: EntityManager, notice: Notice, rows: TargetRow[]): Promise<void> {
  await runAsOneStatement(tx, newNoticeParts(tx, notice, rows));
}

export type TargetRow = { url: string; normalisedUrl: string; itemId: string | null; imageId?: string | null; outcome: string };

/**
 * The notice's INSERT and its targets' as parts of a larger statement (`runAsOneStatement`,
 * issue 18: the intake writes the notice, targets, audit event, webhook deliveries and emails in
 * one round trip). The targets name `notice.id` (made by the caller), not the notice's RETURNING.
 */
export function newNoticeParts(q: EntityManager, notice: Notice, rows: TargetRow[]): WritePart[] {
  const targets: WritePart = (p) =>
    `INSERT INTO notice_targets (notice_id, position, url, normalised_url, item_id, outcome, image_id)
     SELECT ${p(notice.id)}::uuid, t.position, t.url, t.normalised_url, t.item_id, t.outcome, t.image_id
       FROM unnest(${p(rows.map((_, i) => i + 1))}::int[], ${p(rows.map((r) => r.url))}::text[], ${p(rows.map((r) => r.normalisedUrl))}::text[],
                   ${p(rows.map((r) => r.itemId))}::uuid[], ${p(rows.map((r) => r.outcome))}::text[], ${p(rows.map((r) => r.imageId ?? null))}::uuid[])
            AS t(position, url, normalised_url, item_id, outcome, image_id)`;
  return [entityInsertPart(q, Notice, notice), targets];
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
  /** The sender's standing when the address is a portal submitter's (trusted, suspended), else null. */
  submitter: SubmitterStanding | null;
}

interface IntakeFactsRow {
  n: string;
  recent: number;
  duplicates: string[];
  moderators: string[];
  submitter: { trusted: boolean; suspendedUntil: string | null; suspensionReason: string | null } | null;
}

export interface IntakeFactsQuery {
  email: string;
  ip: string | null | undefined;
  since: Date;
  cap: number;
  normalisedUrls: string[];
  withModerators: boolean;
}

/**
 * Open notices that name one of these URLs or items, the first 50. They go from the URLs' targets
 * to their notices one by one (a sub-select by primary key, which the planner cannot turn into a
 * join), so the first 50 open ones end the search. As a join, a generic plan made while `notices`
 * was small (a new desk, the bench) hashed every open notice on every call: 5 ms per notice with
 * 3,000 open ones naming one URL.
 */
const duplicatesSql = (urls: string, items: string) => `ARRAY(SELECT DISTINCT d.reference FROM (
   SELECT reference FROM (
     SELECT (SELECT n.reference FROM notices n
              WHERE n.id = t.notice_id AND n.status IN ('unverified', 'pending', 'in_review', 'needs_info')) AS reference
       FROM notice_targets t
      WHERE t.normalised_url = ANY(${urls}) OR t.item_id = ANY(${items})
     OFFSET 0) o
    WHERE reference IS NOT NULL
    LIMIT 50) d)`;

/**
 * The triage facts as one statement; with `match`, the registry match is read in the same
 * statement (one round trip instead of two: on this 2-core machine a round trip costs each side
 * about a quarter of a millisecond of CPU), and its items count for the duplicates. The result has
 * one row per matched item (at least one row), each with the facts. Exported for the test that pins
 * its plan.
 */
export function intakeFactsStatement(q: IntakeFactsQuery, match?: ItemMatch): { sql: string; params: unknown[] } {
  return composeParts([intakeFactsPart(q, match)]);
}

/** The same statement as a part (`WritePart`: its SELECT with values bound through `p`), for `statementGroups`. */
function intakeFactsPart(q: IntakeFactsQuery, match?: ItemMatch): WritePart {
  return (p) => {
    const email = p(q.email);
    const ip = p(q.ip ?? null);
    const since = p(q.since);
    const cap = p(q.cap);
    const m = match ? `WITH m AS MATERIALIZED (${match.sql(p)})\n` : '';
    const items = match ? `ARRAY(SELECT id FROM m)` : `'{}'::uuid[]`;
    const facts = `SELECT nextval('notice_reference_seq')::text AS n,
            (SELECT count(*)::int FROM (
               (SELECT id FROM notices WHERE email = ${email} AND submitted_at > ${since} LIMIT ${cap})
               UNION
               (SELECT id FROM notices WHERE ${ip}::text IS NOT NULL AND submitter_ip = ${ip} AND submitted_at > ${since} LIMIT ${cap})
               LIMIT ${cap}) s) AS recent,
            ${duplicatesSql(`${p(q.normalisedUrls)}::text[]`, items)} AS duplicates,
            CASE WHEN ${p(q.withModerators)}::boolean THEN ARRAY(SELECT email FROM users WHERE active ORDER BY email) ELSE '{}'::text[] END AS moderators,
            (SELECT json_build_object('trusted', s.trusted, 'suspendedUntil', s.suspended_until, 'suspensionReason', s.suspension_reason)
               FROM submitters s WHERE s.email = ${email}) AS submitter`;
    return match ? `${m}, f AS MATERIALIZED (${facts})\nSELECT f.*, m.* FROM f LEFT JOIN m ON true` : facts;
  };
}

/**
 * Everything the intake needs to know, in ONE statement: the triage facts and, with `match`, the
 * registry match (`matched`: each URL as given → its item; empty without `match`). On a busy
 * 2-core machine each round trip costs a context switch on both sides, so five reads become one.
 * Bounded: the sender count stops at `cap` (all that the burst flag needs) and the duplicate check
 * at 50 rows, so a busy sender or a popular URL does not make every later intake slower.
 */
export async function intakeFacts(
  tx: EntityManager,
  q: IntakeFactsQuery,
  match?: ItemMatch,
  opts: { grouped?: boolean } = {},
): Promise<IntakeFacts & { matched: Map<string, Item> }> {
  // Named (planned once per connection): planning was two thirds of this statement's cost. For a
  // request (`grouped`, outside a transaction), read with the facts of the requests arriving
  // meanwhile (statement groups, issue 18).
  type Row = IntakeFactsRow & Record<string, unknown>;
  let rows: Row[];
  if (!opts.grouped || (tx.queryRunner && !tx.queryRunner.isReleased)) {
    const { sql, params } = intakeFactsStatement(q, match);
    rows = await queryPrepared<Row>(tx, sql, params);
  } else rows = await statementGroups(tx.connection).read<Row>(intakeFactsPart(q, match));
  const [row] = rows;
  return {
    reference: `TD-${String(row.n).padStart(6, '0')}`,
    recentFromSender: row.recent,
    duplicateOf: row.duplicates,
    moderators: row.moderators,
    submitter: row.submitter
      ? {
          trusted: !!row.submitter.trusted,
          suspendedUntil: row.submitter.suspendedUntil ? new Date(row.submitter.suspendedUntil) : null,
          suspensionReason: row.submitter.suspensionReason ?? null,
        }
      : null,
    matched: match ? match.resolve(rows) : new Map(),
  };
}

/** Open notices naming these items (the first 50): the duplicates of targets found after the facts were read (an image's item). */
export async function openNoticesNaming(tx: EntityManager, itemIds: string[]): Promise<string[]> {
  if (!itemIds.length) return [];
  const [row] = await queryPrepared<{ duplicates: string[] }>(tx, `SELECT ${duplicatesSql(`'{}'::text[]`, '$1::uuid[]')} AS duplicates`, [
    itemIds,
  ]);
  return row.duplicates;
}

/** A notice closed without removal: every target still waiting becomes `kept`. */
export async function keepPendingTargets(tx: EntityManager, noticeId: string): Promise<void> {
  await tx.query(`UPDATE notice_targets SET outcome = 'kept' WHERE notice_id = $1 AND outcome = 'pending'`, [noticeId]);
}

/** Approval: these targets' items were taken down (the rest is settled by `closeNotice`). */
export async function markTargetsRemoved(tx: EntityManager, noticeId: string, targetIds: string[]): Promise<void> {
  await tx.query(`UPDATE notice_targets SET outcome = 'removed' WHERE notice_id = $1 AND outcome = 'pending' AND id = ANY($2::uuid[])`, [
    noticeId,
    targetIds,
  ]);
}

/** Restoration: the targets of these items that were removed under the notice are back. */
export async function markTargetsRestored(tx: EntityManager, noticeId: string, itemIds: string[]): Promise<void> {
  if (!itemIds.length) return;
  await tx.query(
    `UPDATE notice_targets SET outcome = 'restored' WHERE notice_id = $1 AND outcome = 'removed' AND item_id = ANY($2::uuid[])`,
    [noticeId, itemIds],
  );
}

const OUTCOME_WORDS: Record<string, string> = {
  pending: 'waiting',
  removed: 'removed',
  kept: 'not removed',
  not_found: 'not on this site',
  restored: 'restored',
};

/** Every target URL with its outcome, in the words of the complainant's emails. */
export async function outcomesOf(tx: EntityManager, noticeId: string): Promise<{ url: string; outcome: string; label: string }[]> {
  const rows: { url: string; outcome: string }[] = await tx.query(
    `SELECT url, outcome FROM notice_targets WHERE notice_id = $1 ORDER BY position`,
    [noticeId],
  );
  return rows.map((r) => ({ ...r, label: OUTCOME_WORDS[r.outcome] ?? r.outcome }));
}

/**
 * The targets an approval removes: every matched, pending one, or those of `urls` (as given or any
 * spelling). A URL that is not the notice's, not on this site or already decided is a 422 naming it.
 */
export function pickTargets(
  targets: NoticeTarget[],
  urls: string[] | undefined,
  baseUrl: string,
): { removable: NoticeTarget[]; chosen: NoticeTarget[] } {
  const removable = targets.filter((t) => t.itemId && t.outcome === 'pending');
  if (!urls?.length) return { removable, chosen: removable };
  const errors: { field: string; message: string }[] = [];
  const picked = new Set<string>();
  urls.forEach((url, i) => {
    const norm = normaliseUrl(String(url).trim(), baseUrl) ?? String(url).trim();
    const t = targets.find((x) => x.url === url || x.normalisedUrl === norm);
    if (!t) errors.push({ field: `targets.${i}`, message: `${url} is not one of this notice's URLs.` });
    else if (!t.itemId) errors.push({ field: `targets.${i}`, message: `${url} is not on this site: there is nothing to remove.` });
    else if (t.outcome !== 'pending') errors.push({ field: `targets.${i}`, message: `${url} was already decided (${t.outcome}).` });
    else picked.add(t.id);
  });
  if (errors.length) throw AppError.validation(errors, 'Choose URLs of this notice that are on this site.');
  return { removable, chosen: removable.filter((t) => picked.has(t.id)) };
}

/**
 * For the scheduled jobs: up to `limit` notices in `status` that are overdue (by `due_at`) or were
 * submitted before `submittedBefore`, locked with SKIP LOCKED so instances share the work and never
 * wait on a notice a person is changing.
 */
export async function lockDueNotices(
  tx: EntityManager,
  q: { status: string; dueBefore?: Date; submittedBefore?: Date; limit: number },
): Promise<Notice[]> {
  const byDue = q.dueBefore !== undefined;
  const rows: { id: string }[] = await tx.query(
    `SELECT id FROM notices WHERE status = $1 AND ${byDue ? 'due_at' : 'submitted_at'} < $2
      ORDER BY ${byDue ? 'due_at' : 'submitted_at'} LIMIT ${Math.trunc(q.limit)} FOR UPDATE SKIP LOCKED`,
    [q.status, byDue ? q.dueBefore : q.submittedBefore],
  );
  if (!rows.length) return [];
  const found = await tx.getRepository(Notice).findBy({ id: In(rows.map((r) => r.id)) });
  const order = new Map(rows.map((r, i) => [r.id, i]));
  return found.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}

/** A notice's URLs as targets: trimmed, normalised, and two spellings of one URL folded into one. */
export function foldUrls(urls: string[], baseUrl: string): { url: string; normalisedUrl: string }[] {
  const seen = new Set<string>();
  const out: { url: string; normalisedUrl: string }[] = [];
  for (const raw of urls) {
    const url = raw.trim();
    const normalisedUrl = normaliseUrl(url, baseUrl) ?? url;
    if (seen.has(normalisedUrl)) continue;
    seen.add(normalisedUrl);
    out.push({ url, normalisedUrl });
  }
  return out;
}

/** Replaces a notice's targets (an incomplete notice completed with a corrected URL list). */
export async function replaceTargets(
  tx: EntityManager,
  noticeId: string,
  rows: { url: string; normalisedUrl: string; itemId: string | null; imageId?: string | null; outcome: string }[],
): Promise<void> {
  await tx.query(`DELETE FROM notice_targets WHERE notice_id = $1`, [noticeId]);
  await tx.query(
    `INSERT INTO notice_targets (notice_id, position, url, normalised_url, item_id, outcome, image_id)
     SELECT $1, t.position, t.url, t.normalised_url, t.item_id, t.outcome, t.image_id
       FROM unnest($2::int[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::uuid[])
            AS t(position, url, normalised_url, item_id, outcome, image_id)`,
    [
      noticeId,
      rows.map((_, i) => i + 1),
      rows.map((r) => r.url),
      rows.map((r) => r.normalisedUrl),
      rows.map((r) => r.itemId),
      rows.map((r) => r.outcome),
      rows.map((r) => r.imageId ?? null),
    ],
  );
}

/** SPEC §19: what the status page and staff detail show of image targets ("image in <article>", our thumbnail). */
export interface ImageTargetView {
  id: string;
  url: string;
  status: string;
  hasThumbnail: boolean;
  itemTitle: string;
  itemSlug: string;
}

/** The images named by targets (a read across the registry, for the pages): image id → view. */
export async function imageTargetsOf(tx: EntityManager, imageIds: (string | null)[]): Promise<Map<string, ImageTargetView>> {
  const ids = [...new Set(imageIds.filter((x): x is string => !!x))];
  if (!ids.length) return new Map();
  const rows: Record<string, any>[] = await tx.query(
    `SELECT g.id, g.url, g.status, (g.thumbnail IS NOT NULL) AS has_thumbnail, i.title, i.slug
       FROM item_images g JOIN items i ON i.id = g.item_id WHERE g.id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      { id: r.id, url: r.url, status: r.status, hasThumbnail: r.has_thumbnail, itemTitle: r.title, itemSlug: r.slug },
    ]),
  );
}
