import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import type { WebhookEventType } from './webhook.entity';

export interface WebhookEvent {
  type: WebhookEventType;
  /** Whose webhooks get it: the submitter's id, or the notice's (verified) address. */
  to: { submitterId: string } | { email: string };
  /** Events with the same key are delivered to a webhook in the order they were queued. */
  orderingKey: string;
  data: Record<string, unknown>;
  at: Date;
}

/** The channel the delivery workers LISTEN on: a committed delivery is sent at once, not at the next poll. */
export const WEBHOOK_CHANNEL = 'td_webhook_delivery';

/**
 * Queues an event for every active webhook subscribed to it, in the caller's transaction: the
 * deliveries commit (and roll back) with the change. Nothing is sent here; the delivery worker
 * sends after commit, woken by the NOTIFY of the same statement (PostgreSQL delivers it at commit,
 * and not at all on rollback; sent only when a delivery was queued). Polling every second is the
 * fallback. Returns the event id (also when nobody listens).
 */
export async function queueWebhookEvent(tx: EntityManager, e: WebhookEvent): Promise<string> {
  const id = randomUUID();
  const body = JSON.stringify({ id, type: e.type, createdAt: e.at.toISOString(), data: e.data });
  const [who, value] = 'submitterId' in e.to ? ['s.id = $1::uuid', e.to.submitterId] : ['s.email = lower($1)', e.to.email];
  await tx.query(
    `WITH queued AS (
       INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, ordering_key, body, next_attempt_at, created_at)
       SELECT w.id, $2::uuid, $3::text, $4::text, $5::text, $6::timestamptz, $6::timestamptz
         FROM webhooks w JOIN submitters s ON s.id = w.submitter_id
        WHERE ${who} AND w.status = 'active' AND $3::text = ANY(w.events)
        ORDER BY w.id
       RETURNING 1)
     SELECT pg_notify($7::text, '') WHERE EXISTS (SELECT 1 FROM queued)`,
    [value, id, e.type, e.orderingKey.slice(0, 100), body, e.at, WEBHOOK_CHANNEL],
  );
  return id;
}

/** What `queueNoticeEvents` reads of a notice (the notices module's entity fits it). */
export interface NoticeLike {
  id: string;
  reference: string;
  email: string;
  status: string;
  decision: string | null;
  decidedAt: Date | null;
}

/** Statuses a moderator's (or the deadline's) decision leads to: they also send `notice.decided`. */
const DECIDED = new Set(['approved', 'rejected', 'spam']);

/**
 * THE hook of the notice use cases (intake, review, counter-notices, complaints): call it in the
 * change's transaction after the notice's status and its targets' outcomes are written. Queues
 * `notice.status_changed` (from `from`; null for a new notice) and, when the new status is a
 * decision, `notice.decided`, for the webhooks of the submitter whose address sent the notice.
 * The data carries the per-URL outcomes.
 */
export async function queueNoticeEvents(
  tx: EntityManager,
  deps: Pick<AppDeps, 'config'>,
  notice: NoticeLike,
  c: { from: string | null; at: Date },
): Promise<void> {
  if (c.from === notice.status) return;
  // Cheap when nobody listens: one indexed look-up before the targets are read.
  const [listens] = await tx.query(
    `SELECT 1 FROM webhooks w JOIN submitters s ON s.id = w.submitter_id WHERE s.email = lower($1) AND w.status = 'active' LIMIT 1`,
    [notice.email],
  );
  if (!listens) return;
  const targets: { url: string; outcome: string }[] = await tx.query(
    `SELECT url, outcome FROM notice_targets WHERE notice_id = $1 ORDER BY position, id`,
    [notice.id],
  );
  const data = {
    reference: notice.reference,
    status: notice.status,
    previousStatus: c.from,
    decision: notice.decision,
    decidedAt: notice.decidedAt ? new Date(notice.decidedAt).toISOString() : null,
    url: `${deps.config.publicBaseUrl}/portal/notices/${notice.reference}`,
    targets,
  };
  const base = { to: { email: notice.email }, orderingKey: `notice:${notice.reference}`, data, at: c.at };
  await queueWebhookEvent(tx, { ...base, type: 'notice.status_changed' });
  if (DECIDED.has(notice.status)) await queueWebhookEvent(tx, { ...base, type: 'notice.decided' });
}
