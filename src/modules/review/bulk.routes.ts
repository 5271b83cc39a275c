import { Request, Response, Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { errorsByField, noStore, requestContext, validateBody } from '../../shared/http';
import { requireRole, requireStaff } from '../../http/guards';
import { staffActorFrom } from '../../http/actor';
import { BULK_INLINE_MAX, BulkDto } from './bulk.dto';
import { bulkJobView } from './bulk.queries';
import { CANNED_REJECT_REASONS } from './canned-reasons';
import { filterFrom, filterQuery, renderQueue } from './queue-page';
import { queueCountsCache } from './queue-counts-cache';
import { processBulkJobs } from './run-bulk-jobs';
import { deleteView, saveView, setDefaultView } from './saved-views';
import { createBulkJob, planBulk, type BulkPlan } from './start-bulk';

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : []);
const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

const DONE: Record<string, string> = {
  claim: 'claimed',
  release: 'released',
  assign: 'assigned',
  reject: 'rejected',
  spam: 'marked as spam',
  approve: 'approved',
};

/** The bulk form's fields as the API's body: the ticked notices, or (`scope=filter`) the queue's filter. */
function bulkBody(body: Record<string, unknown>): Record<string, unknown> {
  const byFilter = body.scope === 'filter';
  return {
    action: body.action,
    ...(byFilter ? { filter: filterFrom(body, 'filter_') } : { references: list(body.references) }),
    reason: str(body.reason),
    canned: str(body.canned),
    assignee: str(body.assignee),
  };
}

/**
 * Bulk decisions from the queue (SPEC §15): the form sends the ticked notices or "all N matching
 * this filter" (the filter itself); a confirmation shows the count and a preview; the confirmed
 * set becomes a job, run at once up to BULK_INLINE_MAX notices and by the bulk-jobs worker above
 * that, with a progress page. Saved views: named filters per moderator, shareable by their link.
 */
export function bulkPages(deps: AppDeps, countsOf = queueCountsCache(deps)): Router {
  const r = Router();
  r.use('/queue', noStore, requireStaff, requireRole('admin', 'moderator'));

  const confirmPage = (res: Response, body: Record<string, unknown>, plan: BulkPlan | null, status = 200, extra = {}) =>
    res.status(status).render('review/bulk-confirm', {
      title: 'Confirm the bulk action',
      plan,
      action: body.action,
      done: DONE[String(body.action)],
      byFilter: body.scope === 'filter',
      references: list(body.references),
      filterFields: Object.entries(filterFrom(body, 'filter_')).map(([name, value]) => ({ name, value })),
      more: plan ? plan.references.length - plan.preview.length : 0,
      inline: plan ? plan.references.length <= BULK_INLINE_MAX : true,
      cannedReasons: CANNED_REJECT_REASONS.map((c) => ({ ...c, checked: c.id === body.canned })),
      values: body,
      ...extra,
    });

  r.post('/queue/bulk', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const actor = staffActorFrom(req);
    const confirmed = body.confirm === 'yes';
    let plan: BulkPlan;
    try {
      plan = await planBulk(deps, actor, await validateBody(BulkDto, bulkBody(body)), { requireReason: confirmed });
    } catch (e) {
      if (!(e instanceof AppError) || e.status !== 422) throw e;
      const errors = errorsByField(e.details.errors ?? []);
      // Only the reason (reject) is asked on the confirmation; anything else goes back to the queue's form.
      if (confirmed && Object.keys(errors).every((k) => k === 'reason')) {
        const again = await planBulk(deps, actor, await validateBody(BulkDto, bulkBody(body)), { requireReason: false });
        return confirmPage(res, body, again, 422, { errors, errorMessage: e.message });
      }
      const filter = filterFrom(body, 'filter_');
      return renderQueue(deps, req, res, filter, await countsOf(), 422, {
        bulkErrors: errors,
        bulkMessage: e.message,
        bulkAction: body.action,
      });
    }
    if (!confirmed) return confirmPage(res, body, plan);
    const job = await createBulkJob(deps, actor, plan, requestContext(req));
    if (job.total <= BULK_INLINE_MAX) await processBulkJobs(deps, { jobId: job.id });
    res.redirect(303, `/queue/jobs/${job.id}`);
  });

  r.get('/queue/jobs/:id', async (req, res) => {
    const job = await bulkJobView(deps.db, String(req.params.id));
    const running = job.status === 'queued' || job.status === 'running';
    // Without JavaScript the page reloads itself while the job runs.
    if (running) res.setHeader('Refresh', '2');
    res.render('review/bulk', {
      title: `Bulk action: ${job.action}`,
      job,
      running,
      doneVerb: DONE[job.action],
      lost: job.results.filter((x) => x.by),
      queueHref: `/queue${job.filter && Object.keys(job.filter).length ? `?${filterQuery(job.filter)}` : ''}`,
    });
  });

  r.post('/queue/views', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const filter = filterFrom(body, 'filter_');
    try {
      const view = await saveView(deps, {
        actor: staffActorFrom(req),
        name: String(body.name ?? ''),
        filter,
        makeDefault: body.default === 'yes',
        context: requestContext(req),
      });
      req.session.flash = {
        kind: 'ok',
        message: `View "${view.name}" saved${view.isDefault ? ' as your default' : ''}. Share it by its link.`,
      };
      res.redirect(303, `/queue?view=${view.id}`);
    } catch (e) {
      if (!(e instanceof AppError) || e.status !== 422) throw e;
      return renderQueue(deps, req, res, filter, await countsOf(), 422, {
        viewErrors: errorsByField(e.details.errors ?? []),
        viewName: body.name,
      });
    }
  });

  const viewAction = (path: string, run: (req: Request) => Promise<unknown>, done: string) =>
    r.post(`/queue/views/:id/${path}`, async (req, res) => {
      await run(req);
      req.session.flash = { kind: 'ok', message: done };
      res.redirect(303, '/queue?all=1');
    });
  viewAction(
    'delete',
    (req) => deleteView(deps, { actor: staffActorFrom(req), id: String(req.params.id), context: requestContext(req) }),
    'View deleted.',
  );
  viewAction(
    'default',
    (req) =>
      setDefaultView(deps, {
        actor: staffActorFrom(req),
        id: req.body?.clear === 'yes' ? null : String(req.params.id),
        context: requestContext(req),
      }),
    'Default view changed.',
  );

  return r;
}
