import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { submitterToken } from '../../http/submitter-guards';
import { AppError } from '../../shared/errors';
import { requestContext } from '../../shared/http';
import { submitterActor } from '../submitters';
import { deleteWebhook, enableWebhook, registerWebhook, webhookOf } from './manage-webhooks';
import { deliveriesOf, webhookJson, webhooksOf } from './webhooks.queries';

/**
 * `POST /api/v1/webhooks {"url","events"}` → 201 with the signing secret (shown once), `GET` (list),
 * `GET /:id` (with its delivery log), `DELETE /:id`, `POST /:id/enable` (SPEC §14): submitter tokens only.
 */
export function webhooksApi(deps: AppDeps): Router {
  const r = Router();
  r.use('/webhooks', submitterToken(deps, { handOn: false }));

  r.post('/webhooks', async (req, res) => {
    const s = req.submitter!;
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : null;
    if (!body) throw AppError.validation([{ field: '_body', message: 'The request body must be a JSON object {"url","events"}.' }]);
    const { webhook, secret } = await registerWebhook(deps, {
      submitterId: s.id,
      actor: submitterActor(s),
      url: body.url,
      events: body.events,
      context: requestContext(req),
    });
    const location = `${deps.config.publicBaseUrl}/api/v1/webhooks/${webhook.id}`;
    res
      .status(201)
      .location(location)
      .json({ ...webhookJson(webhook), secret });
  });

  r.get('/webhooks', async (req, res) => {
    const list = await webhooksOf(deps.db.manager, req.submitter!.id);
    res.json({ webhooks: list.map((w) => ({ ...webhookJson(w), pending: w.pending })) });
  });

  r.get('/webhooks/:id', async (req, res) => {
    const w = await webhookOf(deps, req.submitter!.id, String(req.params.id));
    if (!w) throw AppError.notFound('Webhook', 'WEBHOOK.NOT_FOUND');
    const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : undefined;
    if (cursor !== undefined && !/^\d{1,18}$/.test(cursor))
      throw AppError.badRequest('Bad cursor: use nextCursor from the previous page.', [
        { field: 'cursor', message: 'Use nextCursor from the previous page.' },
      ]);
    const log = await deliveriesOf(deps.db.manager, w.id, { before: cursor });
    res.json({ ...webhookJson(w), ...log });
  });

  r.delete('/webhooks/:id', async (req, res) => {
    const s = req.submitter!;
    await deleteWebhook(deps, { submitterId: s.id, id: String(req.params.id), actor: submitterActor(s), context: requestContext(req) });
    res.status(204).end();
  });

  r.post('/webhooks/:id/enable', async (req, res) => {
    const s = req.submitter!;
    await enableWebhook(deps, { submitterId: s.id, id: String(req.params.id), actor: submitterActor(s), context: requestContext(req) });
    const w = await webhookOf(deps, s.id, String(req.params.id));
    res.json(webhookJson(w!));
  });

  return r;
}
