import { EntityManager } from 'typeorm';
import { NOTICE_STATUSES } from '../notices';

/**
 * The portal's reads: notices sent from a submitter's verified address, with their per-URL
 * outcomes. Reads across the notices module's tables for a page, which the layout allows; nothing
 * here writes.
 */

export const PAGE_SIZE = 50;

export interface PortalFilter {
  status?: string;
  claimType?: string;
  /** A reference (`TD-…`), or words of the work description, or part of a URL. */
  q?: string;
  from?: string;
  to?: string;
  cursor?: string;
}

export interface PortalRow {
  id: string;
  reference: string;
  status: string;
  claimType: string;
  submittedAt: Date;
  decidedAt: Date | null;
  workDescription: string;
  urls: number;
  removed: number;
  kept: number;
  notFound: number;
  pending: number;
  restored: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const CLAIM_TYPES = ['copyright', 'trademark', 'defamation', 'privacy', 'other'];

/** The query string as a filter: anything not understood is dropped, never an error. */
export function parsePortalFilter(q: Record<string, unknown>): PortalFilter {
  const s = (v: unknown, max = 200) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, max) : undefined);
  const status = s(q.status);
  const claimType = s(q.claimType);
  return {
    status: status && (NOTICE_STATUSES as readonly string[]).includes(status) ? status : undefined,
    claimType: claimType && CLAIM_TYPES.includes(claimType) ? claimType : undefined,
    q: s(q.q),
    from: s(q.from) && DATE.test(s(q.from)!) ? s(q.from) : undefined,
    to: s(q.to) && DATE.test(s(q.to)!) ? s(q.to) : undefined,
    cursor: s(q.cursor, 200),
  };
}

function decodeCursor(c: string | undefined): [string, string] | null {
  if (!c) return null;
  try {
    const [at, id] = Buffer.from(c, 'base64url').toString('utf8').split('|');
    if (!at || Number.isNaN(Date.parse(at)) || !/^[0-9a-f-]{36}$/.test(id ?? '')) return null;
    return [at, id];
  } catch {
    return null;
  }
}
const encodeCursor = (r: { submittedAt: Date; id: string }) => Buffer.from(`${r.submittedAt.toISOString()}|${r.id}`).toString('base64url');

/** The WHERE clause shared by the page and the CSV. `$1` is the address. */
function where(f: PortalFilter, params: unknown[]): string {
  const parts = ['n.email = $1'];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    parts.push(sql.replace('?', `$${params.length}`));
  };
  if (f.status) add('n.status = ?', f.status);
  if (f.claimType) add('n.claim_type = ?', f.claimType);
  if (f.from) add('n.submitted_at >= ?::date', f.from);
  if (f.to) add(`n.submitted_at < ?::date + 1`, f.to);
  if (f.q) {
    if (/^TD-\d{6,12}$/i.test(f.q)) add('n.reference = ?', f.q.toUpperCase());
    else {
      params.push(`%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      const p = `$${params.length}`;
      parts.push(
        `(n.work_description ILIKE ${p} OR EXISTS (SELECT 1 FROM notice_targets x WHERE x.notice_id = n.id AND x.url ILIKE ${p}))`,
      );
    }
  }
  return parts.join(' AND ');
}

/** One page, newest first (keyset on submitted_at, id), with per-URL outcome counts. */
export async function listPortalNotices(
  tx: EntityManager,
  email: string,
  f: PortalFilter,
): Promise<{ rows: PortalRow[]; next: string | null }> {
  const params: unknown[] = [email];
  let sql = where(f, params);
  const cursor = decodeCursor(f.cursor);
  if (cursor) {
    params.push(cursor[0], cursor[1]);
    sql += ` AND (n.submitted_at, n.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
  }
  params.push(PAGE_SIZE + 1);
  const rows: Record<string, unknown>[] = await tx.query(
    `SELECT n.id, n.reference, n.status, n.claim_type, n.submitted_at, n.decided_at, left(n.work_description, 200) AS work_description, t.*
       FROM notices n
       CROSS JOIN LATERAL (
         SELECT count(*)::int AS urls,
                count(*) FILTER (WHERE outcome = 'removed')::int AS removed,
                count(*) FILTER (WHERE outcome = 'kept')::int AS kept,
                count(*) FILTER (WHERE outcome = 'not_found')::int AS not_found,
                count(*) FILTER (WHERE outcome = 'pending')::int AS pending,
                count(*) FILTER (WHERE outcome = 'restored')::int AS restored
           FROM notice_targets WHERE notice_id = n.id) t
      WHERE ${sql}
      ORDER BY n.submitted_at DESC, n.id DESC
      LIMIT $${params.length}`,
    params,
  );
  const out: PortalRow[] = rows.slice(0, PAGE_SIZE).map((r) => ({
    id: r.id as string,
    reference: r.reference as string,
    status: r.status as string,
    claimType: r.claim_type as string,
    submittedAt: r.submitted_at as Date,
    decidedAt: (r.decided_at as Date) ?? null,
    workDescription: r.work_description as string,
    urls: r.urls as number,
    removed: r.removed as number,
    kept: r.kept as number,
    notFound: r.not_found as number,
    pending: r.pending as number,
    restored: r.restored as number,
  }));
  return { rows: out, next: rows.length > PAGE_SIZE ? encodeCursor(out[out.length - 1]) : null };
}

export const PORTAL_CSV_COLUMNS = ['reference', 'status', 'claim_type', 'submitted_at', 'decided_at', 'url', 'on_this_site', 'outcome'];

/**
 * Every URL of every notice the filter selects, one CSV row each, read in keyset pages of 1,000
 * notices so a large history is never held in memory.
 */
export async function* portalCsvRows(tx: EntityManager, email: string, f: PortalFilter): AsyncGenerator<unknown[]> {
  let after: [Date, string] | null = null;
  for (;;) {
    const params: unknown[] = [email];
    let sql = where({ ...f, cursor: undefined }, params);
    if (after) {
      params.push(after[0], after[1]);
      sql += ` AND (n.submitted_at, n.id) < ($${params.length - 1}, $${params.length})`;
    }
    const notices: { id: string; submitted_at: Date }[] = await tx.query(
      `SELECT n.id, n.submitted_at FROM notices n WHERE ${sql} ORDER BY n.submitted_at DESC, n.id DESC LIMIT 1000`,
      params,
    );
    if (!notices.length) return;
    const rows: Record<string, unknown>[] = await tx.query(
      `SELECT n.reference, n.status, n.claim_type, n.submitted_at, n.decided_at, t.url, t.item_id IS NOT NULL AS matched, t.outcome
         FROM notices n JOIN notice_targets t ON t.notice_id = n.id
        WHERE n.id = ANY($1::uuid[])
        ORDER BY n.submitted_at DESC, n.id DESC, t.position`,
      [notices.map((n) => n.id)],
    );
    for (const r of rows) {
      yield [
        r.reference,
        r.status,
        r.claim_type,
        (r.submitted_at as Date).toISOString(),
        r.decided_at ? (r.decided_at as Date).toISOString() : '',
        r.url,
        r.matched ? 'yes' : 'no',
        r.outcome,
      ];
    }
    const last = notices[notices.length - 1];
    after = [last.submitted_at, last.id];
  }
}
