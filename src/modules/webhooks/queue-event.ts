import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { runAsOneStatement, type WritePart } from '../../db/one-statement';
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
  await runAsOneStatement(tx, [webhookEventPart(id, e)]);
  return id;
}

/** The deliveries of event `id` as a part of a larger statement (`runAsOneStatement`). */
function webhookEventPart(id: string, e: WebhookEvent): WritePart {
  const body = JSON.stringify({ id, type: e.type, createdAt: e.at.toISOString(), data: e.data });
  const [who, value] = 'submitterId' in e.to ? ['s.id = $1::uuid', e.to.submitterId] : ['s.email = lower($1)', e.to.email];
  // The NOTIFY is in RETURNING, so it runs once per queued delivery and never when none was queued
  // (PostgreSQL folds a transaction's identical notifications into one); a data-modifying CTE runs
  // to completion, RETURNING included, whether or not the statement reads its rows.
  return (p) => {
    const type = p(e.type);
    const at = p(e.at);
    return `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, ordering_key, body, next_attempt_at, created_at)
     SELECT w.id, ${p(id)}::uuid, ${type}::text, ${p(e.orderingKey.slice(0, 100))}::text, ${p(body)}::text, ${at}::timestamptz, ${at}::timestamptz
       FROM webhooks w JOIN submitters s ON s.id = w.submitter_id
      WHERE ${who.replace('$1', p(value))} AND w.status = 'active' AND ${type}::text = ANY(w.events)
      ORDER BY w.id
     RETURNING pg_notify(${p(WEBHOOK_CHANNEL)}::text, '')`;
  };
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
  // One statement each: `notice.decided` gets the later id, so it is delivered after `status_changed`.
  for (const part of noticeEventParts(deps, notice, { ...c, targets })) await runAsOneStatement(tx, [part]);
}

/**
 * `queueNoticeEvents` for a notice whose targets the caller has in hand (a new notice: its targets
 * are written in the same statement, so they cannot be read back): the events as parts of the
 * caller's statement (`runAsOneStatement`, issue 18). When nobody listens, the parts insert nothing.
 * Targets in their order (`position`), each with its outcome. Two parts (a decision) must run one
 * after the other, as `queueNoticeEvents` does: the parts of one statement have no order of ids.
 */
export function noticeEventParts(
  deps: Pick<AppDeps, 'config'>,
  notice: NoticeLike,
  c: { from: string | null; at: Date; targets: { url: string; outcome: string }[] },
): WritePart[] {
  if (c.from === notice.status) return [];
  const data = {
    reference: notice.reference,
    status: notice.status,
    previousStatus: c.from,
    decision: notice.decision ?? null,
    decidedAt: notice.decidedAt ? new Date(notice.decidedAt).toISOString() : null,
    url: `${deps.config.publicBaseUrl}/portal/notices/${notice.reference}`,
    targets: c.targets.map((t) => ({ url: t.url, outcome: t.outcome })),
  };
  const base = { to: { email: notice.email }, orderingKey: `notice:${notice.reference}`, data, at: c.at };
  const types: WebhookEventType[] = DECIDED.has(notice.status) ? ['notice.status_changed', 'notice.decided'] : ['notice.status_changed'];
  return types.map((type) => webhookEventPart(randomUUID(), { ...base, type }));
}
