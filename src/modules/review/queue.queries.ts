import { EntityManager } from 'typeorm';
import { AppError } from '../../shared/errors';
import { allowedEvents, findByReference, Notice, NoticeStatus, OPEN_STATUSES, targetsOf } from '../notices';

/** The queue is the notices waiting for a moderator: the open statuses of the state machine. */
export const QUEUE_STATUSES = OPEN_STATUSES;
export const PAGE_SIZE = 50;

export interface QueueFilter {
  status?: string;
  /** 'mine', 'unassigned' or a user id. */
  assignee?: string;
  source?: string;
  claimType?: string;
  flag?: string;
  cursor?: string;
}

export interface QueueRow {
  reference: string;
  status: NoticeStatus;
  complainant: string;
  claimType: string;
  flags: { code: string; reason: string }[];
  matched: number;
  notFound: number;
  dueAt: Date | null;
  overdue: boolean;
  dueIn: string;
  submittedAt: Date;
  assignee: string | null;
  assigneeId: string | null;
  version: number;
  /** From a trusted flagger (DSA Art. 22): leads the queue. */
  trustedFlagger: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** "due in 3 h", "overdue by 2 d 4 h". */
export function dueText(dueAt: Date | null, now: Date): string {
  if (!dueAt) return '—';
  const ms = dueAt.getTime() - now.getTime();
  const abs = Math.abs(ms);
  const d = Math.floor(abs / 86_400_000);
  const h = Math.floor((abs % 86_400_000) / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const span = d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min`;
  return ms < 0 ? `overdue by ${span}` : `due in ${span}`;
}

type QueueKey = [number, string, string, string];
const encodeCursor = (k: QueueKey) => Buffer.from(JSON.stringify(k)).toString('base64url');
function decodeCursor(c: string): QueueKey {
  try {
    const k = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (
      Array.isArray(k) &&
      k.length === 4 &&
      Number.isInteger(k[0]) &&
      k.slice(1).every((x) => typeof x === 'string') &&
      UUID.test(k[3]) &&
      k.slice(1, 3).every((x: string) => !Number.isNaN(Date.parse(x)))
    )
      return k as QueueKey;
  } catch {
    /* fall through */
  }
  throw AppError.badRequest('The page cursor is not valid; start from the first page.', [
    { field: 'cursor', message: 'Not a cursor from this queue.' },
  ]);
}

/**
 * One keyset page of the queue: trusted flaggers' notices first (`queue_rank` 0, DSA Art. 22),
 * then by due time (so overdue notices lead), then age, then id. No OFFSET: the next page starts
 * after the last row's (queue_rank, due_at, submitted_at, id), which the `notices_open_queue_idx` /
 * `notices_queue_idx` indexes read in order.
 */
export async function listQueue(
  tx: EntityManager,
  f: QueueFilter,
  me: string,
  now: Date,
): Promise<{ rows: QueueRow[]; nextCursor: string | null }> {
  const statuses = f.status ? [f.status] : [...QUEUE_STATUSES];
  if (!statuses.every((s) => (QUEUE_STATUSES as readonly string[]).includes(s))) {
    throw AppError.validation([{ field: 'status', message: `Status must be one of ${QUEUE_STATUSES.join(', ')}.` }]);
  }
  const where = [`n.status IN (${statuses.map((s) => `'${s}'`).join(', ')})`];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (f.assignee === 'mine') where.push(`n.assignee_id = ${p(me)}`);
  else if (f.assignee === 'unassigned') where.push('n.assignee_id IS NULL');
  else if (f.assignee) {
    if (!UUID.test(f.assignee))
      throw AppError.validation([{ field: 'assignee', message: 'Assignee must be "mine", "unassigned" or a staff member.' }]);
    where.push(`n.assignee_id = ${p(f.assignee)}`);
  }
  if (f.source) {
    if (!UUID.test(f.source)) throw AppError.validation([{ field: 'source', message: 'Not a source id.' }]);
    where.push(
      `EXISTS (SELECT 1 FROM notice_targets t JOIN items i ON i.id = t.item_id WHERE t.notice_id = n.id AND i.source_id = ${p(f.source)})`,
    );
  }
  if (f.claimType) where.push(`n.claim_type = ${p(f.claimType)}`);
  if (f.flag) where.push(`n.flags @> jsonb_build_array(jsonb_build_object('code', ${p(f.flag)}::text))`);
  if (f.cursor) {
    const [rank, due, sub, id] = decodeCursor(f.cursor);
    where.push(
      `(n.queue_rank, n.due_at, n.submitted_at, n.id) > (${p(rank)}::smallint, ${p(due)}::timestamptz, ${p(sub)}::timestamptz, ${p(id)}::uuid)`,
    );
  }
  const rows: Record<string, any>[] = await tx.query(
    `SELECT n.reference, n.status, n.organization, n.name, n.claim_type, n.flags, n.due_at, n.submitted_at, n.version, n.assignee_id,
            n.queue_rank, n.source_type,
            n.due_at::text AS due_key, n.submitted_at::text AS sub_key, n.id,
            u.email AS assignee_email, c.matched, c.total
       FROM (SELECT * FROM notices n WHERE ${where.join(' AND ')} ORDER BY n.queue_rank, n.due_at, n.submitted_at, n.id LIMIT ${PAGE_SIZE + 1}) n
       LEFT JOIN users u ON u.id = n.assignee_id
       LEFT JOIN LATERAL (SELECT count(item_id)::int AS matched, count(*)::int AS total FROM notice_targets t WHERE t.notice_id = n.id) c ON true
      ORDER BY n.queue_rank, n.due_at, n.submitted_at, n.id`,
    params,
  );
  const more = rows.length > PAGE_SIZE;
  const page = rows.slice(0, PAGE_SIZE);
  const last = page[page.length - 1];
  return {
    rows: page.map((r) => ({
      reference: r.reference,
      status: r.status,
      complainant: r.organization || r.name,
      claimType: r.claim_type,
      flags: r.flags ?? [],
      matched: r.matched,
      notFound: r.total - r.matched,
      dueAt: r.due_at,
      overdue: r.status !== 'needs_info' && !!r.due_at && r.due_at.getTime() < now.getTime(),
      dueIn: r.status === 'needs_info' ? `answer ${dueText(r.due_at, now).replace('overdue by', 'late by')}` : dueText(r.due_at, now),
      submittedAt: r.submitted_at,
      assignee: r.assignee_email ?? null,
      assigneeId: r.assignee_id,
      version: r.version,
      trustedFlagger: r.source_type === 'trusted_flagger',
    })),
    nextCursor: more && last ? encodeCursor([last.queue_rank, last.due_key, last.sub_key, last.id]) : null,
  };
}

/** Notices per queue status and how many are past their SLA (pending and in review only). */
export async function queueCounts(
  tx: EntityManager,
  now: Date,
): Promise<{ byStatus: Record<string, number>; overdue: number; total: number }> {
  const rows: { status: string; n: number; overdue: number }[] = await tx.query(
    `SELECT status, count(*)::int AS n, (count(*) FILTER (WHERE due_at < $1 AND status <> 'needs_info'))::int AS overdue
       FROM notices WHERE status = ANY($2) GROUP BY status`,
    [now, QUEUE_STATUSES],
  );
  const byStatus: Record<string, number> = Object.fromEntries(QUEUE_STATUSES.map((s) => [s, 0]));
  let overdue = 0;
  for (const r of rows) {
    byStatus[r.status] = r.n;
    overdue += r.overdue;
  }
  return { byStatus, overdue, total: Object.values(byStatus).reduce((a, b) => a + b, 0) };
}

/** Everything the notice page shows: the claim beside the registry, flags, timeline, emails, notes. */
export async function noticeDetail(tx: EntityManager, reference: string) {
  const notice = await findByReference(tx, reference);
  if (!notice) throw AppError.notFound('Notice', 'NOTICE.NOT_FOUND');
  const targets = await targetsOf(tx, notice.id);
  const itemIds = targets.map((t) => t.itemId).filter((x): x is string => !!x);
  const items: Record<string, any>[] = itemIds.length
    ? await tx.query(
        `SELECT i.id, i.slug, i.title, i.status, i.original_url, i.first_fetched_at, i.source_published_at, i.rights, i.feed_url,
                s.id AS source_id, s.name AS source_name, s.domains AS source_domains, s.status AS source_status, s.strike_count, s.contact_email
           FROM items i JOIN sources s ON s.id = i.source_id WHERE i.id = ANY($1::uuid[])`,
        [itemIds],
      )
    : [];
  const byId = new Map(items.map((i) => [i.id, i]));
  const audit: { occurred_at: Date; actor_label: string; action: string; details: Record<string, unknown> }[] = await tx.query(
    `SELECT occurred_at, actor_label, action, details FROM audit_events WHERE subject_type = 'notice' AND subject_id = $1 ORDER BY id`,
    [notice.reference],
  );
  const emails: { id: string; created_at: Date; to: string; template: string; status: string; sent_at: Date | null }[] = await tx.query(
    `SELECT id, created_at, "to", template, status, sent_at FROM outbound_emails WHERE notice_id = $1 ORDER BY created_at, id`,
    [notice.id],
  );
  const timeline = [
    ...audit.map((a) => ({ at: a.occurred_at, kind: 'event', text: a.action, by: a.actor_label, details: summarise(a.details) })),
    ...emails.map((e) => ({
      at: e.created_at,
      kind: 'email',
      text: `email ${e.template} to ${e.to}`,
      by: e.status + (e.sent_at ? ' ' : ''),
      details: '',
      emailId: e.id,
    })),
  ].sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
  const [assignee] = notice.assigneeId ? await tx.query(`SELECT email, name FROM users WHERE id = $1`, [notice.assigneeId]) : [];
  return {
    notice,
    assignee: assignee ?? null,
    targets: targets.map((t) => ({ ...t, item: t.itemId ? (byId.get(t.itemId) ?? null) : null })),
    timeline,
    allowed: allowedEvents(notice.status),
  };
}

function summarise(d: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const k of ['reason', 'question', 'answer', 'text', 'override', 'assignedBy'])
    if (d?.[k] !== undefined) parts.push(`${k}: ${String(d[k])}`);
  const after = d?.after as Record<string, unknown> | undefined;
  if (after?.status) parts.unshift(`→ ${String(after.status)}`);
  return parts.join(' · ');
}

export type NoticeDetail = Awaited<ReturnType<typeof noticeDetail>>;
export type { Notice };
