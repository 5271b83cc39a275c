import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { requestContext, validateBody } from '../../shared/http';
import { rateLimit } from './intake-limiter';
import { NoticeDto } from './notice.dto';
import { findForComplainant } from './notices.queries';
import { complainantJson, complainantView } from './status-view';
import { submitNotice } from './submit-notice';

/** Public notice API (SPEC §7). */
export function noticesPublicApi(deps: AppDeps): Router {
  const r = Router();
  const intakeLimit = rateLimit(deps, 'intake', deps.config.policy.intakePerHour, 3600);

  r.post('/notices', intakeLimit, async (req, res) => {
    const key = req.get('Idempotency-Key');
    if (key !== undefined && !/^[\x21-\x7e]{1,200}$/.test(key)) {
      throw AppError.validation([{ field: 'Idempotency-Key', message: 'Use 1 to 200 visible ASCII characters.' }]);
    }
    const dto = await validateBody(NoticeDto, req.body);
    if (dto.website) throw AppError.validation([{ field: 'website', message: 'Leave this field empty.' }]);
    const { answer, replayed } = await submitNotice(deps, {
      dto,
      channel: 'api',
      context: requestContext(req),
      idempotencyKey: key,
      grouped: true,
    });
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(201).location(answer.statusUrl).json(answer);
  });

  r.get('/notices/:reference', async (req, res, next) => {
    if (req.query.token === undefined && req.headers.authorization) return next(); // the staff API handles it
    const notice = await findForComplainant(deps.db.manager, req.params.reference, req.query.token);
    res.setHeader('Cache-Control', 'no-store');
    res.json(complainantJson(await complainantView(deps.db.manager, notice)));
  });

  return r;
}
