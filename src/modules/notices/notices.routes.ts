import { plainToInstance } from 'class-transformer';
import { Request, Response, Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { errorsByField, requestContext, validationErrors } from '../../shared/http';
import { findItemsByUrls, thumbnailOf } from '../items';
import { answerQuestion, verifyNoticeEmail, withdrawNotice } from './complainant-actions';
import { rateLimit } from './intake-limiter';
import { NoticeDto } from './notice.dto';
import { formToNotice, lines, noticeFormView } from './notice-form';
import { findForComplainant, targetsOf } from './notices.queries';
import { complainantView } from './status-view';
import { submitNotice } from './submit-notice';
import { completeNotice, completionValues } from './complete-notice';

function renderForm(
  res: Response,
  status: number,
  values: Record<string, unknown>,
  errors: { field: string; message: string }[] = [],
  completing?: { reference: string; token: string },
) {
  res.status(status).render('notices/form', noticeFormView(values, errors, completing));
}

/** The public intake: form, status page and complainant actions. No session, no cookies. */
export function noticePages(deps: AppDeps): Router {
  const r = Router();
  const intakeLimit = rateLimit(deps, 'intake', deps.config.policy.intakePerHour, 3600);
  const checkLimit = rateLimit(deps, 'url-check', 120, 60);
  r.use('/takedown', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    res.locals.robotsNoindex = true;
    next();
  });

  r.get('/takedown', (req, res) => {
    const url = typeof req.query.url === 'string' ? req.query.url.slice(0, 2048) : '';
    renderForm(res, 200, { infringingUrls: url, role: 'owner', claimType: 'copyright' });
  });

  r.post('/takedown', intakeLimit, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { ...body, goodFaith: body.goodFaith === 'true', accuracy: body.accuracy === 'true' };
    if (typeof body.website === 'string' && body.website.trim()) {
      throw AppError.badRequest('Your notice could not be accepted. If you are a person, reload the form and try again.');
    }
    const dto = formToNotice(body);
    const errors = await validationErrors(NoticeDto, dto);
    if (errors.length) return renderForm(res, 422, values, errors);
    // The validated instance, as the API uses it: its transforms turn a browser's empty optional
    // fields ("" for an untouched date input) into undefined, which the raw body would not.
    const notice = plainToInstance(NoticeDto, dto);
    try {
      const { answer } = await submitNotice(deps, { dto: notice, channel: 'form', context: requestContext(req), grouped: true });
      res.redirect(303, answer.statusUrl.slice(deps.config.publicBaseUrl.length));
    } catch (e) {
      // A suspended submitter's address (DSA Art. 23): the form again, saying until when and why.
      if (!(e instanceof AppError) || e.code !== 'SUBMITTER.SUSPENDED') throw e;
      res.status(403).render('notices/form', { ...noticeFormView(values), refused: e.message });
    }
  });

  // An emailed notice that lacked elements (SPEC §12): the emailed link opens the form pre-filled
  // with everything understood, each missing element shown as an error next to its field.
  r.get('/takedown/complete/:reference', async (req, res) => {
    const notice = await findForComplainant(deps.db.manager, req.params.reference, req.query.token);
    const token = String(req.query.token);
    if (notice.status !== 'incomplete') return res.redirect(303, `/takedown/${notice.reference}?token=${encodeURIComponent(token)}`);
    const values = await completionValues(deps.db.manager, notice);
    const errors = await validationErrors(NoticeDto, formToNotice(values as Record<string, unknown>));
    renderForm(res, 200, values, errors, { reference: notice.reference, token });
  });

  r.post('/takedown/complete/:reference', intakeLimit, async (req: Request, res) => {
    const { token, website: _honeypot, ...body } = (req.body ?? {}) as Record<string, unknown>;
    const reference = String(req.params.reference);
    const notice = await findForComplainant(deps.db.manager, reference, token);
    const values = { ...body, goodFaith: body.goodFaith === 'true', accuracy: body.accuracy === 'true' };
    const dto = formToNotice(body);
    const errors = await validationErrors(NoticeDto, dto);
    if (errors.length) return renderForm(res, 422, values, errors, { reference: notice.reference, token: String(token) });
    const done = await completeNotice(deps, { reference, token, dto: plainToInstance(NoticeDto, dto), context: requestContext(req) });
    res.redirect(303, done.statusUrl!.slice(deps.config.publicBaseUrl.length));
  });

  /** Progressive enhancement: per-URL match status while the form is filled in. */
  r.get('/takedown/check', checkLimit, async (req, res) => {
    const urls = lines(req.query.url)
      .slice(0, 20)
      .filter((u) => u.length <= 2048);
    const found = await findItemsByUrls(deps.db.manager, urls, { baseUrl: deps.config.publicBaseUrl });
    res.json({
      targets: urls.map((url) => ({
        url,
        matched: found.has(url),
        itemId: found.get(url)?.id ?? null,
        title: found.get(url)?.title ?? null,
      })),
    });
  });

  r.get('/takedown/:reference', async (req, res) => {
    // The decision and question emails print this page's address without the key (we keep only its
    // hash): say how to open it rather than "not found". The same page for any reference, so it
    // tells nobody whether a notice exists.
    if (req.query.token === undefined) {
      const reference = /^TD-\d{6,12}$/i.test(req.params.reference) ? req.params.reference.toUpperCase() : 'TD-…';
      return res.status(404).render('notices/needs-link', {
        title: 'Open your notice with your private link',
        reference,
        agentEmail: deps.config.dmcaAgent.email,
      });
    }
    const notice = await findForComplainant(deps.db.manager, req.params.reference, req.query.token);
    const view = await complainantView(deps.db.manager, notice);
    res.render('notices/status', { title: `Notice ${notice.reference}`, ...view, token: req.query.token });
  });

  // SPEC §19: the thumbnail of an image the notice names, served by us (never hotlinked), to the
  // holder of the status link only.
  r.get('/takedown/:reference/images/:imageId', async (req, res) => {
    const notice = await findForComplainant(deps.db.manager, req.params.reference, req.query.token);
    const imageId = String(req.params.imageId);
    const named = (await targetsOf(deps.db.manager, notice.id)).some((t) => t.imageId === imageId);
    const thumb = named ? await thumbnailOf(deps.db.manager, imageId) : null;
    if (!thumb) throw AppError.notFound('Image', 'IMAGE.NOT_FOUND');
    res.set({ 'Content-Type': 'image/jpeg', 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'private, no-store' });
    res.send(thumb);
  });

  // The emailed verification link: its GET only shows a button (mail scanners and link previews
  // open links; they must not confirm anything), the button's POST confirms.
  r.get('/takedown/:reference/verify', async (req, res) => {
    const notice = await findForComplainant(deps.db.manager, req.params.reference, req.query.token);
    const statusUrl = `/takedown/${notice.reference}?token=${encodeURIComponent(String(req.query.token))}`;
    if (notice.status !== 'unverified') return res.redirect(303, statusUrl);
    res.setHeader('Cache-Control', 'no-store');
    res.render('notices/verify', {
      title: `Confirm your email for notice ${notice.reference}`,
      reference: notice.reference,
      token: req.query.token,
    });
  });

  r.post('/takedown/:reference/verify', async (req: Request, res) => {
    const token = req.body?.token;
    const notice = await verifyNoticeEmail(deps, { reference: req.params.reference as string, token, context: requestContext(req) });
    res.redirect(303, `/takedown/${notice.reference}?token=${encodeURIComponent(String(token))}`);
  });

  r.post('/takedown/:reference/withdraw', async (req: Request, res) => {
    const token = req.body?.token;
    const notice = await withdrawNotice(deps, { reference: req.params.reference as string, token, context: requestContext(req) });
    res.redirect(303, `/takedown/${notice.reference}?token=${encodeURIComponent(String(token))}`);
  });

  r.post('/takedown/:reference/answer', async (req: Request, res) => {
    const token = req.body?.token;
    const reference = req.params.reference as string;
    try {
      await answerQuestion(deps, { reference, token, answer: String(req.body?.answer ?? ''), context: requestContext(req) });
    } catch (e) {
      if (!(e instanceof AppError) || e.code !== 'VALIDATION.FAILED') throw e;
      const notice = await findForComplainant(deps.db.manager, reference, token);
      const view = await complainantView(deps.db.manager, notice);
      return res.status(422).render('notices/status', {
        title: `Notice ${notice.reference}`,
        ...view,
        token,
        values: { answer: req.body?.answer },
        errors: errorsByField(e.details.errors ?? []),
      });
    }
    res.redirect(303, `/takedown/${reference.toUpperCase()}?token=${encodeURIComponent(String(token))}`);
  });

  return r;
}
