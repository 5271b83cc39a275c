import express, { Request, Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { requestContext } from '../../shared/http';
import { submitterToken } from '../../http/submitter-guards';
import { sendBatch } from './create-batch';
import { batchJson, batchOf, batchUrls } from './batches.queries';
import { MAX_BATCH_BYTES, parseCsvBatch, parseJsonBatch } from './parse-batch';

/**
 * `POST /api/v1/batches` (JSON or CSV), `GET /api/v1/batches/:id`, `GET /api/v1/batches/:id/urls`
 * (SPEC §14): submitter tokens only. The app's 1 MB JSON parser skips this path; the body is read
 * here, with the batch limit.
 */
export function batchesApi(deps: AppDeps): Router {
  const r = Router();
  const bigJson = express.json({ limit: MAX_BATCH_BYTES });
  r.use('/batches', submitterToken(deps, { handOn: false }));

  r.post('/batches', async (req: Request, res) => {
    const type = req.headers['content-type'] ?? '';
    const csv = /^text\/csv\b/i.test(type);
    const batch = await sendBatch(deps, {
      submitter: req.submitter!,
      format: csv ? 'csv' : 'json',
      context: requestContext(req),
      read: async () => {
        if (csv) return parseCsvBatch(req, deps.config.publicBaseUrl);
        if (!/^application\/json\b/i.test(type))
          throw new AppError('BATCH.UNSUPPORTED_TYPE', 'Send the batch as application/json or text/csv.', 415, {
            errors: [{ field: 'Content-Type', message: 'Use application/json or text/csv.' }],
          });
        await new Promise<void>((resolve, reject) => bigJson(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
        return parseJsonBatch(req.body, deps.config.publicBaseUrl);
      },
    });
    const statusUrl = `${deps.config.publicBaseUrl}/api/v1/batches/${batch.id}`;
    res
      .status(202)
      .location(statusUrl)
      .json({ id: batch.id, status: batch.status, statusUrl, works: batch.works, urls: batch.urls, errors: batch.errors });
  });

  r.get('/batches/:id', async (req, res) => {
    const b = await batchOf(deps.db.manager, String(req.params.id), req.submitter!.id);
    if (!b) throw AppError.notFound('Batch', 'BATCH.NOT_FOUND');
    res.json(await batchJson(deps.db.manager, b, deps.config.publicBaseUrl));
  });

  r.get('/batches/:id/urls', async (req, res) => {
    const b = await batchOf(deps.db.manager, String(req.params.id), req.submitter!.id);
    if (!b) throw AppError.notFound('Batch', 'BATCH.NOT_FOUND');
    const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : undefined;
    if (cursor !== undefined && !/^\d{1,9}\.\d{1,9}$/.test(cursor))
      throw AppError.badRequest('Bad cursor: use nextCursor from the previous page.', [
        { field: 'cursor', message: 'Use nextCursor from the previous page.' },
      ]);
    res.json(await batchUrls(deps.db.manager, b.id, cursor));
  });

  return r;
}
