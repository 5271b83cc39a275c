import { plainToInstance } from 'class-transformer';
import { Request, Response, Router } from 'express';
import type { AppDeps } from '../../deps';
import { actorFrom } from '../../http/actor';
import { requireRole, requireStaff } from '../../http/guards';
import { AppError } from '../../shared/errors';
import { errorsByField, noStore, requestContext, validationErrors } from '../../shared/http';
import { letterForStaff } from './authorisation-letters';
import { listSubmitters, parseSubmitterFilter, submitterDetail } from './submitters-admin.queries';
import { liftSuspension, setTrusted, SuspendDto, suspendSubmitter, WarnDto, warnSubmitter } from './trust-and-misuse';

/**
 * Trusted flaggers and misuse (SPEC §14, DSA Arts. 22/23), for admins: `/submitters` (every
 * submitter with their accuracy), `/submitters/:id`, and the actions trust, untrust, warn, suspend,
 * lift — each a CSRF-protected form, one transaction with its audit event. The authorisation letter
 * is downloaded by any staff member (moderators read it beside an agent's notice).
 */
export function submittersAdminRoutes(deps: AppDeps): Router {
  const r = Router();
  r.get('/submitters/:id/letter', noStore, requireStaff, async (req, res) => {
    const letterId = typeof req.query.letter === 'string' ? req.query.letter : undefined;
    const { filename, content } = await letterForStaff(deps, {
      submitterId: String(req.params.id),
      letterId,
      actor: actorFrom(req),
      context: requestContext(req),
    });
    res.setHeader('Content-Type', 'application/pdf');
    res.setHeader('Content-Disposition', `attachment; filename="letter.pdf"; filename*=UTF-8''${encodeURIComponent(filename)}`);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.send(content);
  });
  r.use('/submitters', noStore, requireStaff, requireRole('admin'));

  r.get('/submitters', async (req, res) => {
    const filter = parseSubmitterFilter(req.query as Record<string, unknown>);
    const { rows, next } = await listSubmitters(deps.db.manager, { ...filter, cursor: filter.cursor }, deps.clock.now());
    const query = new URLSearchParams(Object.entries({ q: filter.q, show: filter.show }).filter(([, v]) => v) as [string, string][]);
    res.render('submitters/index', {
      title: 'Submitters',
      filter,
      rows,
      shows: [
        { value: '', label: 'everyone' },
        { value: 'trusted', label: 'trusted flaggers' },
        { value: 'untrusted', label: 'not trusted' },
        { value: 'suspended', label: 'suspended now' },
      ].map((s) => ({ ...s, selected: (filter.show ?? '') === s.value })),
      nextUrl: next ? `/submitters?${new URLSearchParams([...query, ['cursor', next]])}` : null,
    });
  });

  const renderDetail = async (req: Request, res: Response, status = 200, extra: Record<string, unknown> = {}) => {
    const d = await submitterDetail(deps.db.manager, String(req.params.id));
    const now = deps.clock.now();
    const suspended = !!d.submitter.suspendedUntil && d.submitter.suspendedUntil > now;
    res.status(status).render('submitters/show', {
      title: `Submitter ${d.submitter.email}`,
      ...d,
      suspended,
      warnValues: {},
      suspendValues: { days: '30' },
      ...extra,
    });
  };
  r.get('/submitters/:id', (req, res) => renderDetail(req, res));

  const done = (req: Request, res: Response, message: string) => {
    req.session.flash = { kind: 'ok', message };
    res.redirect(303, `/submitters/${req.params.id}`);
  };
  const cmd = (req: Request) => ({ submitterId: String(req.params.id), actor: actorFrom(req), context: requestContext(req) });

  r.post('/submitters/:id/trust', async (req, res) => {
    const changed = await setTrusted(deps, { ...cmd(req), trusted: true });
    done(req, res, changed ? 'Marked as a trusted flagger: their next notices lead the queue.' : 'Already a trusted flagger.');
  });
  r.post('/submitters/:id/untrust', async (req, res) => {
    const changed = await setTrusted(deps, { ...cmd(req), trusted: false });
    done(req, res, changed ? 'No longer a trusted flagger: their next notices take their turn.' : 'Was not a trusted flagger.');
  });

  r.post('/submitters/:id/warn', async (req, res) => {
    const body = { message: req.body?.message };
    const errors = await validationErrors(WarnDto, body);
    if (errors.length) return renderDetail(req, res, 422, { warnErrors: errorsByField(errors), warnValues: body });
    await warnSubmitter(deps, { ...cmd(req), dto: plainToInstance(WarnDto, body) });
    done(req, res, 'The warning was emailed to the submitter.');
  });

  r.post('/submitters/:id/suspend', async (req, res) => {
    const body = { days: req.body?.days, reason: req.body?.reason };
    const errors = await validationErrors(SuspendDto, body);
    if (errors.length) return renderDetail(req, res, 422, { suspendErrors: errorsByField(errors), suspendValues: body });
    const until = await suspendSubmitter(deps, { ...cmd(req), dto: plainToInstance(SuspendDto, body) });
    done(req, res, `Suspended until ${until.toISOString().slice(0, 16).replace('T', ' ')} UTC; they were emailed why.`);
  });

  r.post('/submitters/:id/lift', async (req, res) => {
    try {
      await liftSuspension(deps, cmd(req));
    } catch (e) {
      if (!(e instanceof AppError) || e.code !== 'SUBMITTER.NOT_SUSPENDED') throw e;
      req.session.flash = { kind: 'error', message: e.message };
      return res.redirect(303, `/submitters/${req.params.id}`);
    }
    done(req, res, 'The suspension was lifted: their notices are taken again.');
  });

  return r;
}
