import { plainToInstance } from 'class-transformer';
import { Response, Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { errorsByField, noStore, requestContext, validateBody, validationErrors } from '../../shared/http';

import { itemPageUrl } from '../items';
import { COUNTRIES, findByReference, rateLimit } from '../notices';
import { CONSENT_STATEMENT_FORM, CounterNoticeDto, MISTAKE_STATEMENT } from './counter-notice.dto';
import { listCounterNotices, removedImagesOf, removedItemsOf } from './counter-notices.queries';
import { recordCourtAction } from './restore-counter-noticed';
import { submitCounterNotice, unknownNotice, whyNotCounterable } from './submit-counter-notice';
import { requireBearer, requireRole, requireStaff } from '../../http/guards';
import { actorFrom } from '../../http/actor';

const lines = (v: unknown): string[] =>
  typeof v === 'string'
    ? v
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean)
    : Array.isArray(v)
      ? v.map(String)
      : [];

/** The HTML form's fields as the API's JSON: the textarea becomes a list, checkboxes booleans. */
export function formToCounterNotice(body: Record<string, unknown>): Record<string, unknown> {
  const { mistake, consent, removedUrls, ...rest } = body;
  return {
    ...rest,
    removedUrls: lines(removedUrls),
    mistake: mistake === 'true' || mistake === 'on',
    consent: consent === 'true' || consent === 'on',
  };
}

function renderForm(
  res: Response,
  status: number,
  values: Record<string, unknown>,
  errors: { field: string; message: string }[] = [],
  extra: Record<string, unknown> = {},
) {
  res.status(status).render('counter-notices/form', {
    title: 'Send a counter-notice',
    values,
    errors: errorsByField(errors),
    errorList: errors.map((e) => ({ field: e.field === '_body' ? 'notice' : e.field, message: e.message })),
    countries: COUNTRIES,
    statements: { mistake: MISTAKE_STATEMENT, consent: CONSENT_STATEMENT_FORM },
    ...extra,
  });
}

/** The public counter-notice form (SPEC §5). Anyone may send one: the source, the author. */
export function counterNoticePages(deps: AppDeps): Router {
  const r = Router();
  const listOf = (items: { title: string; slug: string }[]) =>
    items.map((i) => ({ title: i.title, url: itemPageUrl(deps.config.publicBaseUrl, i.slug) }));
  /** What the form lists as removed under `ref`, when that is a notice a counter-notice may answer. */
  const removedUnder = async (ref: unknown) => {
    if (typeof ref !== 'string' || !/^TD-\d{6,12}$/i.test(ref.trim())) return [];
    const notice = await findByReference(deps.db.manager, ref.trim().toUpperCase());
    if (!notice) return [];
    const removed = await removedItemsOf(deps.db.manager, notice.id);
    return whyNotCounterable(notice, removed.length) ? [] : listOf(removed);
  };
  const limit = rateLimit(deps, 'counter-notice', deps.config.policy.intakePerHour, 3600);
  r.use('/counter-notice', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    res.locals.robotsNoindex = true;
    next();
  });

  r.get('/counter-notice', async (req, res) => {
    const ref = typeof req.query.notice === 'string' ? req.query.notice.trim().toUpperCase().slice(0, 20) : '';
    const values: Record<string, unknown> = { notice: ref, removedUrls: '' };
    if (!ref) return renderForm(res, 200, values);
    const notice = await findByReference(deps.db.manager, ref);
    if (!notice) return renderForm(res, 404, values, unknownNotice(ref).details.errors);
    const removed = await removedItemsOf(deps.db.manager, notice.id);
    const why = whyNotCounterable(notice, removed.length);
    if (why) return renderForm(res, 409, values, [{ field: 'notice', message: why }]);
    // An article the notice removed is named by its page; one it only took images from, by those
    // images' URLs (SPEC §19), so that keeping a line restores exactly what it names.
    const images = await removedImagesOf(deps.db.manager, notice.id);
    values.removedUrls = [
      ...removed.filter((i) => !i.imagesOnly).map((i) => itemPageUrl(deps.config.publicBaseUrl, i.slug)),
      ...images.map((g) => g.url),
    ].join('\n');
    renderForm(res, 200, values, [], { removed: listOf(removed) });
  });

  r.post('/counter-notice', limit, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { ...body, mistake: body.mistake === 'true', consent: body.consent === 'true' };
    if (typeof body.website === 'string' && body.website.trim()) {
      throw AppError.badRequest('Your counter-notice could not be accepted. If you are a person, reload the form and try again.');
    }
    const dto = formToCounterNotice(body);
    const errors = await validationErrors(CounterNoticeDto, dto);
    // A form sent back with errors lists the removed material again, as it did when it was opened.
    if (errors.length) return renderForm(res, 422, values, errors, { removed: await removedUnder(body.notice) });
    try {
      const answer = await submitCounterNotice(deps, {
        dto: plainToInstance(CounterNoticeDto, dto),
        channel: 'form',
        context: requestContext(req),
      });
      res.redirect(303, `/counter-notice/received?notice=${answer.notice}&restore=${answer.restoreAfter.slice(0, 10)}`);
    } catch (e) {
      if (!(e instanceof AppError) || !e.details.errors?.length || (e.status !== 422 && e.status !== 409)) throw e;
      renderForm(res, e.status, values, e.details.errors, { removed: await removedUnder(body.notice) });
    }
  });

  r.get('/counter-notice/received', (req, res) => {
    const ref = typeof req.query.notice === 'string' && /^TD-\d{6,12}$/.test(req.query.notice) ? req.query.notice : null;
    const restore = typeof req.query.restore === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(req.query.restore) ? req.query.restore : null;
    res.render('counter-notices/received', {
      title: 'Counter-notice received',
      reference: ref,
      restoreAfter: restore,
      agentEmail: deps.config.dmcaAgent.email,
    });
  });

  return r;
}

