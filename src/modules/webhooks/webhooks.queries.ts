import type { EntityManager } from 'typeorm';
import type { Webhook, WebhookStatus } from './webhook.entity';
import type { DeliveryStatus } from './webhook-delivery.entity';

/** The submitter's webhooks, as shown to them (never the secret). */
export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  status: string;
  secretPrefix: string;
  createdAt: Date;
  lastStatusCode: number | null;
  lastAttemptAt: Date | null;
  consecutiveFailures: number;
  disabledAt: Date | null;
  disabledReason: string | null;
  pending: number;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  orderingKey: string;
  status: string;
  attempts: number;
  createdAt: Date;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
}

export async function webhooksOf(q: EntityManager, submitterId: string): Promise<WebhookView[]> {
  const rows = await q.query(
    `SELECT w.id, w.url, w.events, w.status, w.secret_prefix, w.created_at, w.last_status_code, w.last_attempt_at,
            w.consecutive_failures, w.disabled_at, w.disabled_reason,
            (SELECT count(*)::int FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending') AS pending
       FROM webhooks w WHERE w.submitter_id = $1 ORDER BY w.created_at, w.id`,
    [submitterId],
  );
  return rows.map(toView);
}

export function toView(r: Record<string, any>): WebhookView {
  return {
    id: r.id,
    url: r.url,
    events: r.events,
    status: r.status,
    secretPrefix: r.secret_prefix,
    createdAt: r.created_at,
    lastStatusCode: r.last_status_code,
    lastAttemptAt: r.last_attempt_at,
    consecutiveFailures: r.consecutive_failures,
    disabledAt: r.disabled_at,
    disabledReason: r.disabled_reason,
    pending: r.pending ?? 0,
  };
}

export const webhookJson = (w: WebhookView | Webhook) => ({
  id: w.id,
  url: w.url,
  events: w.events,
  status: w.status,
  secretPrefix: w.secretPrefix,
  createdAt: w.createdAt,
  lastStatusCode: w.lastStatusCode,
  lastAttemptAt: w.lastAttemptAt,
  disabledAt: w.disabledAt,
  disabledReason: w.disabledReason,
});

/** The delivery log of one webhook, newest first (keyset on the serial id). */
export async function deliveriesOf(
  q: EntityManager,
  webhookId: string,
  opts: { before?: string; limit?: number } = {},
): Promise<{ deliveries: DeliveryView[]; nextCursor: string | null }> {
  const limit = opts.limit ?? 50;
  const before = opts.before && /^\d{1,18}$/.test(opts.before) ? opts.before : null;
  const rows = await q.query(
    `SELECT id, event_id, event_type, ordering_key, status, attempts, created_at, last_attempt_at, last_status_code, last_error,
            next_attempt_at, delivered_at
       FROM webhook_deliveries WHERE webhook_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
      ORDER BY id DESC LIMIT $3`,
    [webhookId, before, limit + 1],
  );
  const page = rows.slice(0, limit).map((r: Record<string, any>) => ({
    id: String(r.id),
    eventId: r.event_id,
    eventType: r.event_type,
    orderingKey: r.ordering_key,
    status: r.status,
    attempts: r.attempts,
    createdAt: r.created_at,
    lastAttemptAt: r.last_attempt_at,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
    deliveredAt: r.delivered_at,
  }));
  return { deliveries: page, nextCursor: rows.length > limit ? page[page.length - 1].id : null };
}

/** What the webhook gauges on /metrics report (one statement a scrape, see webhook-metrics.ts). */
export interface WebhookCounts {
  deliveries: Partial<Record<DeliveryStatus, number>>;
  /** Pending deliveries due now (by the database's clock): the queue the workers are behind on. */
  due: number;
  /** Seconds since the oldest due delivery became due (0 when none is). */
  oldestDueSeconds: number;
  webhooks: Partial<Record<WebhookStatus, number>>;
}

export async function webhookCounts(m: EntityManager): Promise<WebhookCounts> {
  const [row] = await m.query(
    `SELECT (SELECT coalesce(json_object_agg(status, n), '{}') FROM (SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status) d) AS deliveries,
            (SELECT count(*)::int FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()) AS due,
            (SELECT extract(epoch FROM now() - min(next_attempt_at))::float8 FROM webhook_deliveries
              WHERE status = 'pending' AND next_attempt_at <= now()) AS oldest_due,
            (SELECT coalesce(json_object_agg(status, n), '{}') FROM (SELECT status, count(*)::int AS n FROM webhooks GROUP BY status) w) AS webhooks`,
  );
  return { deliveries: row.deliveries, due: row.due, oldestDueSeconds: Math.max(0, row.oldest_due ?? 0), webhooks: row.webhooks };
}
