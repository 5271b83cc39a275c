import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { errorsByField, noStore, requestContext, validationErrors } from '../../shared/http';
import { requireStaff } from '../../http/guards';
import { DecideComplaintDto } from './complaint.dto';
import { complaintById, complaintQueue } from './complaints.queries';
import { decideComplaint } from './decide-complaint';

/** The staff complaints queue (SPEC §18): any moderator or admin, except the notice's own decider decides. */
export function complaintsStaffRoutes(deps: AppDeps): Router {
  const r = Router();
  r.use('/complaints', noStore, requireStaff);

  r.get('/complaints', async (_req, res) => {
    res.render('complaints/index', { title: 'Complaints', ...(await complaintQueue(deps.db.manager)) });
  });

  const page = async (id: string, userId: string) => {
    const complaint = await complaintById(deps.db.manager, id);
    if (!complaint) throw AppError.notFound('Complaint', 'COMPLAINT.NOT_FOUND');
    return {
      title: `Complaint about notice ${complaint.reference}`,
      complaint,
      ownDecision: complaint.decisionDecidedBy === userId,
      isOpen: complaint.status === 'open',
    };
  };

  r.get('/complaints/:id', async (req, res) => {
    res.render('complaints/show', { ...(await page(String(req.params.id), req.user!.id)), values: {} });
  });

  r.post('/complaints/:id/decide', async (req, res) => {
    const id = String(req.params.id);
    const view = await page(id, req.user!.id);
    const errors = await validationErrors(DecideComplaintDto, req.body);
    const values = { outcome: req.body?.outcome, reason: req.body?.reason };
    if (errors.length) return res.status(422).render('complaints/show', { ...view, values, errors: errorsByField(errors) });
    try {
      const c = await decideComplaint(deps, {
        complaintId: id,
        outcome: req.body.outcome,
        reason: String(req.body.reason).trim(),
        actor: req.user!,
        context: requestContext(req),
      });
      req.session.flash = {
        kind: 'ok',
        message:
          c.status === 'reversed'
            ? 'Complaint decided: the decision is reversed and both parties are emailed.'
            : 'Complaint decided: the decision stands and both parties are emailed.',
      };
      res.redirect(303, `/complaints/${id}`);
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      res.status(e.status).render('complaints/show', { ...view, values, formError: e.message });
    }
  });
  return r;
}
