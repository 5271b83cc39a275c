import { Counter, Gauge, type Registry } from 'prom-client';
import type { AppDeps } from '../../deps';
import { DELIVERY_STATUSES } from './webhook-delivery.entity';
import { WEBHOOK_STATUSES } from './webhook.entity';
import { webhookCounts, type WebhookCounts } from './webhooks.queries';

/**
 * Webhook gauges on /metrics (SPEC §14), read from the database at scrape time, so every instance
 * reports the whole outbox: deliveries by outcome (`pending` = waiting or retrying, `delivered`,
 * `failed`), the queue (pending deliveries due now, and how long the oldest has been due) and
 * webhooks by status (`disabled`: after a delivery failed for the whole retry window). One
 * statement serves every gauge of a scrape, and nothing is cached between scrapes. A scrape while the database is down reports nothing
 * new rather than failing the whole page.
 */
export function registerWebhookMetrics(deps: Pick<AppDeps, 'db' | 'metrics' | 'logger'>): void {
  // A scrape collects every gauge at once (prom-client: Promise.all): they share the read in flight.
  let reading: Promise<WebhookCounts | null> | null = null;
  const counts = () =>
    (reading ??= webhookCounts(deps.db.manager)
      .catch((err) => {
        deps.logger.warn({ err: String(err) }, 'webhook metrics: database not reachable');
        return null;
      })
      .finally(() => {
        reading = null;
      }));
  new Gauge({
    name: 'takedown_webhook_deliveries',
    help: 'Webhook deliveries in the outbox by status (pending: waiting or retrying; delivered; failed)',
    labelNames: ['status'],
    registers: [deps.metrics],
    async collect() {
      const c = await counts();
      if (c) for (const s of DELIVERY_STATUSES) this.set({ status: s }, c.deliveries[s] ?? 0);
    },
  });
  new Gauge({
    name: 'takedown_webhook_queue_due',
    help: 'Pending webhook deliveries due now (the queue depth the workers are behind on)',
    registers: [deps.metrics],
    async collect() {
      const c = await counts();
      if (c) this.set(c.due);
    },
  });
  new Gauge({
    name: 'takedown_webhook_queue_oldest_due_age_seconds',
    help: 'Seconds since the oldest due webhook delivery became due (0 when none is due)',
    registers: [deps.metrics],
    async collect() {
      const c = await counts();
      if (c) this.set(c.oldestDueSeconds);
    },
  });
  new Gauge({
    name: 'takedown_webhooks',
    help: 'Registered webhooks by status (disabled: a delivery still failed after the retry window)',
    labelNames: ['status'],
    registers: [deps.metrics],
    async collect() {
      const c = await counts();
      if (c) for (const s of WEBHOOK_STATUSES) this.set({ status: s }, c.webhooks[s] ?? 0);
    },
  });
}

/**
 * This process's delivery attempts by outcome (`delivered`, `retried`, `failed`, `lost`), counted
 * by the delivery worker: the rate at which receivers answer, which the outbox gauges cannot show.
 * One counter per registry, however many workers share it.
 */
export function deliveryAttemptsCounter(metrics: Registry): Counter<'outcome'> {
  const name = 'takedown_webhook_delivery_attempts_total';
  return (
    (metrics.getSingleMetric(name) as Counter<'outcome'> | undefined) ??
    new Counter({
      name,
      help: 'Webhook delivery attempts by this process, by outcome (delivered, retried, failed, lost)',
      labelNames: ['outcome'],
      registers: [metrics],
    })
  );
}
