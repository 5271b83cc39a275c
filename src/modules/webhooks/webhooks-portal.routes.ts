import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { requireSubmitter } from '../../http/submitter-guards';
import { AppError } from '../../shared/errors';
import { errorsByField, requestContext } from '../../shared/http';
import { submitterActor } from '../submitters';
import { deleteWebhook, enableWebhook, registerWebhook, webhookOf } from './manage-webhooks';
import { WEBHOOK_EVENTS } from './webhook.entity';
import { deliveriesOf, webhooksOf } from './webhooks.queries';

/** The portal's webhook pages (behind the portal's session and CSRF): register, list, delivery log, delete, enable. */
export function webhooksPortalPages(deps: AppDeps): Router {
  const r = Router();

  const listView = async (submitterId: string, extra: Record<string, unknown> = {}) => {
    const values = (extra.values as { url?: string; events?: string[] } | undefined) ?? { events: [...WEBHOOK_EVENTS] };
    return {
      title: 'Your webhooks',
      webhooks: await webhooksOf(deps.db.manager, submitterId),
      eventChoices: WEBHOOK_EVENTS.map((e) => ({ value: e, checked: (values.events ?? []).includes(e) })),
      values,
      ...extra,
    };
  };

  r.get('/webhooks', requireSubmitter, async (req, res) => {
    res.render('portal/webhooks', await listView(req.submitter!.id));
  });

  r.post('/webhooks', requireSubmitter, async (req, res) => {
    const s = req.submitter!;
    const raw = req.body?.events;
    const events = Array.isArray(raw) ? raw.map(String) : raw === undefined ? [] : [String(raw)];
    const input = { url: String(req.body?.url ?? '').slice(0, 2100), events };
    let registered;
    try {
      registered = await registerWebhook(deps, { submitterId: s.id, actor: submitterActor(s), ...input, context: requestContext(req) });
    } catch (e) {
      if (!(e instanceof AppError && e.status === 422 && e.details.errors)) throw e;
      const errors = e.details.errors;
      const errorList = errors.map((x) => ({ field: x.field === 'events' ? 'events-0' : x.field, message: x.message }));
      return res.status(422).render('portal/webhooks', await listView(s.id, { values: input, errors: errorsByField(errors), errorList }));
    }
    const { webhook, secret } = registered;
    req.session.flash = {
      kind: 'ok',
      message: `Webhook to ${webhook.url} registered. Copy its signing secret now: it is shown only once.`,
      secret,
    };
    res.redirect(303, '/portal/webhooks');
  });

  r.get('/webhooks/:id', requireSubmitter, async (req, res) => {
    const w = await webhookOf(deps, req.submitter!.id, String(req.params.id));
    if (!w) throw AppError.notFound('Webhook', 'WEBHOOK.NOT_FOUND');
    const cursor = typeof req.query.cursor === 'string' && /^\d{1,18}$/.test(req.query.cursor) ? req.query.cursor : undefined;
    const log = await deliveriesOf(deps.db.manager, w.id, { before: cursor });
    res.render('portal/webhook', {
      title: `Webhook to ${w.url}`,
      webhook: w,
      deliveries: log.deliveries,
      nextUrl: log.nextCursor ? `/portal/webhooks/${w.id}?cursor=${log.nextCursor}` : null,
    });
  });

  r.post('/webhooks/:id/delete', requireSubmitter, async (req, res) => {
    const s = req.submitter!;
    await deleteWebhook(deps, { submitterId: s.id, id: String(req.params.id), actor: submitterActor(s), context: requestContext(req) });
    req.session.flash = { kind: 'ok', message: 'The webhook was deleted.' };
    res.redirect(303, '/portal/webhooks');
  });

  r.post('/webhooks/:id/enable', requireSubmitter, async (req, res) => {
    const s = req.submitter!;
    await enableWebhook(deps, { submitterId: s.id, id: String(req.params.id), actor: submitterActor(s), context: requestContext(req) });
    req.session.flash = { kind: 'ok', message: 'The webhook is enabled again; the events that waited are sent in order.' };
    res.redirect(303, `/portal/webhooks/${String(req.params.id)}`);
  });

  return r;
}
