import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * The webhook outbox (SPEC §14): one row per event and subscribed webhook, written by
 * `queueWebhookEvent` in the same transaction as the change, moved on only by the delivery worker.
 * `body` is the exact JSON sent (`{"id","type","createdAt","data"}`), so every retry signs and
 * sends the same bytes; `event_id` is the same for every webhook an event goes to.
 *
 *   pending ──(2xx)──▶ delivered
 *     │  ╲──(still failing WEBHOOK_RETRY_HOURS after the event)──▶ failed (the webhook is disabled)
 *     └── any other answer, a timeout, a refused address: stays pending, next_attempt_at pushed
 *         back (exponential, jittered)
 *
 * Order per notice: `ordering_key` (`notice:<reference>`, `batch:<id>`) and the serial `id` (a
 * later change to a notice takes its row lock after the earlier one committed, so it gets a larger
 * id). Only the oldest pending row of a (webhook, ordering_key) is claimable. `claimed_by` /
 * `claimed_at` are the shared claims of `src/db/leases.ts`; `claimed_by` and `attempts` fence the outcome.
 */
@Entity({ name: 'webhook_deliveries' })
@Index('webhook_deliveries_due_idx', ['nextAttemptAt'], { where: `"status" = 'pending'` })
@Index('webhook_deliveries_order_idx', ['webhookId', 'orderingKey', 'id'], { where: `"status" = 'pending'` })
@Index('webhook_deliveries_log_idx', ['webhookId', 'id'])
@Index('webhook_deliveries_claimed_by_idx', ['claimedBy'], { where: `"claimed_by" IS NOT NULL` })
@Check('webhook_deliveries_status_check', `"status" IN ('pending', 'delivered', 'failed')`)
export class WebhookDelivery {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column({ name: 'event_type', type: 'varchar', length: 40 })
  eventType: string;

  @Column({ name: 'ordering_key', type: 'varchar', length: 100 })
  orderingKey: string;

  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'varchar', length: 10, default: 'pending' })
  status: DeliveryStatus;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt: Date;

  /** When the event happened (the change's clock), or when the webhook was enabled again: the retry window counts from here. */
  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true })
  lastAttemptAt: Date | null;

  /** The receiver's last HTTP status (null: no answer, e.g. a timeout or a refused address). */
  @Column({ name: 'last_status_code', type: 'int', nullable: true })
  lastStatusCode: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  @Column({ name: 'claimed_by', type: 'uuid', nullable: true })
  claimedBy: string | null;

  @Column({ name: 'claimed_at', type: 'timestamptz', nullable: true })
  claimedAt: Date | null;
}
