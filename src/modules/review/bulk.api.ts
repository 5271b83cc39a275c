import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { requestContext, validateBody } from '../../shared/http';
import { requireBearer, requireRole } from '../../http/guards';
import { staffActorFrom } from '../../http/actor';
import { BULK_INLINE_MAX, BulkDto } from './bulk.dto';
import { bulkJobView } from './bulk.queries';
import { processBulkJobs } from './run-bulk-jobs';
import { createBulkJob, planBulk } from './start-bulk';

/**
 * The bulk API (SPEC §15): `POST /notices/bulk` → `202 {"id"}` (a set up to BULK_INLINE_MAX notices
 * is done before the answer; a larger one is a job the worker runs), and `GET /jobs/:id` → the
 * job's status, progress and one result per notice (a lost race is a result, not a failure).
 */
export function bulkApi(deps: AppDeps): Router {
  const r = Router();
  const guard = [requireBearer(deps.db), requireRole('admin', 'moderator')];

  r.post('/notices/bulk', ...guard, async (req, res) => {
    const actor = staffActorFrom(req);
    const plan = await planBulk(deps, actor, await validateBody(BulkDto, req.body));
    const job = await createBulkJob(deps, actor, plan, requestContext(req));
    if (job.total <= BULK_INLINE_MAX) await processBulkJobs(deps, { jobId: job.id });
    res.status(202).location(`/api/v1/jobs/${job.id}`).json({ id: job.id, total: job.total });
  });

  r.get('/jobs/:id', ...guard, async (req, res) => {
    const job = await bulkJobView(deps.db, String(req.params.id));
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      id: job.id,
      action: job.action,
      status: job.status,
      total: job.total,
      done: job.done,
      results: job.results,
    });
  });

  return r;
}
