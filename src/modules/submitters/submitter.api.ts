import { plainToInstance } from 'class-transformer';
import { Router } from 'express';
import { submitterToken } from '../../http/submitter-guards';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { requestContext, validationErrors } from '../../shared/http';
import { complainantJson, complainantView, findByReference, NoticeDto, rateLimit, submitNotice } from '../notices';
import { listPortalNotices, parsePortalFilter } from './portal.queries';
import { suspension } from './profile';
import { currentStatements } from './standing-statements';

/**
 * The API as a submitter (SPEC §14), with a `tds_…` token: the same routes as the public and staff
 * notice API, mounted before them. A request without a submitter token is handed on untouched;
 * with one, it acts as that submitter only: its notices are sent from its verified address, and
 * it reads only notices sent from that address.
 */
export function submitterApi(deps: AppDeps): Router {
  const r = Router();
  const intakeLimit = rateLimit(deps, 'intake', deps.config.policy.intakePerHour, 3600);

  r.use('/notices', submitterToken(deps, { handOn: true }));

  r.post('/notices', intakeLimit, async (req, res) => {
    const s = req.submitter!;
    const refused = suspension(s, deps.clock.now());
    if (refused) throw refused;
    const key = req.get('Idempotency-Key');
    if (key !== undefined && !/^[\x21-\x7e]{1,200}$/.test(key)) {
      throw AppError.validation([{ field: 'Idempotency-Key', message: 'Use 1 to 200 visible ASCII characters.' }]);
    }
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : null;
    if (!body) throw AppError.validation([{ field: '_body', message: 'The request body must be a JSON object.' }]);
    if (body.email !== undefined && String(body.email).trim().toLowerCase() !== s.email) {
      throw AppError.validation([
        { field: 'email', message: `A notice sent with your token is sent from your address (${s.email}); leave email out.` },
      ]);
    }
    // Standing statements stand in when the notice carries none of its own.
    const standing =
      body.goodFaith === undefined && body.accuracy === undefined && body.signature === undefined
        ? await currentStatements(deps.db.manager, s.id)
        : null;
    const dto = { ...body, email: s.email, ...(standing ? { goodFaith: true, accuracy: true, signature: standing.signature } : {}) };
    const errors = (await validationErrors(NoticeDto, dto)).map((e) =>
      standing && e.field === 'signature'
        ? { field: 'name', message: `Send the notice in the name you signed your standing statements with: ${standing.signature}.` }
        : e,
    );
    if (errors.length) throw AppError.validation(errors);
    const { answer, replayed } = await submitNotice(deps, {
      dto: plainToInstance(NoticeDto, dto),
      channel: 'api',
      context: requestContext(req),
      idempotencyKey: key,
      verifiedEmail: true,
      standingStatements: standing ?? undefined,
      grouped: true,
    });
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res
      .status(201)
      .location(answer.statusUrl)
      .json({
        ...answer,
        portalUrl: `${deps.config.publicBaseUrl}/portal/notices/${answer.reference}`,
        statements: standing ? 'standing' : 'notice',
      });
  });

  r.get('/notices', async (req, res) => {
    const { rows, next } = await listPortalNotices(
      deps.db.manager,
      req.submitter!.email,
      parsePortalFilter(req.query as Record<string, unknown>),
    );
    res.json({ notices: rows.map(({ id: _id, ...n }) => n), nextCursor: next });
  });

  r.get('/notices/:reference', async (req, res) => {
    const notice = await findByReference(deps.db.manager, String(req.params.reference));
    if (!notice || notice.email !== req.submitter!.email) throw AppError.notFound('Notice', 'NOTICE.NOT_FOUND');
    res.json(complainantJson(await complainantView(deps.db.manager, notice)));
  });

  return r;
}
