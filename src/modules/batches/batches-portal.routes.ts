import { Router, type Response } from 'express';
import { Readable } from 'node:stream';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { requestContext } from '../../shared/http';
import { requireSubmitter } from '../../http/submitter-guards';
import { suspension, type Submitter } from '../submitters';
import { batchesOf, batchOf, batchUrls } from './batches.queries';
import { sendBatch } from './create-batch';
import { CSV_HEADER, csvFileProblem, type CsvFile, MAX_BATCH_BYTES, MAX_BATCH_URLS, parseCsvBatch } from './parse-batch';

const pct = (b: { processed: number; urls: number }) => (b.urls ? Math.floor((b.processed / b.urls) * 100) : 100);

/** The upload form's file: read by the portal before its CSRF check (multipart), at most the API's limit. */
export const BATCH_UPLOAD = { path: '/batches', maxFileBytes: MAX_BATCH_BYTES };

/** The uploaded file as a stream of 64 KiB chunks: parsed as the API parses its body. */
function chunksOf(content: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < content.length; i += 65_536) yield content.subarray(i, i + 65_536);
    })(),
  );
}

/** A refusal as the form shows it: one sentence next to the field, and the refused rows (numbered) under it. */
function uploadError(e: AppError): { message: string; rows: string[] } {
  const lines = (e.details.errors ?? []).map((x) => {
    const row = (x as { row?: unknown }).row;
    return typeof row === 'number' && row > 0 ? `Row ${row}: ${x.message}` : x.message;
  });
  if (e.code === 'VALIDATION.FAILED' && e.message === AppError.validation([]).message && lines.length)
    return { message: lines[0], rows: lines.slice(1) };
  return { message: e.message, rows: e.status === 413 ? [] : lines };
}

/**
 * The portal's batch pages (behind the portal's session and CSRF): the upload form and the list with
 * progress bars, and each batch's progress and per-URL results. The upload takes the API's path
 * (`sendBatch` with the streamed `parseCsvBatch`): the same refusals, limits and row-numbered errors.
 */
export function batchesPortalPages(deps: AppDeps): Router {
  const r = Router();

  const renderList = async (res: Response, status: number, s: Submitter, error: { message: string; rows: string[] } | null = null) => {
    const batches = await batchesOf(deps.db.manager, s.id);
    res.status(status).render('portal/batches', {
      title: 'Your batches',
      batches: batches.map((b) => ({ ...b, percent: pct(b), errorCount: b.errors.length })),
      header: CSV_HEADER.join(','),
      maxMb: MAX_BATCH_BYTES / 1024 / 1024,
      maxUrls: MAX_BATCH_URLS.toLocaleString('en'),
      refused: suspension(s, deps.clock.now())?.message ?? null,
      uploadError: error,
    });
  };

  r.get('/batches', requireSubmitter, async (req, res) => {
    await renderList(res, 200, req.submitter!);
  });

  r.post('/batches', requireSubmitter, async (req, res) => {
    const file = res.locals.upload as CsvFile | null | undefined;
    let batch;
    try {
      batch = await sendBatch(deps, {
        submitter: req.submitter!,
        format: 'csv',
        context: requestContext(req),
        read: async () => {
          const problem = csvFileProblem(file);
          if (problem) throw problem;
          return parseCsvBatch(chunksOf(file!.content), deps.config.publicBaseUrl);
        },
      });
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      return renderList(res, e.status, req.submitter!, uploadError(e));
    }
    const refused = batch.errors.length ? ` ${batch.errors.length} rows were refused (listed below).` : '';
    req.session.flash = {
      kind: 'ok',
      message: `Your batch of ${batch.works} works (${batch.urls} URLs) was accepted: each work becomes one notice.${refused}`,
    };
    res.redirect(303, `/portal/batches/${batch.id}`);
  });

  r.get('/batches/:id', requireSubmitter, async (req, res) => {
    const b = await batchOf(deps.db.manager, String(req.params.id), req.submitter!.id);
    if (!b) throw AppError.notFound('Batch', 'BATCH.NOT_FOUND');
    const cursor = typeof req.query.cursor === 'string' && /^\d{1,9}\.\d{1,9}$/.test(req.query.cursor) ? req.query.cursor : undefined;
    const page = await batchUrls(deps.db.manager, b.id, cursor);
    // While it runs, the page refreshes itself (no script needed); finished, it says so in its title and heading.
    const running = b.status === 'queued' || b.status === 'processing';
    if (running) res.setHeader('Refresh', '2');
    const outcome = b.status === 'done' ? 'Done' : b.status === 'failed' ? 'Failed' : null;
    const what = `${b.works} works, ${b.urls} URLs`;
    res.render('portal/batch', {
      title: outcome ? `${outcome}: batch of ${what}` : `Batch of ${what}: ${b.status}`,
      heading: outcome ? `${outcome}: batch of ${what}` : `Batch of ${what}`,
      running,
      batch: { ...b, percent: pct(b) },
      urls: page.urls,
      nextUrl: page.nextCursor ? `/portal/batches/${b.id}?cursor=${page.nextCursor}` : null,
    });
  });

  return r;
}
