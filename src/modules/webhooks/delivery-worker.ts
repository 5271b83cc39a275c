import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Config } from '../../config';
import { createLeaseHolder, LeaseHolder } from '../../db/leases';
import { createListener } from '../../db/listen';
import { withTransaction } from '../../db/transaction';
import type { Clock } from '../../shared/clock';
import { record } from '../audit';
import { secretsBox } from './manage-webhooks';
import { WEBHOOK_CHANNEL } from './queue-event';
import { deliveryAttemptsCounter } from './webhook-metrics';
import { sendWebhook, SendResult } from './send-webhook';
import { queueWebhookDisabledEmail } from './webhook-emails';

/**
 * The webhook delivery worker: drains the webhook outbox (`webhook_deliveries`). Safe with any
 * number of instances. The mail outbox's cycle (claim → send → record; see mail-worker.ts), per
 * delivery instead of per batch, so that no receiver waits for another:
 *  1. claim — one short statement through the shared claims (`src/db/leases.ts`), `FOR UPDATE SKIP
 *     LOCKED`, `claimed_by` = this process, `attempts + 1`; it commits at once, so no transaction is
 *     open while a receiver is called. Claimable: due, its webhook active, no earlier pending
 *     delivery of the same (webhook, ordering key) — so a later event for a notice waits for the
 *     earlier one, whichever instance holds it — and its webhook below `perReceiver` in flight here.
 *     If the process dies, its claims are free CLAIM_LEASE_SECONDS after its last heartbeat.
 *  2. send — each claimed delivery on its own (`sendWebhook`: signed, SSRF-guarded on the connected
 *     address, no redirects, WEBHOOK_TIMEOUT_SECONDS), up to `concurrency` at once and `perReceiver`
 *     to one webhook. A slot that frees is refilled at once: a hanging or failing receiver holds at
 *     most `perReceiver` slots for at most the timeout, and never the others' deliveries. Not
 *     started once our lease may have run out (`leases.holds`): handed back instead.
 *  3. record — each outcome on its own, matched on `claimed_by` and `attempts` (a worker that lost
 *     its lease cannot overwrite a newer claim's outcome): 2xx → `delivered`; otherwise pending
 *     again after an exponential, jittered back-off; still failing WEBHOOK_RETRY_HOURS after the
 *     event → `failed`, and in the same transaction the webhook is disabled, the submitter emailed
 *     (mail outbox) and `webhook.disabled` audited. Its other deliveries wait until it is enabled.
 * Delivery is at-least-once: a crash between the receiver's 2xx and step 3 sends it again (the
 * body, its event `id` and `Takedown-Event-Id` are the same, so receivers drop the copy).
 *
 * Latency: `queueWebhookEvent` NOTIFYs at commit; `listen()` wakes the worker at once (as the edge
 * purge worker is woken), so a delivery leaves in one round trip, not at the next poll. A wake-up
 * during a drain is never lost: the drain goes round once more before it ends. Polling (the job
 * runner, every second) is the fallback while the LISTEN connection is down, and the clock for
 * retries.
 */

export interface WebhookWorkerDeps {
  db: DataSource;
  config: Config;
  logger: Logger;
  clock: Clock;
  sessionSecret: string;
  /** The process's claims (server.ts passes `container.leases`); default: the worker registers its own. */
  leases?: LeaseHolder;
  /** Where the attempts counter goes (`takedown_webhook_delivery_attempts_total`); none: not counted. */
  metrics?: Registry;
}

export interface WebhookWorkerOptions {
  /** Deliveries in flight at once (default WEBHOOK_CONCURRENCY). */
  concurrency?: number;
  /** Deliveries in flight to one webhook (default half of `concurrency`: a stuck receiver leaves the other half to the rest). */
  perReceiver?: number;
  timeoutMs?: number;
  /** First retry delay (default 10 s), doubled each attempt, capped at `retryMaxMs` (default 1 hour). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** With its own claims only: their lease (default CLAIM_LEASE_SECONDS) and heartbeat. */
  leaseMs?: number;
  heartbeatMs?: number;
  /** How often a drain with deliveries in flight looks for newly due ones (default 100 ms). */
  pollMs?: number;
  /** Source of jitter, 0 ≤ x < 1. */
  random?: () => number;
}

