import { Request, Response, Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { errorsByField, noStore, requestContext, validationErrors } from '../../shared/http';
import type { Notice } from '../notices';
import { ComplaintDto } from './complaint.dto';
import { ComplaintCredential, complaintWindow, noticeForComplaint, submitComplaint } from './submit-complaint';

/**
 * The public complaint forms (SPEC §18): the notifier's (opened from the status page with the
 * notice's token) and the affected source's (the signed link in the removal email). No session:
 * the link is the credential, carried in hidden fields.
 */
export function complaintPages(deps: AppDeps): Router {
  const r = Router();
  r.use(['/takedown/:reference/complaint', '/complaints/source'], noStore);

  const notifier = (req: Request, from: Record<string, unknown>): ComplaintCredential => ({
    kind: 'notifier',
    reference: String(req.params.reference),
    token: from.token,
  });
  const source = (req: Request, from: Record<string, unknown>): ComplaintCredential => ({
    kind: 'source',
    reference: String(req.params.reference),
    sourceId: from.source,
    sig: from.sig,
  });

  const show = async (res: Response, cred: ComplaintCredential, status = 200, extra: Record<string, unknown> = {}) => {
    let notice: Notice;
    try {
      notice = await noticeForComplaint(deps, cred);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      return res.status(e.status).render('complaints/link-problem', { title: 'Complaint link not valid', message: e.message });
    }
    const window = complaintWindow(notice, cred.kind, deps.clock.now());
    const hidden =
      cred.kind === 'notifier' ? { token: 'token' in cred ? cred.token : undefined } : { source: cred.sourceId, sig: cred.sig };
    const action = cred.kind === 'notifier' ? `/takedown/${notice.reference}/complaint` : `/complaints/source/${notice.reference}`;
    res.status(status).render('complaints/form', {
      title: `Complain about the decision on notice ${notice.reference}`,
      reference: notice.reference,
      kind: cred.kind,
      decision: notice.decision ?? notice.status,
      decidedAt: notice.decidedAt,
      deadline: window.deadline,
      problem: window.problem,
      action,
      hidden,
      values: {},
      ...extra,
    });
  };

  const submit = (credOf: typeof notifier) => async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const cred = credOf(req, body);
    const values = { name: body.name, email: body.email, grounds: body.grounds };
    const errors = await validationErrors(ComplaintDto, body);
    if (errors.length) return show(res, cred, 422, { values, errors: errorsByField(errors) });
    try {
      const c = await submitComplaint(deps, {
        credential: cred,
        name: String(body.name).trim(),
        email: String(body.email).trim(),
        grounds: String(body.grounds).trim(),
        context: requestContext(req),
      });
      res.redirect(
        303,
        `/complaints/received?ref=${encodeURIComponent(String(req.params.reference).toUpperCase())}&id=${c.id.slice(0, 8)}`,
      );
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      if (e.code === 'COMPLAINT.LINK_INVALID')
        return res.status(e.status).render('complaints/link-problem', { title: 'Complaint link not valid', message: e.message });
      return show(res, cred, e.status, { values, formError: e.message });
    }
  };

  r.get('/takedown/:reference/complaint', (req, res) => show(res, notifier(req, req.query as Record<string, unknown>)));
  r.post('/takedown/:reference/complaint', submit(notifier));
  r.get('/complaints/source/:reference', (req, res) => show(res, source(req, req.query as Record<string, unknown>)));
  r.post('/complaints/source/:reference', submit(source));
  r.get('/complaints/received', (req, res) => {
    const ref = typeof req.query.ref === 'string' && /^TD-\d{6,12}$/.test(req.query.ref) ? req.query.ref : null;
    res.render('complaints/received', { title: 'Complaint received', reference: ref });
  });
  return r;
}
