import { Request, Response, Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { errorsByField, noStore, requestContext, validateBody } from '../../shared/http';
import { addNote } from './add-note';
import { CANNED_REJECT_REASONS } from './canned-reasons';
import { claimNotice } from './claim-notice';
import { decide } from './decide';
import { listQueue, noticeDetail, type QueueFilter, type QueueRow } from './queue.queries';
import { filterFrom, filterQuery, isEmptyFilter, renderQueue } from './queue-page';
import { defaultViewOf, findSavedView } from './saved-views';
import { queueCountsCache } from './queue-counts-cache';
import { releaseNotice } from './release-notice';
import { DecisionAction, DecisionDto } from './review.dto';
import type { ReviewCmd } from './review-support';
import { requireRole, requireStaff } from '../../http/guards';
import { staffActorFrom } from '../../http/actor';

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
    const me = req.user!.id;
    let filter: QueueFilter = filterFrom(q);
    let view = null;
    if (str(q.view)) {
      // A shared view's link: its filter, unless the address gives one (then the view is only named).
      view = await findSavedView(deps.db, String(q.view));
      if (!view) throw AppError.notFound('Saved view', 'VIEW.NOT_FOUND');
      if (isEmptyFilter(filter)) filter = view.filter;
    } else if (isEmptyFilter(filter) && !q.all && !q.cursor) {
      view = await defaultViewOf(deps.db, me);
      if (view) filter = view.filter;
    }
    const currentView = view && { ...view, mine: view.userId === me };
    await renderQueue(deps, req, res, { ...filter, cursor: str(q.cursor) }, await countsOf(), 200, { currentView });
  });

  const renderNotice = async (req: Request, res: Response, status = 200, extra: Record<string, unknown> = {}) => {
    const d = await noticeDetail(deps.db.manager, String(req.params.reference));
    const from = fromOf(req.query.from ?? req.body?.from);
    const around = await neighbours(d.notice.reference, from, req.user!.id);
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
      from: filterQuery(from),
      queueHref: `/queue${isEmptyFilter(from) ? '' : `?${filterQuery(from)}`}`,
      ...around,
      ...extra,
    });
  };

  r.get('/notices/:reference', (req, res) => renderNotice(req, res));

  /** The queue page a notice was opened from (`from`: its filter as a query string), for "next" and the shortcuts. */
  function fromOf(v: unknown): QueueFilter {
    return typeof v === 'string' && v.length < 500 ? filterFrom(Object.fromEntries(new URLSearchParams(v))) : {};
  }
  const noticeHref = (reference: string, from: QueueFilter) =>
    `/notices/${reference}${isEmptyFilter(from) ? '' : `?from=${encodeURIComponent(filterQuery(from))}`}`;

  /** The notices before and after this one on the first page of its queue (the `j` / `k` shortcuts). */
  async function neighbours(reference: string, from: QueueFilter, me: string) {
    const { rows } = await listQueue(deps.db.manager, from, me, deps.clock.now()).catch(() => ({ rows: [] as { reference: string }[] }));
    const i = rows.findIndex((r) => r.reference === reference);
    const next = i < 0 ? rows[0] : rows[i + 1];
    const prev = i > 0 ? rows[i - 1] : undefined;
    return {
      nextHref: next && next.reference !== reference ? noticeHref(next.reference, from) : null,
      prevHref: prev ? noticeHref(prev.reference, from) : null,
    };
  }

  /** "Decide and next": the first notice of the same filter after a decision, skipping this one and those others hold. */
  async function nextAfter(reference: string, from: QueueFilter, me: string): Promise<string | null> {
    // The decision is made: a `from` the queue would refuse (edited by hand) only means there is no next.
    const { rows } = await listQueue(deps.db.manager, from, me, deps.clock.now()).catch(() => ({ rows: [] as QueueRow[] }));
    const next = rows.find((r) => r.reference !== reference && !(r.status === 'in_review' && r.assigneeId && r.assigneeId !== me));
    return next?.reference ?? null;
  }

  /** Runs an action; a 422 re-renders the notice page with the errors beside their fields. */
  const action = (name: string, run: (req: Request, cmd: ReviewCmd) => Promise<unknown>, done: string, andNext = false) =>
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
      const from = fromOf(req.body?.from);
      if (andNext && req.body?.next === '1') {
        const next = await nextAfter(reference, from, req.user!.id);
        req.session.flash = { kind: 'ok', message: `${reference}: ${done}. ${next ? `Next: ${next}.` : 'Nothing left in this view.'}` };
        return res.redirect(303, next ? noticeHref(next, from) : `/queue${isEmptyFilter(from) ? '' : `?${filterQuery(from)}`}`);
      }
      req.session.flash = { kind: 'ok', message: `${reference}: ${done}.` };
      res.redirect(303, noticeHref(reference, from));
    });

  action('claim', (_req, cmd) => claimNotice(deps, cmd), 'claimed; it is yours to decide');
  action('release', (_req, cmd) => releaseNotice(deps, cmd), 'released to the queue');
  // Decisions go through the API's DecisionDto and `decide`: the form's own fields are shaped into it first.
  const decision = (name: string, act: DecisionAction, done: string) =>
    action(
      name,
      async (req, cmd) => decide(deps, { ...cmd, ...(await validateBody(DecisionDto, decisionFromForm(act, req.body))) }),
      done,
      true,
    );
  decision('approve', 'approve', 'approved; the content is removed and the parties are emailed');
  decision('reject', 'reject', 'rejected; the complainant is emailed');
  decision('request-info', 'request_info', 'question sent to the complainant');
  decision('spam', 'spam', 'closed as spam');
  action('note', (req, cmd) => addNote(deps, { ...cmd, version: undefined, text: String(req.body?.text ?? '') }), 'note added');

  return r;
}
