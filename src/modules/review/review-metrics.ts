import { Gauge } from 'prom-client';
import type { AppDeps } from '../../deps';
import { queueCountsCache } from './queue-counts-cache';

/** Queue gauges on /metrics, read at scrape time: notices per queue status, and overdue ones (SLA). */
export function registerReviewMetrics(deps: Pick<AppDeps, 'db' | 'metrics' | 'logger' | 'clock' | 'config'>): void {
  // Both gauges are collected in one scrape: one (shared, briefly cached) query serves them.
  const cached = queueCountsCache(deps);
  const counts = () =>
    cached().catch((err) => {
      deps.logger.warn({ err: String(err) }, 'queue metrics: database not reachable');
      return null;
    });
  new Gauge({
    name: 'takedown_queue_notices',
    help: 'Notices in the review queue by status',
    labelNames: ['status'],
    registers: [deps.metrics],
    async collect() {
      const c = await counts();
      if (c) for (const [status, n] of Object.entries(c.byStatus)) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'takedown_queue_overdue_notices',
    help: 'Pending and in-review notices past their SLA due time',
    registers: [deps.metrics],
    async collect() {
      const c = await counts();
      if (c) this.set(c.overdue);
    },
  });
}
