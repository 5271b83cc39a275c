import { EntityManager } from 'typeorm';
import { AppError } from '../../shared/errors';
import { Submitter } from './submitter.entity';

/**
 * The admins' view of submitters (SPEC §14, DSA Arts. 22/23): each one's accuracy, counted from
 * the notices sent from their address (read across the notices module's tables for a page, which
 * the layout allows; nothing here writes). Outcomes as the transparency report counts them:
 * approved (every matched URL removed), partly (some kept), rejected, spam, restored after a
 * counter-notice, open.
 */

export const ADMIN_PAGE_SIZE = 50;

export interface Accuracy {
  notices: number;
  approved: number;
  partly: number;
  rejected: number;
  spam: number;
  restored: number;
  open: number;
  /** Share of decided notices that were right (approved or partly), in whole percent; null when none decided. */
  accuracy: number | null;
}

export interface SubmitterFilter {
  q?: string;
  /** `trusted`, `suspended`, `warned` or undefined (everyone). */
  show?: 'trusted' | 'suspended' | 'untrusted';
  cursor?: string;
}

export interface SubmitterRow extends Accuracy {
  id: string;
  email: string;
  name: string | null;
  organization: string | null;
  trusted: boolean;
  suspendedUntil: Date | null;
  suspensionReason: string | null;
  lastSignedInAt: Date | null;
}

const ACCURACY_SQL = `
  SELECT count(*)::int AS notices,
         count(*) FILTER (WHERE o.k = 'approved')::int AS approved,
         count(*) FILTER (WHERE o.k = 'partly')::int AS partly,
         count(*) FILTER (WHERE o.k = 'rejected')::int AS rejected,
         count(*) FILTER (WHERE o.k = 'spam')::int AS spam,
         count(*) FILTER (WHERE o.k = 'restored')::int AS restored,
         count(*) FILTER (WHERE o.k = 'open')::int AS open
    FROM notices n
    CROSS JOIN LATERAL (SELECT CASE
      WHEN n.status IN ('approved', 'countered', 'upheld') THEN
        CASE WHEN EXISTS (SELECT 1 FROM notice_targets t WHERE t.notice_id = n.id AND t.outcome = 'kept') THEN 'partly' ELSE 'approved' END
      WHEN n.status IN ('rejected', 'spam', 'restored') THEN n.status::text
      WHEN n.status = 'withdrawn' THEN 'withdrawn'
      ELSE 'open' END AS k) o
   WHERE n.email = s.email`;

function withAccuracy<T extends Record<string, any>>(r: T): T & Pick<Accuracy, 'accuracy'> {
  const decided = r.approved + r.partly + r.rejected + r.spam + r.restored;
  return { ...r, accuracy: decided ? Math.round(((r.approved + r.partly) * 100) / decided) : null };
}

const SHOWS = ['trusted', 'suspended', 'untrusted'] as const;

export function parseSubmitterFilter(q: Record<string, unknown>): SubmitterFilter {
  const s = (v: unknown, max = 200) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, max) : undefined);
  const show = s(q.show);
  return {
    q: s(q.q),
    show: (SHOWS as readonly string[]).includes(show ?? '') ? (show as SubmitterFilter['show']) : undefined,
    cursor: s(q.cursor),
  };
}

/** One page of submitters by address (keyset on email), each with their accuracy figures. */
export async function listSubmitters(
  tx: EntityManager,
  f: SubmitterFilter,
  now: Date,
): Promise<{ rows: SubmitterRow[]; next: string | null }> {
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const where: string[] = [];
  if (f.q) {
    const like = p(`%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`).toLowerCase()}%`);
    where.push(`(s.email LIKE ${like} OR lower(coalesce(s.organization, '')) LIKE ${like} OR lower(coalesce(s.name, '')) LIKE ${like})`);
  }
  if (f.show === 'trusted') where.push('s.trusted');
  if (f.show === 'untrusted') where.push('NOT s.trusted');
  if (f.show === 'suspended') where.push(`s.suspended_until > ${p(now)}`);
  if (f.cursor) where.push(`s.email > ${p(Buffer.from(f.cursor, 'base64url').toString('utf8'))}`);
  const rows: Record<string, any>[] = await tx.query(
    `SELECT s.id, s.email, s.name, s.organization, s.trusted, s.suspended_until, s.suspension_reason, s.last_signed_in_at, a.*
       FROM (SELECT * FROM submitters s ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.email LIMIT ${ADMIN_PAGE_SIZE + 1}) s
       CROSS JOIN LATERAL (${ACCURACY_SQL}) a
      ORDER BY s.email`,
    params,
  );
  const page = rows.slice(0, ADMIN_PAGE_SIZE).map((r) =>
    withAccuracy({
      id: r.id,
      email: r.email,
      name: r.name,
      organization: r.organization,
      trusted: r.trusted,
      suspendedUntil: r.suspended_until && r.suspended_until > now ? r.suspended_until : null,
      suspensionReason: r.suspended_until && r.suspended_until > now ? r.suspension_reason : null,
      lastSignedInAt: r.last_signed_in_at,
      notices: r.notices,
      approved: r.approved,
      partly: r.partly,
      rejected: r.rejected,
      spam: r.spam,
      restored: r.restored,
      open: r.open,
    }),
  );
  const more = rows.length > ADMIN_PAGE_SIZE;
  return { rows: page, next: more ? Buffer.from(page[page.length - 1].email).toString('base64url') : null };
}

/** One submitter's accuracy figures. */
export async function accuracyOf(tx: EntityManager, email: string): Promise<Accuracy> {
  const [r] = await tx.query(`SELECT a.* FROM (SELECT $1::varchar AS email) s CROSS JOIN LATERAL (${ACCURACY_SQL}) a`, [email]);
  return withAccuracy(r) as Accuracy;
}

/** The detail page: the submitter, their figures, recent notices and the trust/misuse history. */
export async function submitterDetail(tx: EntityManager, id: string) {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
    throw AppError.notFound('Submitter', 'SUBMITTER.NOT_FOUND');
  const submitter = await tx.getRepository(Submitter).findOneBy({ id });
  if (!submitter) throw AppError.notFound('Submitter', 'SUBMITTER.NOT_FOUND');
  const [accuracy, notices, history, letters] = await Promise.all([
    accuracyOf(tx, submitter.email),
    tx.query(
      `SELECT reference, status, claim_type, source_type, submitted_at, decided_at FROM notices
        WHERE email = $1 ORDER BY submitted_at DESC, id DESC LIMIT 20`,
      [submitter.email],
    ),
    tx.query(
      `SELECT occurred_at, actor_label, action, details FROM audit_events
        WHERE subject_type = 'submitter' AND subject_id = $1 ORDER BY id DESC LIMIT 50`,
      [submitter.id],
    ),
    tx.query(
      `SELECT id, filename, size, sha256, uploaded_at FROM authorisation_letters WHERE submitter_id = $1 ORDER BY uploaded_at DESC, id DESC LIMIT 10`,
      [submitter.id],
    ),
  ]);
  return { submitter, accuracy, notices, history, letters };
}
