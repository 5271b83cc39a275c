import { Request, Response, Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError, FieldError } from '../../shared/errors';
import { errorsByField, noStore, requestContext, validateBody } from '../../shared/http';
import { countHeld } from '../items';
import { CLAIM_TYPES } from '../notices';
import { addNote } from './add-note';
import { assignNotice } from './assign-notice';
import { CANNED_REJECT_REASONS } from './canned-reasons';
import { claimNotice } from './claim-notice';
import { decide } from './decide';
import { listQueue, noticeDetail, QUEUE_STATUSES } from './queue.queries';
import { queueCountsCache } from './queue-counts-cache';
import { releaseNotice } from './release-notice';
import { DecisionAction, DecisionDto } from './review.dto';
import type { ReviewCmd } from './review-support';
import { requireRole, requireStaff } from '../../http/guards';
import { staffActorFrom } from '../../http/actor';

const FLAG_CODES = [
  'not_on_site',
  'already_removed',
  'duplicate',
  'source_mismatch',
  'backdated',
  'email_domain_unrelated',
  'sender_burst',
  'non_copyright',
];
const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : []);

function versionOf(body: Record<string, unknown> | undefined): number | undefined {
  const v = body?.version;
  return typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : undefined;
}

/** A review form's fields as the API's decision body: the question is the reason of `request_info`, a canned reason fills an empty one. */
function decisionFromForm(action: DecisionAction, body: Record<string, unknown> | undefined): Record<string, unknown> {
  const canned = CANNED_REJECT_REASONS.find((c) => c.id === body?.canned);
  const reason =
    action === 'request_info' ? String(body?.question ?? '') : (str(body?.reason) ?? (action === 'reject' ? canned?.text : undefined));
  const targets = action === 'approve' ? list(body?.targets) : [];
  return { action, reason, targets: targets.length ? targets : undefined, version: versionOf(body) };
}

