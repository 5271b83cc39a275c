import type { Request, Response } from 'express';
import type { AppDeps } from '../../deps';
import { countHeld } from '../items';
import { CLAIM_TYPES } from '../notices';
import { BULK_INLINE_MAX } from './bulk.dto';
import { BULK_ACTIONS } from './bulk-job.entity';
import { countMatching, listQueue, QUEUE_STATUSES, type QueueFilter } from './queue.queries';
import { savedViewsOf } from './saved-views';

export const FLAG_CODES = [
  'not_on_site',
  'already_removed',
  'duplicate',
  'source_mismatch',
  'backdated',
  'email_domain_unrelated',
  'sender_burst',
  'non_copyright',
];
export const FILTER_FIELDS = ['status', 'assignee', 'source', 'claimType', 'flag'] as const;

const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** The queue filter from a query string (or a form's `filter_<name>` fields with `prefix`). */
export function filterFrom(q: Record<string, unknown>, prefix = ''): QueueFilter {
  const f: QueueFilter = {};
  for (const k of FILTER_FIELDS) {
    const v = str(q[prefix + k]);
    if (v) f[k] = v;
  }
  return f;
}

/** The filter as a query string (no cursor): the shareable address of a view, and the notice page's `from`. */
export const filterQuery = (f: QueueFilter) =>
  new URLSearchParams(FILTER_FIELDS.filter((k) => f[k]).map((k) => [k, f[k]!] as [string, string])).toString();

export const isEmptyFilter = (f: QueueFilter) => FILTER_FIELDS.every((k) => !f[k]);

/** Renders `/queue` for a filter (and `extra`: a saved view's name, a bulk form's errors). */
export async function renderQueue(
  deps: AppDeps,
  req: Request,
  res: Response,
  filter: QueueFilter & { cursor?: string },
  counts: { byStatus: Record<string, number>; overdue: number; total: number },
  status = 200,
  extra: Record<string, unknown> = {},
) {
  const me = req.user!.id;
  const now = deps.clock.now();
  const empty = isEmptyFilter(filter);
  const [page, staff, sources, held, matching, views] = await Promise.all([
    listQueue(deps.db.manager, filter, me, now),
    deps.db.query(`SELECT id, email, name FROM users WHERE active ORDER BY name, email`),
    deps.db.query(`SELECT id, name FROM sources ORDER BY name LIMIT 500`),
    countHeld(deps.db.manager),
    empty ? Promise.resolve(counts.total) : countMatching(deps.db.manager, filter, me),
    savedViewsOf(deps.db, me),
  ]);
  const query = filterQuery(filter);
  const keep = new URLSearchParams(query);
  if (page.nextCursor) keep.set('cursor', page.nextCursor);
  res.status(status).render('review/queue', {
    title: 'Review queue',
    rows: page.rows.map((r) => ({ ...r, href: `/notices/${r.reference}${query ? `?from=${encodeURIComponent(query)}` : ''}` })),
    nextUrl: page.nextCursor ? `/queue?${keep.toString()}` : null,
    firstUrl: filter.cursor ? `/queue${query ? `?${query}` : ''}` : null,
    counts,
    held,
    filter,
    filterFields: FILTER_FIELDS.filter((k) => filter[k]).map((k) => ({ name: k, value: filter[k] })),
    shareUrl: `/queue${query ? `?${query}` : '?all=1'}`,
    filterQuery: query,
    matching,
    inlineMax: BULK_INLINE_MAX,
    bulkActions: BULK_ACTIONS.map((a) => ({
      value: a,
      label: a === 'approve' ? 'approve (only if every URL matched)' : a,
      selected: a === extra.bulkAction,
    })),
    views,
    statuses: QUEUE_STATUSES.map((s) => ({
      value: s,
      label: s.replace('_', ' '),
      count: counts.byStatus[s],
      selected: filter.status === s,
    })),
    assignees: [
      { value: 'mine', label: 'mine', selected: filter.assignee === 'mine' },
      { value: 'unassigned', label: 'unassigned', selected: filter.assignee === 'unassigned' },
      ...staff.map((u: { id: string; email: string; name: string }) => ({
        value: u.id,
        label: `${u.name} (${u.email})`,
        selected: filter.assignee === u.id,
      })),
    ],
    staff,
    sources: sources.map((s: { id: string; name: string }) => ({ ...s, selected: filter.source === s.id })),
    claimTypes: CLAIM_TYPES.map((c) => ({ value: c, selected: filter.claimType === c })),
    flags: FLAG_CODES.map((c) => ({ value: c, label: c.replace(/_/g, ' '), selected: filter.flag === c })),
    ...extra,
  });
}