/** `POST /api/v1/counter-notices` (public) and the staff twin of the court-action button (bearer). */
export function counterNoticesApi(deps: AppDeps): Router {
  const r = Router();
  const limit = rateLimit(deps, 'counter-notice', deps.config.policy.intakePerHour, 3600);
  r.post('/counter-notices', limit, async (req, res) => {
    const dto = await validateBody(CounterNoticeDto, req.body);
    if (dto.website) throw AppError.validation([{ field: 'website', message: 'Leave this field empty.' }]);
    const answer = await submitCounterNotice(deps, { dto, channel: 'api', context: requestContext(req) });
    res.status(201).json(answer);
  });
  r.post('/counter-notices/:id/court-action', requireBearer(deps.db), requireRole('moderator', 'admin'), async (req, res) => {
    const { counterNotice, notice } = await recordCourtAction(deps, {
      counterNoticeId: String(req.params.id),
      note: String(req.body?.note ?? ''),
      actor: actorFrom(req),
      context: requestContext(req),
    });
    res.json({
      id: counterNotice.id,
      notice: notice.reference,
      status: counterNotice.status,
      noticeStatus: notice.status,
      courtAction: counterNotice.courtAction,
    });
  });
  return r;
}

/** Staff: the counter-notices and the court-action button. */
export function counterNoticesStaffRoutes(deps: AppDeps): Router {
  const r = Router();
  r.use('/counter-notices', noStore, requireStaff);

  const page = async (extra: Record<string, unknown> = {}) => ({
    title: 'Counter-notices',
    counterNotices: (await listCounterNotices(deps.db.manager)).map((c) => ({ ...c, open: c.status === 'received' })),
    ...extra,
  });

  r.get('/counter-notices', async (_req, res) => {
    res.render('counter-notices/index', await page());
  });

  r.post('/counter-notices/:id/court-action', requireRole('moderator', 'admin'), async (req, res) => {
    const id = String(req.params.id);
    try {
      const { notice } = await recordCourtAction(deps, {
        counterNoticeId: id,
        note: String(req.body?.note ?? ''),
        actor: actorFrom(req),
        context: requestContext(req),
      });
      req.session.flash = {
        kind: 'ok',
        message: `Court action recorded: the removal under ${notice.reference} is upheld and every party is being emailed.`,
      };
    } catch (e) {
      if (e instanceof AppError && e.status === 422) {
        return res
          .status(422)
          .render(
            'counter-notices/index',
            await page({ errorFor: id, errors: errorsByField(e.details.errors ?? []), values: { note: req.body?.note } }),
          );
      }
      if (!(e instanceof AppError) || e.status !== 409) throw e;
      req.session.flash = { kind: 'error', message: e.message };
    }
    res.redirect(303, '/counter-notices');
  });
  return r;
}