/** Staff pages of the review queue (SPEC §6): the queue, a notice, its actions, bulk actions. */
export function reviewPages(deps: AppDeps, countsOf = queueCountsCache(deps)): Router {
  const r = Router();
  r.use(['/queue', '/notices'], noStore, requireStaff, requireRole('admin', 'moderator'));

  r.get('/queue', async (req, res) => {
    const q = req.query as Record<string, unknown>;
    const filter = {
      status: str(q.status),
      assignee: str(q.assignee),
      source: str(q.source),
      claimType: str(q.claimType),
      flag: str(q.flag),
      cursor: str(q.cursor),
    };
    const now = deps.clock.now();
    const [page, counts, staff, sources, held] = await Promise.all([
      listQueue(deps.db.manager, filter, req.user!.id, now),
      countsOf(),
      deps.db.query(`SELECT id, email, name FROM users WHERE active ORDER BY name, email`),
      deps.db.query(`SELECT id, name FROM sources ORDER BY name LIMIT 500`),
      countHeld(deps.db.manager),
    ]);
    const keep = new URLSearchParams(Object.entries(filter).filter(([k, v]) => v && k !== 'cursor') as [string, string][]);
    if (page.nextCursor) keep.set('cursor', page.nextCursor);
    res.render('review/queue', {
      title: 'Review queue',
      rows: page.rows,
      nextUrl: page.nextCursor ? `/queue?${keep.toString()}` : null,
      firstUrl: filter.cursor
        ? `/queue?${new URLSearchParams(Object.entries(filter).filter(([k, v]) => v && k !== 'cursor') as [string, string][]).toString()}`
        : null,
      counts,
      held,
      filter,
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
    });
  });

  r.post('/queue/bulk', async (req, res) => {
    const action = req.body?.action;
    const refs = [...new Set(list(req.body?.references))].slice(0, 200);
    const errors: FieldError[] = [];
    if (action !== 'spam' && action !== 'assign') errors.push({ field: 'action', message: 'Choose "mark as spam" or "assign".' });
    if (!refs.length) errors.push({ field: 'references', message: 'Tick at least one notice.' });
    if (action === 'assign' && !str(req.body?.assignee))
      errors.push({ field: 'assignee', message: 'Choose who to assign the notices to.' });
    if (errors.length) throw AppError.validation(errors, 'The bulk action needs an action and at least one notice.');
    const results = [];
    for (const reference of refs) {
      const cmd: ReviewCmd = { reference, actor: staffActorFrom(req), context: requestContext(req) };
      try {
        const n =
          action === 'spam'
            ? await decide(deps, { ...cmd, action: 'spam' })
            : await assignNotice(deps, { ...cmd, assigneeId: String(req.body.assignee) });
        results.push({
          reference: n.reference,
          ok: true,
          message: action === 'spam' ? 'marked as spam' : `assigned (${n.status.replace('_', ' ')})`,
        });
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 500) throw e;
        results.push({ reference, ok: false, message: e.message });
      }
    }
    res.render('review/bulk', {
      title: 'Bulk action',
      action,
      results,
      done: results.filter((x) => x.ok).length,
      failed: results.filter((x) => !x.ok).length,
    });
  });

  const renderNotice = async (req: Request, res: Response, status = 200, extra: Record<string, unknown> = {}) => {
    const d = await noticeDetail(deps.db.manager, String(req.params.reference));
    const me = req.user!;
    const holder = d.notice.assigneeId;
    const isHolder = !holder || holder === me.id;
    const can = (e: string) => d.allowed.includes(e as never);
    const staff = await deps.db.query(`SELECT id, email, name FROM users WHERE active ORDER BY name, email`);
    res.status(status).render('review/notice', {
      title: `Notice ${d.notice.reference}`,
      ...d,
      staff,
      mayDecide: can('approve') && (isHolder || me.role === 'admin'),
      overrideNeeded: can('approve') && !isHolder,
      canClaim: can('claim'),
      canRelease: can('release') && (isHolder || me.role === 'admin'),
      canSpam: can('spam') && (isHolder || me.role === 'admin'),
      pendingTargets: d.targets.filter((t) => t.item && t.outcome === 'pending'),
      cannedReasons: CANNED_REJECT_REASONS,
      needsInfoDays: deps.config.policy.needsInfoDays,
      ...extra,
    });
  };

  r.get('/notices/:reference', (req, res) => renderNotice(req, res));

  /** Runs an action; a 422 re-renders the notice page with the errors beside their fields. */
  const action = (name: string, run: (req: Request, cmd: ReviewCmd) => Promise<unknown>, done: string) =>
    r.post(`/notices/:reference/${name}`, async (req, res) => {
      const reference = String(req.params.reference).toUpperCase();
      const cmd: ReviewCmd = { reference, actor: staffActorFrom(req), version: versionOf(req.body), context: requestContext(req) };
      try {
        await run(req, cmd);
      } catch (e) {
        if (e instanceof AppError && e.status === 422) {
          return renderNotice(req, res, 422, {
            errors: errorsByField(e.details.errors ?? []),
            errorMessage: e.message,
            values: req.body,
            failedAction: name,
          });
        }
        throw e;
      }
      req.session.flash = { kind: 'ok', message: `${reference}: ${done}.` };
      res.redirect(303, `/notices/${reference}`);
    });

  action('claim', (_req, cmd) => claimNotice(deps, cmd), 'claimed; it is yours to decide');
  action('release', (_req, cmd) => releaseNotice(deps, cmd), 'released to the queue');
  // Decisions go through the API's DecisionDto and `decide`: the form's own fields are shaped into it first.
  const decision = (name: string, act: DecisionAction, done: string) =>
    action(name, async (req, cmd) => decide(deps, { ...cmd, ...(await validateBody(DecisionDto, decisionFromForm(act, req.body))) }), done);
  decision('approve', 'approve', 'approved; the content is removed and the parties are emailed');
  decision('reject', 'reject', 'rejected; the complainant is emailed');
  decision('request-info', 'request_info', 'question sent to the complainant');
  decision('spam', 'spam', 'closed as spam');
  action('note', (req, cmd) => addNote(deps, { ...cmd, version: undefined, text: String(req.body?.text ?? '') }), 'note added');

  return r;
}
