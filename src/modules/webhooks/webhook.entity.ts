import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** The events a webhook may subscribe to (SPEC §14). */
export const WEBHOOK_EVENTS = ['notice.status_changed', 'notice.decided', 'batch.completed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export const WEBHOOK_STATUSES = ['active', 'disabled'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

/**
 * A submitter's webhook (SPEC §14): a receiver URL, the events it wants, and the signing secret.
 *
 * The secret is needed in clear to sign (HMAC is symmetric), so it cannot be stored as a hash like
 * tokens: it is stored sealed (AES-256-GCM, key derived from SESSION_SECRET with HKDF, purpose
 * `webhook-secret`; `shared/secret-box.ts`), shown to the submitter once at registration and never
 * again. A database dump alone does not reveal it; rotating SESSION_SECRET makes the stored secrets
 * unreadable (the worker then records the deliveries as failed: register the webhook again).
 *
 *   active ──(a delivery still failing WEBHOOK_RETRY_HOURS after its event)──▶ disabled (emailed)
 *   disabled ──(the submitter enables it again)──▶ active
 */
@Entity({ name: 'webhooks' })
@Index('webhooks_submitter_idx', ['submitterId'])
@Check('webhooks_status_check', `"status" IN ('active', 'disabled')`)
@Check('webhooks_events_check', `cardinality("events") > 0`)
export class Webhook {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'submitter_id', type: 'uuid' })
  submitterId: string;

  @Column({ type: 'varchar', length: 2000 })
  url: string;

  @Column({ type: 'text', array: true })
  events: WebhookEventType[];

  /** The signing secret, sealed (see above). */
  @Column({ name: 'secret_sealed', type: 'text' })
  secretSealed: string;

  /** The secret's first characters, to tell webhooks apart. */
  @Column({ name: 'secret_prefix', type: 'varchar', length: 16 })
  secretPrefix: string;

  @Column({ type: 'varchar', length: 10, default: 'active' })
  status: WebhookStatus;

  /** Failed attempts since the last 2xx (any delivery). */
  @Column({ name: 'consecutive_failures', type: 'int', default: 0 })
  consecutiveFailures: number;

  @Column({ name: 'last_status_code', type: 'int', nullable: true })
  lastStatusCode: number | null;

  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true })
  lastAttemptAt: Date | null;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
