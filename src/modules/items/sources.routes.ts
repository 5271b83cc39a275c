import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { errorsByField, noStore, requestContext, validateBody, validationErrors } from '../../shared/http';

import { describeResult, importFeedNow } from '../feeds';
import { CreateSourceDto, SourceActionDto } from './items.dto';
import { listSources } from './items.queries';
import { createSource, setSourceStatus } from './manage-sources';
import { requireRole, requireStaff } from '../../http/guards';
import { actorFrom } from '../../http/actor';

/** One line for a person: "12 new, 3 updated, 40 unchanged, 2 skipped (no link and no guid: 2)". */

/** Staff pages for sources: every staff member sees them and may import now; admins create, pause, block. */
export function sourcesRoutes(deps: AppDeps): Router {
  const r = Router();
  r.use('/sources', noStore, requireStaff);

  const page = async (extra: Record<string, unknown> = {}) => {
    const sources = await listSources(deps.db.manager);
    return {
      title: 'Sources',
      sources: sources.map((s) => ({ ...s, result: describeResult(s.lastFetchResult), failed: s.lastFetchResult?.ok === false })),
      ...extra,
    };
  };

  r.get('/sources', async (_req, res) => {
    res.render('sources/index', await page({ values: {} }));
  });

  r.post('/sources', requireRole('admin'), async (req, res) => {
    const errors = await validationErrors(CreateSourceDto, req.body);
    if (errors.length) {
      const values = { name: req.body?.name, domains: req.body?.domains, feedUrl: req.body?.feedUrl, contactEmail: req.body?.contactEmail };
      return res.status(422).render('sources/index', await page({ values, errors: errorsByField(errors) }));
    }
    const dto = await validateBody(CreateSourceDto, req.body);
    const source = await withTransaction(deps.db, (tx) =>
      createSource(tx, { ...dto, actor: actorFrom(req), context: requestContext(req), at: deps.clock.now() }),
    );
    req.session.flash = {
      kind: 'ok',
      message: `Added ${source.name}.${source.feedUrl ? ' Its feed will be imported within a minute, or use "Import now".' : ''}`,
    };
    res.redirect(303, '/sources');
  });

  r.post('/sources/:id/fetch', async (req, res) => {
    await validateBody(SourceActionDto, req.body);
    try {
      const result = await importFeedNow(deps, String(req.params.id), { actor: actorFrom(req), context: requestContext(req) });
      req.session.flash = {
        kind: result.ok ? 'ok' : 'error',
        message: result.ok ? `Import done: ${describeResult(result)}.` : `Import failed: ${result.reason}.`,
      };
    } catch (e) {
      if (!(e instanceof AppError) || e.status !== 409) throw e;
      req.session.flash = { kind: 'error', message: e.message };
    }
    res.redirect(303, '/sources');
  });

  for (const change of ['pause', 'block', 'activate'] as const) {
    r.post(`/sources/:id/${change}`, requireRole('admin'), async (req, res) => {
      await validateBody(SourceActionDto, req.body);
      try {
        const s = await withTransaction(deps.db, (tx) =>
          setSourceStatus(tx, {
            sourceId: String(req.params.id),
            change,
            actor: actorFrom(req),
            context: requestContext(req),
            at: deps.clock.now(),
          }),
        );
        req.session.flash = { kind: 'ok', message: `${s.name} is now ${s.status}.` };
      } catch (e) {
        if (!(e instanceof AppError) || e.status !== 409) throw e;
        req.session.flash = { kind: 'error', message: e.message };
      }
      res.redirect(303, '/sources');
    });
  }
  return r;
}
