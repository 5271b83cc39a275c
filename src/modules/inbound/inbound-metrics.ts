import { Gauge } from 'prom-client';
import type { AppDeps } from '../../deps';
import { countByStatus } from './inbound.queries';
import { INBOUND_STATUSES } from './inbound-email.entity';

/**
 * Mailbox gauges on /metrics (SPEC §12), read from the database at scrape time: messages by status
 * (`received` = stored, waiting to be read; `notice_created`, `incomplete`, `reply_attached` =
 * read; `ignored`; `failed`).
 */
export function registerInboundMetrics(deps: Pick<AppDeps, 'db' | 'metrics' | 'logger'>): void {
  new Gauge({
    name: 'takedown_inbound_emails',
    help: 'Inbound emails by status (received: waiting to be read)',
    labelNames: ['status'],
    registers: [deps.metrics],
    async collect() {
      try {
        const counts = await countByStatus(deps.db.manager);
        for (const s of INBOUND_STATUSES) this.set({ status: s }, counts[s] ?? 0);
      } catch (err) {
        deps.logger.warn({ err: String(err) }, 'inbound metrics: database not reachable');
      }
    },
  });
}
