import type { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { enqueue } from '../mail';

/** The submitter's email when their webhook is disabled (in the transaction that moves it active → disabled, so once). */
export async function queueWebhookDisabledEmail(
  tx: EntityManager,
  deps: Pick<AppDeps, 'config'>,
  w: { id: string; url: string; email: string; reason: string; lastStatusCode: number | null; lastError: string | null; pending: number },
): Promise<void> {
  await enqueue(tx, 'webhook-disabled', w.email, {
    url: w.url,
    reason: w.reason,
    lastStatusCode: w.lastStatusCode,
    lastError: w.lastError ?? 'no answer',
    pending: w.pending,
    webhooksUrl: `${deps.config.publicBaseUrl}/portal/webhooks/${w.id}`,
  });
}
