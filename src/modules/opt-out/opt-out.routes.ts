import { plainToInstance } from 'class-transformer';
import { Response, Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { errorsByField, requestContext, validationErrors } from '../../shared/http';
import { rateLimit } from '../notices';
import { OptOutDto } from './opt-out.dto';
import { confirmOptOut, describeOptOutLink, LINK_HOURS, requestOptOut } from './opt-out';

function renderForm(res: Response, status: number, values: Record<string, unknown>, errors: { field: string; message: string }[] = []) {
  res.status(status).render('opt-out/form', {
    title: 'Stop the republishing of your site',
    values,
    errors: errorsByField(errors),
    errorList: errors.map((e) => ({ field: e.field === '_body' ? 'domain' : e.field, message: e.message })),
  });
}

/**
 * The publisher opt-out (SPEC §9): request, emailed link, confirmation. The link's GET shows what
 * will happen and a button; the change is a POST, so a mail scanner that fetches links cannot
 * opt a site out on its own.
 */
export function optOutPages(deps: AppDeps): Router {
  const r = Router();
  const requestLimit = rateLimit(deps, 'opt-out', 10, 3600);
  const confirmLimit = rateLimit(deps, 'opt-out-confirm', 30, 3600);
  r.use('/opt-out', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    res.locals.robotsNoindex = true;
    next();
  });

  r.get('/opt-out', (_req, res) => renderForm(res, 200, {}));

  r.post('/opt-out', requestLimit, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { domain: body.domain, email: body.email };
    const errors = await validationErrors(OptOutDto, values);
    if (errors.length) return renderForm(res, 422, values, errors);
    try {
      const { domain, sources } = await requestOptOut(deps, { dto: plainToInstance(OptOutDto, values), context: requestContext(req) });
      res.render('opt-out/sent', { title: 'Check your email', domain, sources, email: String(values.email).trim(), hours: LINK_HOURS });
    } catch (e) {
      if (!(e instanceof AppError) || !e.details.errors?.length) throw e;
      renderForm(res, e.status, values, e.details.errors);
    }
  });

  r.get('/opt-out/confirm', confirmLimit, async (req, res) => {
    const token = req.query.token;
    try {
      const link = await describeOptOutLink(deps, token);
      res.render('opt-out/confirm', { title: 'Confirm the opt-out', ...link, token });
    } catch (e) {
      if (!(e instanceof AppError) || !e.code.startsWith('OPT_OUT.')) throw e;
      res.status(e.status).render('opt-out/link-problem', { title: 'This link does not work', message: e.message });
    }
  });

  r.post('/opt-out/confirm', confirmLimit, async (req, res) => {
    try {
      const done = await confirmOptOut(deps, { token: req.body?.token, context: requestContext(req) });
      res.render('opt-out/done', { title: 'Opt-out confirmed', ...done });
    } catch (e) {
      if (!(e instanceof AppError) || !e.code.startsWith('OPT_OUT.')) throw e;
      res.status(e.status).render('opt-out/link-problem', { title: 'This link does not work', message: e.message });
    }
  });

  return r;
}
