import { Gauge } from 'prom-client';
import type { AppDeps } from '../../deps';
import { countByStatus, oldestQueuedAgeSeconds } from './outbox.queries';

/**
 * Outbox gauges on /metrics, read from the database at scrape time (so every instance reports the
 * whole outbox, not only what it sent). A scrape while the database is down reports nothing new
 * rather than failing the whole page.
 */
export function registerMailMetrics(deps: Pick<AppDeps, 'db' | 'metrics' | 'logger'>): void {
  new Gauge({
    name: 'takedown_outbox_emails',
    help: 'Emails in the outbox by status (queued includes those being sent)',
    labelNames: ['status'],
    registers: [deps.metrics],
    async collect() {
      try {
        const counts = await countByStatus(deps.db.manager);
        for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
      } catch (err) {
        deps.logger.warn({ err: String(err) }, 'outbox metrics: database not reachable');
      }
    },
  });
  new Gauge({
    name: 'takedown_outbox_oldest_queued_age_seconds',
    help: 'Age of the oldest queued email in seconds (0 when the queue is empty)',
    registers: [deps.metrics],
    async collect() {
      try {
        this.set(await oldestQueuedAgeSeconds(deps.db.manager));
      } catch (err) {
        deps.logger.warn({ err: String(err) }, 'outbox metrics: database not reachable');
      }
    },
  });
}
