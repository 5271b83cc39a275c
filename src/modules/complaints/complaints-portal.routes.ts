import { Request, Response, Router } from 'express';
import type { AppDeps } from '../../deps';
import { requireSubmitter } from '../../http/submitter-guards';
import { AppError } from '../../shared/errors';
import { errorsByField, requestContext, validationErrors } from '../../shared/http';
import { findByReference, Notice } from '../notices';
import { ComplaintDto } from './complaint.dto';
import { complaintWindow, submitComplaint } from './submit-complaint';

/**
 * The notifier's complaint form in the rights holders' portal (SPEC §18), mounted behind the portal's
 * session and CSRF: `/portal/notices/:reference/complaint`, linked from the portal's notice page. The
 * portal's sign-in is the credential, so only the account that sent the notice reaches it.
 */
export function complaintPortalPages(deps: AppDeps): Router {
  const r = Router();

  /** The signed-in submitter's own notice; anyone else's is as unknown as a reference that does not exist. */
  const ownNotice = async (req: Request): Promise<Notice> => {
    const notice = await findByReference(deps.db.manager, String(req.params.reference));
    if (!notice || notice.email !== req.submitter!.email) throw AppError.notFound('Notice', 'NOTICE.NOT_FOUND');
    return notice;
  };
  const form = (res: Response, notice: Notice, status: number, extra: Record<string, unknown>) => {
    const window = complaintWindow(notice, 'notifier', deps.clock.now());
    res.status(status).render('complaints/form', {
      title: `Complain about the decision on notice ${notice.reference}`,
      reference: notice.reference,
      kind: 'notifier',
      decision: notice.decision ?? notice.status,
      decidedAt: notice.decidedAt,
      deadline: window.deadline,
      problem: window.problem,
      action: `/portal/notices/${notice.reference}/complaint`,
      hidden: { _csrf: res.locals.csrfToken },
      ...extra,
    });
  };

  r.get('/notices/:reference/complaint', requireSubmitter, async (req, res) => {
    const s = req.submitter!;
    form(res, await ownNotice(req), 200, { values: { name: s.name ?? '', email: s.email } });
  });

  r.post('/notices/:reference/complaint', requireSubmitter, async (req, res) => {
    const notice = await ownNotice(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = { name: body.name, email: body.email, grounds: body.grounds };
    const errors = await validationErrors(ComplaintDto, body);
    if (errors.length) return form(res, notice, 422, { values, errors: errorsByField(errors) });
    try {
      await submitComplaint(deps, {
        credential: { kind: 'notifier', reference: notice.reference, verifiedBy: 'portal' },
        name: String(body.name).trim(),
        email: String(body.email).trim(),
        grounds: String(body.grounds).trim(),
        context: requestContext(req),
      });
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      return form(res, notice, e.status, { values, formError: e.message });
    }
    req.session.flash = {
      kind: 'ok',
      message: `Your complaint about notice ${notice.reference} is received. Another moderator will review it; you will be emailed the outcome.`,
    };
    res.redirect(303, `/portal/notices/${notice.reference}`);
  });

  return r;
}
