import express, { NextFunction, Request, Response, Router } from 'express';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { requestContext } from '../../shared/http';
import { requireBearer, requireRole } from '../../http/guards';
import { INBOUND_STATUSES } from './inbound-email.entity';
import { findInbound, InboundRow, listInbound } from './inbound.queries';
import { createInboundWorker } from './inbound-worker';
import { storeInboundEmail } from './store-inbound-email';

/** How long POST waits for the message to be read before answering with `received` (the job goes on). */
const ANSWER_WITHIN_MS = 5_000;

/** The API shape of one inbound email (SPEC §12). */
export function inboundJson(row: InboundRow) {
  const x = (row.extracted ?? {}) as Record<string, unknown>;
  return {
    id: row.id,
    messageId: row.message_id,
    from: row.from_address,
    fromName: row.from_name,
    to: row.to,
    subject: row.subject,
    receivedAt: row.received_at,
    wayIn: row.way_in,
    size: row.size,
    status: row.status,
    reason: row.reason,
    noticeReference: row.notice_reference,
    auth: { spf: row.auth?.spf ?? 'none', dkim: row.auth?.dkim ?? 'none', dmarc: row.auth?.dmarc ?? 'none' },
    extracted: row.extracted
      ? {
          infringingUrls: x.infringingUrls ?? [],
          originalUrls: x.originalUrls ?? [],
          goodFaith: x.goodFaith ?? false,
          accuracy: x.accuracy ?? false,
          signature: x.signature ?? null,
          name: x.name ?? null,
          organization: x.organization ?? null,
          phone: x.phone ?? null,
          address: x.address ?? null,
          role: x.role ?? null,
          missing: x.missing ?? [],
        }
      : null,
  };
}

/**
 * The mailbox API: `POST /inbound-emails` takes a raw RFC 822 message (`message/rfc822`; admins,
 * for a Postfix pipe or a provider's forwarding hook), stores it, reads it and answers `202`;
 * `GET /inbound-emails` and `/inbound-emails/:id` for moderators and admins.
 */
export function inboundApi(deps: AppDeps): Router {
  const r = Router();
  const bearer = requireBearer(deps.db);
  const worker = createInboundWorker(deps);
  const raw = express.raw({ type: () => true, limit: deps.config.inbound.maxBytes });
  const readRaw = (req: Request, res: Response, next: NextFunction) =>
    raw(req, res, (err?: unknown) => {
      const e = err as { type?: string } | undefined;
      if (e?.type === 'entity.too.large') {
        return next(
          new AppError('INBOUND.TOO_LARGE', `The message is larger than INBOUND_MAX_BYTES (${deps.config.inbound.maxBytes} bytes).`, 413, {
            errors: [{ field: 'body', message: 'The message is too large.' }],
          }),
        );
      }
      next(err);
    });

  r.post(
    '/inbound-emails',
    bearer,
    requireRole('admin'),
    (req, _res, next) => {
      if (!req.is('message/rfc822')) {
        throw new AppError('INBOUND.CONTENT_TYPE', 'Send the raw message with Content-Type: message/rfc822.', 415, {
          errors: [{ field: 'Content-Type', message: 'Must be message/rfc822.' }],
        });
      }
      next();
    },
    readRaw,
    async (req, res) => {
      const body = req.body;
      if (!Buffer.isBuffer(body) || body.length === 0)
        throw AppError.validation([{ field: 'body', message: 'The request body must be the raw RFC 822 message.' }]);
      const user = req.user!;
      const stored = await withTransaction(deps.db, (tx) =>
        storeInboundEmail(tx, body, 'api', {
          at: deps.clock.now(),
          actor: { type: 'user', id: user.id, label: user.email, role: user.role },
          context: requestContext(req),
          envelope: {},
        }),
      );
      if (!stored.duplicate) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([worker.processNow(stored.id), new Promise((resolve) => (timer = setTimeout(resolve, ANSWER_WITHIN_MS)))]);
        clearTimeout(timer);
      }
      const row = await findInbound(deps.db.manager, stored.id);
      res.status(202).json({ id: stored.id, status: row!.status, noticeReference: row!.notice_reference, duplicate: stored.duplicate });
    },
  );

  r.get('/inbound-emails', bearer, requireRole('admin', 'moderator'), async (req, res) => {
    const status = typeof req.query.status === 'string' && req.query.status ? req.query.status : undefined;
    if (status && !(INBOUND_STATUSES as readonly string[]).includes(status)) {
      throw AppError.validation([{ field: 'status', message: `One of: ${INBOUND_STATUSES.join(', ')}.` }]);
    }
    const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : undefined;
    const page = await listInbound(deps.db.manager, { status, cursor });
    res.setHeader('Cache-Control', 'no-store');
    res.json({ emails: page.rows.map(inboundJson), nextCursor: page.nextCursor });
  });

  r.get('/inbound-emails/:id', bearer, requireRole('admin', 'moderator'), async (req, res) => {
    const row = await findInbound(deps.db.manager, String(req.params.id));
    if (!row) throw AppError.notFound('Inbound email', 'INBOUND.NOT_FOUND');
    res.setHeader('Cache-Control', 'no-store');
    res.json(inboundJson(row));
  });

  return r;
}