export interface DeliveryResult {
  claimed: number;
  delivered: number;
  retried: number;
  failed: number;
  /** Outcomes not written: the lease was lost, or the webhook deleted meanwhile. */
  lost: number;
}

export interface WebhookWorker {
  /** Sends everything due, until nothing is due and nothing is in flight. One drain at a time per worker. */
  drain(): Promise<DeliveryResult>;
  /** Wakes `drain()` on every committed `queueWebhookEvent` (a dedicated LISTEN connection, reconnecting). */
  listen(): Promise<void>;
  /** Claims no more, waits for the deliveries in flight; with its own claims, releases them. */
  stop(): Promise<void>;
}

interface Claimed {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  body: string;
  attempts: number;
  created_at: Date;
  url: string | null;
  secret_sealed: string | null;
  claimed_by: string;
}

const WORKER_ACTOR = { type: 'system' as const, label: 'webhook-worker' };

export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

export function createWebhookWorker(deps: WebhookWorkerDeps, opts: WebhookWorkerOptions = {}): WebhookWorker {
  const { db, logger, clock, config } = deps;
  const ownLeases = !deps.leases;
  const leases =
    deps.leases ??
    createLeaseHolder(db, {
      leaseMs: opts.leaseMs ?? config.claimLeaseSeconds * 1000,
      heartbeatMs: opts.heartbeatMs,
      logger,
      name: 'webhook-worker',
    });
  const concurrency = opts.concurrency ?? config.webhooks.concurrency;
  const perReceiver = opts.perReceiver ?? Math.max(1, Math.floor(concurrency / 2));
  const timeoutMs = opts.timeoutMs ?? config.webhooks.timeoutMs;
  const retryBaseMs = opts.retryBaseMs ?? 10_000;
  const retryMaxMs = opts.retryMaxMs ?? 60 * 60_000;
  const windowMs = config.webhooks.retryHours * 3_600_000;
  const pollMs = opts.pollMs ?? 100;
  const random = opts.random ?? Math.random;
  const box = secretsBox(deps);
  const attempts = deps.metrics ? deliveryAttemptsCounter(deps.metrics) : null;
  const secrets = new Map<string, string>();
  const inFlight = new Map<string, Promise<void>>();
  const perWebhook = new Map<string, number>();
  let total: DeliveryResult = { claimed: 0, delivered: 0, retried: 0, failed: 0, lost: 0 };
  let stopped = false;

  function claim(now: Date, limit: number): Promise<Claimed[]> {
    const saturated = [...perWebhook].filter(([, n]) => n >= perReceiver).map(([id]) => id);
    // Due, first in its (webhook, ordering key) line, its webhook active and not at its cap. Walked
    // in next_attempt_at order and stopped at `limit`, so a claim stays cheap however long the queue.
    return leases.claim<Claimed>({
      table: 'webhook_deliveries',
      where: `t.status = 'pending' AND t.next_attempt_at <= $1
        AND t.webhook_id <> ALL($2::uuid[])
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.webhook_id = t.webhook_id AND p.ordering_key = t.ordering_key
                         AND p.status = 'pending' AND p.id < t.id)
        AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = t.webhook_id AND w.status = 'active')`,
      params: [now, saturated],
      orderBy: 't.next_attempt_at',
      limit,
      set: 'attempts = t.attempts + 1',
      returning: `t.id, t.webhook_id, t.event_id, t.event_type, t.body, t.attempts, t.created_at,
                  (SELECT w.url FROM webhooks w WHERE w.id = t.webhook_id) AS url,
                  (SELECT w.secret_sealed FROM webhooks w WHERE w.id = t.webhook_id) AS secret_sealed`,
    });
  }

  function secretOf(sealed: string): string | null {
    let s = secrets.get(sealed);
    if (s === undefined) {
      try {
        s = box.open(sealed);
      } catch {
        return null; // SESSION_SECRET changed since registration
      }
      secrets.set(sealed, s);
    }
    return s;
  }

  async function deliver(row: Claimed): Promise<void> {
    const secret = row.secret_sealed ? secretOf(row.secret_sealed) : null;
    const result: SendResult =
      !row.url || !secret
        ? { ok: false, statusCode: null, error: 'the signing secret cannot be read (SESSION_SECRET changed?): register the webhook again' }
        : await sendWebhook(
            row.url,
            row.body,
            { secret, eventId: row.event_id, eventType: row.event_type, deliveryId: row.id, now: clock.now() },
            { allowPrivate: config.webhooks.allowPrivate, timeoutMs },
          );
    const kind = await recordOutcome(row, result);
    total[kind]++;
    attempts?.inc({ outcome: kind });
  }

  async function recordOutcome(row: Claimed, r: SendResult): Promise<'delivered' | 'retried' | 'failed' | 'lost'> {
    const at = clock.now();
    const error = r.error?.slice(0, 500) ?? null;
    if (r.ok || at.getTime() - new Date(row.created_at).getTime() < windowMs) {
      const next = new Date(at.getTime() + retryDelayMs(row.attempts, retryBaseMs, retryMaxMs, random));
      const [rows] = (await db.query(
        `WITH d AS (
           UPDATE webhook_deliveries SET status = $3, last_attempt_at = $4, last_status_code = $5, last_error = $6,
                  next_attempt_at = $7, delivered_at = $8, claimed_by = NULL, claimed_at = NULL
            WHERE id = $1 AND claimed_by = $2 AND attempts = $9 AND status = 'pending' RETURNING webhook_id)
         UPDATE webhooks w SET last_status_code = $5, last_attempt_at = $4,
                consecutive_failures = CASE WHEN $3 = 'delivered' THEN 0 ELSE w.consecutive_failures + 1 END
           FROM d WHERE w.id = d.webhook_id RETURNING w.id`,
        [row.id, row.claimed_by, r.ok ? 'delivered' : 'pending', at, r.statusCode, error, r.ok ? at : next, r.ok ? at : null, row.attempts],
      )) as [unknown[], number];
      if (!rows.length) return 'lost';
      if (!r.ok) logger.info({ delivery: row.id, webhook: row.webhook_id, error }, 'webhook delivery failed; will retry');
      return r.ok ? 'delivered' : 'retried';
    }
    return giveUp(row, r, at, error);
  }

  /** Still failing after the retry window: the delivery fails, the webhook is disabled, its owner emailed. */
  function giveUp(row: Claimed, r: SendResult, at: Date, error: string | null): Promise<'failed' | 'lost'> {
    return withTransaction(db, async (tx) => {
      const [, n] = await tx.query(
        `UPDATE webhook_deliveries SET status = 'failed', last_attempt_at = $3, last_status_code = $4, last_error = $5,
                claimed_by = NULL, claimed_at = NULL
          WHERE id = $1 AND claimed_by = $2 AND attempts = $6 AND status = 'pending'`,
        [row.id, row.claimed_by, at, r.statusCode, error, row.attempts],
      );
      if (n !== 1) return 'lost';
      const reason = `a delivery (event ${row.event_type} ${row.event_id}) still failed ${config.webhooks.retryHours} hours after the event, after ${row.attempts} attempts`;
      const [[w]] = await tx.query(
        `UPDATE webhooks w SET status = 'disabled', disabled_at = $2, disabled_reason = $3, last_status_code = $4, last_attempt_at = $2,
                consecutive_failures = w.consecutive_failures + 1
           FROM submitters s WHERE w.id = $1 AND s.id = w.submitter_id AND w.status = 'active'
         RETURNING w.id, w.url, w.submitter_id, s.email,
                   (SELECT count(*)::int FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending') AS pending`,
        [row.webhook_id, at, reason, r.statusCode],
      );
      if (!w) return 'failed'; // already disabled (or deleted): nothing more to tell
      await queueWebhookDisabledEmail(tx, deps, { ...w, reason, lastStatusCode: r.statusCode, lastError: error });
      await record(tx, {
        actor: WORKER_ACTOR,
        action: 'webhook.disabled',
        subject: { type: 'webhook', id: w.id },
        details: {
          submitterId: w.submitter_id,
          url: w.url,
          deliveryId: row.id,
          eventId: row.event_id,
          attempts: row.attempts,
          lastError: error,
        },
        at,
      });
      logger.warn({ webhook: w.id, error }, 'webhook disabled after its retry window');
      return 'failed';
    });
  }

  function start(row: Claimed): void {
    perWebhook.set(row.webhook_id, (perWebhook.get(row.webhook_id) ?? 0) + 1);
    const p = deliver(row)
      .catch(async (err) => {
        // The outcome could not be written: hand it back, due again in a minute (sent again; at-least-once).
        logger.error({ err: String(err), delivery: row.id }, 'webhook outcome not recorded; handing the delivery back');
        total.lost++;
        attempts?.inc({ outcome: 'lost' });
        const later = new Date(clock.now().getTime() + 60_000).toISOString();
        await leases
          .release('webhook_deliveries', { ids: [row.id], set: `next_attempt_at = '${later}'::timestamptz` })
          .catch(() => undefined);
      })
      .finally(() => {
        inFlight.delete(row.id);
        const n = (perWebhook.get(row.webhook_id) ?? 1) - 1;
        if (n > 0) perWebhook.set(row.webhook_id, n);
        else perWebhook.delete(row.webhook_id);
      });
    inFlight.set(row.id, p);
  }

  /** Claims into the free slots, at most `perReceiver` a claim; false when nothing more is due now. */
  async function fill(): Promise<boolean> {
    while (!stopped && inFlight.size < concurrency) {
      // No more than the fullest unsaturated receiver can still take, so little is claimed only to be handed back.
      const fullest = Math.max(0, ...[...perWebhook.values()].filter((n) => n < perReceiver));
      const limit = Math.max(1, Math.min(concurrency - inFlight.size, perReceiver - fullest));
      const rows = await claim(clock.now(), limit);
      total.claimed += rows.length;
      // Not ours for sure any more (our heartbeat is late), or past a receiver's cap: handed back untried.
      const back: string[] = [];
      for (const r of rows) {
        if (!leases.holds(r.claimed_by)) {
          total.lost++;
          back.push(r.id);
        } else if ((perWebhook.get(r.webhook_id) ?? 0) >= perReceiver) back.push(r.id);
        else start(r);
      }
      if (back.length) await leases.release('webhook_deliveries', { ids: back, set: 'attempts = t.attempts - 1' });
      if (rows.length < limit || back.length === rows.length) return false;
    }
    return true;
  }

  async function drainLoop(): Promise<DeliveryResult> {
    total = { claimed: 0, delivered: 0, retried: 0, failed: 0, lost: 0 };
    for (;;) {
      again = false;
      const more = await fill();
      if (!inFlight.size && (!more || stopped)) {
        // A wake-up that came during the claim may be for a row committed after it: once more.
        if (!again || stopped) return total;
        continue;
      }
      // Wait for a slot, or look again shortly for deliveries that became due meanwhile.
      await Promise.race([...inFlight.values(), new Promise((r) => setTimeout(r, pollMs))]);
    }
  }

  let running: Promise<DeliveryResult> | null = null;
  /** Set by a drain() call while a drain runs: it must look again before it ends. */
  let again = false;
  function drain(): Promise<DeliveryResult> {
    if (running) again = true;
    running ??= drainLoop().finally(() => {
      running = null;
    });
    return running;
  }

  const listener = createListener(db, {
    channel: WEBHOOK_CHANNEL,
    applicationName: 'takedown-desk-webhooks',
    what: 'webhook worker',
    logger,
    onWake: () => void drain().catch((err) => logger.error({ err: String(err) }, 'webhook delivery round failed')),
  });

  return {
    drain,
    listen: () => listener.start(),
    async stop() {
      stopped = true;
      await listener.stop();
      await running?.catch(() => undefined);
      await Promise.allSettled([...inFlight.values()]);
      if (ownLeases) await leases.stop();
    },
  };
}

/** Delivered and failed deliveries older than `before` go (the log keeps the recent ones). */
export async function pruneWebhookDeliveries(db: DataSource, before: Date): Promise<number> {
  const [, count] = (await db.query(`DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1`, [before])) as [
    unknown,
    number,
  ];
  return count;
}
