import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { noStore, requestContext } from '../../shared/http';

import { EMAIL_STATUSES, OutboundEmail } from './outbound-email.entity';
import { countByStatus, findEmail, isEmailStatus, listEmails } from './outbox.queries';
import { createEmailRenderer, EmailRenderer, RenderedEmail } from './render';
import { retryEmail, retryFailedEmails } from './retry-email';
import { describeSmtpUrl, messageIdFor } from './transport';
import { requireRole, requireStaff } from '../../http/guards';
import { actorFrom } from '../../http/actor';

/** The HTML part is the email's own markup: shown only in a sandbox that can run and load nothing. */
const EMAIL_HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox";

/**
 * `/outbox` (admin): the built-in mail catcher of the embedded default and the delivery monitor in
 * production. Lists emails with their state; shows each one rendered (HTML in a sandboxed frame,
 * text in a <pre>); failed ones can be retried (audited).
 */
export function outboxRoutes(deps: AppDeps, renderer?: EmailRenderer): Router {
  const r = Router();
  const emails = renderer ?? createEmailRenderer({ baseUrl: deps.config.publicBaseUrl, cache: deps.config.env === 'production' });
  const delivery = deps.config.smtpUrl
    ? `sent through SMTP at ${describeSmtpUrl(deps.config.smtpUrl)}`
    : 'local store: no SMTP_URL is set, so emails are kept here and marked delivered, not sent';

  const tryRender = (e: OutboundEmail): { rendered?: RenderedEmail; renderError?: string } => {
    try {
      return { rendered: emails.render(e.template, e.data ?? {}) };
    } catch (err) {
      return { renderError: err instanceof Error ? err.message : String(err) };
    }
  };

  r.use('/outbox', noStore, requireStaff, requireRole('admin'));

  r.get('/outbox', async (req, res) => {
    const status = isEmailStatus(req.query.status) ? req.query.status : undefined;
    const { emails: rows, nextCursor } = await listEmails(deps.db.manager, {
      status,
      cursor: typeof req.query.cursor === 'string' ? req.query.cursor : undefined,
    });
    const counts = await countByStatus(deps.db.manager);
    res.render('outbox/index', {
      title: 'Outbox',
      delivery,
      status,
      counts,
      total: counts.queued + counts.sent + counts.failed,
      statuses: EMAIL_STATUSES.map((s) => ({ value: s, count: counts[s], selected: s === status })),
      emails: rows.map((e) => ({ ...e, subject: tryRender(e).rendered?.subject })),
      nextUrl: nextCursor ? `/outbox?${new URLSearchParams({ ...(status ? { status } : {}), cursor: nextCursor })}` : undefined,
    });
  });

  r.get('/outbox/:id', async (req, res) => {
    const email = await findEmail(deps.db.manager, String(req.params.id));
    if (!email) throw AppError.notFound('Email', 'EMAIL.NOT_FOUND');
    const { rendered, renderError } = tryRender(email);
    res.render('outbox/show', {
      title: rendered?.subject ? `Email: ${rendered.subject}` : 'Email',
      email,
      from: deps.config.mailFrom,
      messageId: messageIdFor(email.id, deps.config.mailFrom),
      rendered,
      renderError,
      data: JSON.stringify(email.data, null, 2),
      failed: email.status === 'failed',
    });
  });

  // The HTML part alone, for the sandboxed frame on the page above: its own strict headers.
  r.get('/outbox/:id/html', async (req, res) => {
    const email = await findEmail(deps.db.manager, String(req.params.id));
    if (!email) throw AppError.notFound('Email', 'EMAIL.NOT_FOUND');
    const { rendered, renderError } = tryRender(email);
    res.setHeader('Content-Security-Policy', EMAIL_HTML_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'SAMEORIGIN');
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (!rendered) return res.status(500).type('text/plain').send(`This email cannot be rendered: ${renderError}`);
    res.type('text/html; charset=utf-8').send(rendered.html);
  });

  r.post('/outbox/retry-failed', async (req, res) => {
    const n = await withTransaction(deps.db, (tx) =>
      retryFailedEmails(tx, { actor: actorFrom(req), context: requestContext(req), at: deps.clock.now() }),
    );
    req.session.flash = {
      kind: 'ok',
      message: n ? `${n} failed email${n === 1 ? ' is' : 's are'} queued again.` : 'There is no failed email to retry.',
    };
    res.redirect(303, '/outbox?status=queued');
  });

  r.post('/outbox/:id/retry', async (req, res) => {
    const email = await withTransaction(deps.db, (tx) =>
      retryEmail(tx, { id: String(req.params.id), actor: actorFrom(req), context: requestContext(req), at: deps.clock.now() }),
    );
    req.session.flash = { kind: 'ok', message: `The email to ${email.to} is queued again; the worker sends it within seconds.` };
    res.redirect(303, `/outbox/${email.id}`);
  });

  return r;
}
