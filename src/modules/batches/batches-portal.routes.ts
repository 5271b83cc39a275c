import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { requireSubmitter } from '../../http/submitter-guards';
import { batchesOf, batchOf, batchUrls } from './batches.queries';

const pct = (b: { processed: number; urls: number }) => (b.urls ? Math.floor((b.processed / b.urls) * 100) : 100);

/** The portal's batch pages (behind the portal's session): progress bars and per-URL results. */
export function batchesPortalPages(deps: AppDeps): Router {
  const r = Router();

  r.get('/batches', requireSubmitter, async (req, res) => {
    const batches = await batchesOf(deps.db.manager, req.submitter!.id);
    res.render('portal/batches', {
      title: 'Your batches',
      batches: batches.map((b) => ({ ...b, percent: pct(b), errorCount: b.errors.length })),
    });
  });

  r.get('/batches/:id', requireSubmitter, async (req, res) => {
    const b = await batchOf(deps.db.manager, String(req.params.id), req.submitter!.id);
    if (!b) throw AppError.notFound('Batch', 'BATCH.NOT_FOUND');
    const cursor = typeof req.query.cursor === 'string' && /^\d{1,9}\.\d{1,9}$/.test(req.query.cursor) ? req.query.cursor : undefined;
    const page = await batchUrls(deps.db.manager, b.id, cursor);
    // While it runs, the page refreshes itself (no script needed).
    if (b.status === 'queued' || b.status === 'processing') res.setHeader('Refresh', '5');
    res.render('portal/batch', {
      title: `Batch of ${b.works} works`,
      batch: { ...b, percent: pct(b) },
      urls: page.urls,
      nextUrl: page.nextCursor ? `/portal/batches/${b.id}?cursor=${page.nextCursor}` : null,
    });
  });

  return r;
}
