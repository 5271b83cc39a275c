import { EntityManager } from 'typeorm';
import { AppError, FieldError } from '../../shared/errors';

/** What an admin may filter the audit history by (page, API and exports alike). */
export interface AuditFilter {
  /** A user id, a user's email (the label at the time), or `system` / `public`. */
  actor?: string;
  /** An exact action (`notice.approved`) or a prefix (`notice.*`). */
  action?: string;
  /** The resolved subject: a notice reference, an item/source/user id, or a user's email. */
  subject?: { types: string[]; id: string; given: string };
  /** occurred_at >= from */
  from?: Date;
  /** occurred_at < to (a bare date means the whole of that day) */
  to?: Date;
  /** Free text anywhere in the details (case-insensitive). */
  q?: string;
}

export interface AuditPageQuery extends AuditFilter {
  /** Keyset: events with an id below this one (newest first). */
  after?: string;
  limit: number;
}

const KNOWN = ['actor', 'action', 'subject', 'from', 'to', 'q', 'after', 'limit'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const REFERENCE = /^TD-\d{6,}$/i;
const ACTION = /^[a-z][a-z_]*(\.[a-z_]+)*(\.\*)?$/;
const SUBJECT_TYPES = ['notice', 'item', 'source', 'user', 'email', 'token', 'counter_notice'];

/** A day (`2026-03-01`) or an instant (`2026-03-01T10:00:00Z`); anything else is refused. */
export function parseDate(v: string, endOfDay: boolean): Date | null {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (day) {
    const d = new Date(Date.UTC(+day[1], +day[2] - 1, +day[3]));
    if (d.getUTCFullYear() !== +day[1] || d.getUTCMonth() !== +day[2] - 1 || d.getUTCDate() !== +day[3]) return null;
    return endOfDay ? new Date(d.getTime() + 86_400_000) : d;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/.test(v)) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

function one(query: Record<string, unknown>, key: string, errors: FieldError[]): string | undefined {
  const v = query[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    errors.push({ field: key, message: `${key} must be given once, as text.` });
    return undefined;
  }
  const t = v.trim();
  return t === '' ? undefined : t;
}

/**
 * Reads the filter from a query string. Every malformed value is a 400 naming its field; unknown
 * parameters are refused too, so a typo never silently widens an export. `extra` lists parameters
 * the caller handles itself (e.g. `full` on exports).
 */
export async function parseAuditQuery(tx: EntityManager, query: Record<string, unknown>, extra: string[] = []): Promise<AuditPageQuery> {
  const errors: FieldError[] = [];
  for (const key of Object.keys(query)) {
    if (!(KNOWN as readonly string[]).includes(key) && !extra.includes(key))
      errors.push({ field: key, message: `${key} is not a filter of the audit history.` });
  }
  const out: AuditPageQuery = { limit: 50 };

  const actor = one(query, 'actor', errors);
  if (actor !== undefined) {
    if (actor.length > 320 || !(UUID.test(actor) || EMAIL.test(actor) || actor === 'system' || actor === 'public')) {
      errors.push({ field: 'actor', message: 'actor must be a user id, an email address, "system" or "public".' });
    } else out.actor = actor;
  }

  const action = one(query, 'action', errors);
  if (action !== undefined) {
    if (action.length > 80 || !ACTION.test(action))
      errors.push({ field: 'action', message: 'action must look like "notice.approved" or "notice.*".' });
    else out.action = action;
  }

  const subject = one(query, 'subject', errors);
  if (subject !== undefined) {
    const resolved = await resolveSubject(tx, subject);
    if (!resolved)
      errors.push({
        field: 'subject',
        message: 'subject must be a notice reference (TD-000123), an item, source or user id, a user email, or type:id.',
      });
    else out.subject = resolved;
  }

  const from = one(query, 'from', errors);
  if (from !== undefined) {
    const d = parseDate(from, false);
    if (!d) errors.push({ field: 'from', message: 'from must be a date (YYYY-MM-DD) or an ISO 8601 time with a zone.' });
    else out.from = d;
  }
  const to = one(query, 'to', errors);
  if (to !== undefined) {
    const d = parseDate(to, true);
    if (!d) errors.push({ field: 'to', message: 'to must be a date (YYYY-MM-DD) or an ISO 8601 time with a zone.' });
    else out.to = d;
  }
  if (out.from && out.to && out.from >= out.to) errors.push({ field: 'to', message: 'to must be after from.' });

  const q = one(query, 'q', errors);
  if (q !== undefined) {
    if (q.length > 200) errors.push({ field: 'q', message: 'q must be at most 200 characters.' });
    else out.q = q;
  }

  const after = one(query, 'after', errors);
  if (after !== undefined) {
    if (!/^[1-9]\d{0,18}$/.test(after))
      errors.push({ field: 'after', message: 'after must be the id of an event (a cursor from a previous page).' });
    else out.after = after;
  }

  const limit = one(query, 'limit', errors);
  if (limit !== undefined) {
    if (!/^\d{1,3}$/.test(limit) || +limit < 1 || +limit > 500)
      errors.push({ field: 'limit', message: 'limit must be a whole number from 1 to 500.' });
    else out.limit = +limit;
  }

  if (errors.length) throw AppError.badRequest('The audit filter is not valid.', errors);
  return out;
}

/** A notice reference, an id of an item/source/user, a staff email, or an explicit `type:id`. */
async function resolveSubject(tx: EntityManager, given: string): Promise<AuditFilter['subject'] | null> {
  if (given.length > 320) return null;
  const typed = /^([a-z_]+):(.+)$/.exec(given);
  if (typed && SUBJECT_TYPES.includes(typed[1])) return { types: [typed[1]], id: typed[2], given };
  if (REFERENCE.test(given)) return { types: ['notice'], id: given.toUpperCase(), given };
  if (UUID.test(given)) {
    const id = given.toLowerCase();
    const [row] = await tx.query(
      `SELECT CASE WHEN EXISTS (SELECT 1 FROM items WHERE id = $1) THEN 'item'
                   WHEN EXISTS (SELECT 1 FROM sources WHERE id = $1) THEN 'source'
                   WHEN EXISTS (SELECT 1 FROM users WHERE id = $1) THEN 'user' END AS type`,
      [id],
    );
    return { types: row?.type ? [row.type] : SUBJECT_TYPES, id, given };
  }
  if (EMAIL.test(given)) {
    const [user] = await tx.query('SELECT id FROM users WHERE lower(email) = lower($1)', [given]);
    // A user that no longer exists still has a history: nothing matches, which is the truth.
    return { types: ['user'], id: user?.id ?? given.toLowerCase(), given };
  }
  return null;
}

/** The WHERE clause of a filter, with its parameters (numbered from `start`). */
export function filterSql(f: AuditFilter, start = 1): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${start + params.length - 1}`;
  };
  if (f.actor) {
    if (f.actor === 'system' || f.actor === 'public') clauses.push(`actor_type = ${p(f.actor)}`);
    else if (UUID.test(f.actor)) clauses.push(`actor_id = ${p(f.actor.toLowerCase())}`);
    else clauses.push(`lower(actor_label) = lower(${p(f.actor)})`);
  }
  if (f.action) {
    if (f.action.endsWith('.*')) clauses.push(`action LIKE ${p(`${f.action.slice(0, -1).replace(/_/g, '\\_')}%`)}`);
    else clauses.push(`action = ${p(f.action)}`);
  }
  if (f.subject) {
    clauses.push(
      f.subject.types.length === 1
        ? `subject_type = ${p(f.subject.types[0])} AND subject_id = ${p(f.subject.id)}`
        : `subject_type = ANY(${p(f.subject.types)}) AND subject_id = ${p(f.subject.id)}`,
    );
  }
  if (f.from) clauses.push(`occurred_at >= ${p(f.from)}`);
  if (f.to) clauses.push(`occurred_at < ${p(f.to)}`);
  if (f.q) clauses.push(`details::text ILIKE ${p(`%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
  return { where: clauses.length ? clauses.join(' AND ') : 'TRUE', params };
}

export interface AuditRow {
  id: string;
  sequence: string | null;
  occurredAt: Date;
  actorType: string;
  actorId: string | null;
  actorLabel: string;
  action: string;
  subjectType: string | null;
  subjectId: string | null;
  details: Record<string, unknown>;
  ip: string | null;
  requestId: string | null;
  hash: string | null;
}

/** One page of the history, newest first, by keyset on id. `next` is the cursor of the following page. */
export async function searchAudit(tx: EntityManager, q: AuditPageQuery): Promise<{ events: AuditRow[]; next: string | null }> {
  const { where, params } = filterSql(q);
  const cursor = q.after ? ` AND id < $${params.length + 1}` : '';
  if (q.after) params.push(q.after);
  const rows: Record<string, unknown>[] = await tx.query(
    `SELECT id::text, sequence::text, occurred_at, actor_type, actor_id, actor_label, action, subject_type, subject_id, details, ip, request_id, hash
       FROM audit_events WHERE ${where}${cursor} ORDER BY audit_events.id DESC LIMIT ${q.limit + 1}`,
    params,
  );
  const events = rows.slice(0, q.limit).map((r) => ({
    id: r.id as string,
    sequence: r.sequence as string | null,
    occurredAt: r.occurred_at as Date,
    actorType: r.actor_type as string,
    actorId: r.actor_id as string | null,
    actorLabel: r.actor_label as string,
    action: r.action as string,
    subjectType: r.subject_type as string | null,
    subjectId: r.subject_id as string | null,
    details: r.details as Record<string, unknown>,
    ip: r.ip as string | null,
    requestId: r.request_id as string | null,
    hash: r.hash as string | null,
  }));
  return { events, next: rows.length > q.limit ? events[events.length - 1].id : null };
}

/** Where a staff member sees an event's subject, or null when it has no page. */
export function subjectLink(type: string | null, id: string | null): string | null {
  if (!type || !id) return null;
  switch (type) {
    case 'notice':
      return `/notices/${encodeURIComponent(id)}`;
    case 'item':
      return `/items/${encodeURIComponent(id)}/admin`;
    case 'source':
      return '/sources';
    case 'user':
    case 'token':
      return '/users';
    case 'email':
      return `/outbox/${encodeURIComponent(id)}`;
    default:
      return null;
  }
}

/** The newest events of one subject, for the history panel of a notice, item or user page. */
export async function historyOf(tx: EntityManager, subject: { type: string; id: string }, limit = 100): Promise<AuditRow[]> {
  const { events } = await searchAudit(tx, { subject: { types: [subject.type], id: subject.id, given: subject.id }, limit });
  return events;
}
