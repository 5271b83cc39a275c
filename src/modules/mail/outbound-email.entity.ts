import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const EMAIL_STATUSES = ['queued', 'sent', 'failed'] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

/**
 * One email of the transactional outbox (SPEC §8). A row is written by `enqueue` in the same
 * transaction as the change that causes it, and moved on only by the mail worker or an admin's retry:
 *
 *   queued ──(sent)──────────────▶ sent
 *     │  ╲──(5xx, or attempts ≥ MAIL_MAX_ATTEMPTS)──▶ failed ──(retry from /outbox)──▶ queued
 *     └── transient failure: stays queued, next_attempt_at pushed back (exponential, jittered)
 *
 * While a worker sends it, a row stays `queued` and `claimed_by` names the worker's process
 * (`src/db/leases.ts`: free again once that process stops heartbeating); `claimed_by` and
 * `attempts` (incremented at the claim) fence the result: a worker whose lease ran out cannot
 * overwrite the outcome of a later claim.
 */
/** How an automatic reply threads under the message it answers. */
export interface EmailThread {
  /** The answered message's Message-ID, `<…>` (null when it had none: the reply is then not threaded). */
  inReplyTo: string | null;
  /** Its References plus its Message-ID. */
  references: string[];
  /** Its subject; the reply's is `Re: ` + this (line breaks removed). */
  subject: string;
}

@Entity({ name: 'outbound_emails' })
// The worker's due-query: queued rows by next attempt, nothing else in the index.
@Index('outbound_emails_due_idx', ['nextAttemptAt'], { where: `"status" = 'queued'` })
// The /outbox page: newest first, optionally by status; and the age of the oldest queued email.
@Index('outbound_emails_status_created_idx', ['status', 'createdAt', 'id'])
@Index('outbound_emails_created_idx', ['createdAt', 'id'])
@Index('outbound_emails_claimed_by_idx', ['claimedBy'], { where: `"claimed_by" IS NOT NULL` })
@Index('outbound_emails_notice_idx', ['noticeId'], { where: `"notice_id" IS NOT NULL` })
// INBOUND_REPLIES_PER_HOUR: automatic replies to inbound mail (threaded) sent to one address lately.
@Index('outbound_emails_threaded_to_idx', ['to', 'createdAt'], { where: `"thread" IS NOT NULL` })
@Check('outbound_emails_status_check', `"status" IN ('queued', 'sent', 'failed')`)
@Check('outbound_emails_attempts_check', `"attempts" >= 0`)
@Check('outbound_emails_sent_at_check', `"status" <> 'sent' OR "sent_at" IS NOT NULL`)
// Defence in depth against header injection: enqueue refuses these already.
@Check('outbound_emails_to_check', `"to" !~ '[\\r\\n]' AND "to" LIKE '%_@_%'`)
@Check('outbound_emails_reply_to_check', `"reply_to" IS NULL OR ("reply_to" !~ '[\\r\\n]' AND "reply_to" LIKE '%_@_%')`)
export class OutboundEmail {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** One recipient address (no display name; validated by `enqueue`). */
  @Column({ name: 'to', type: 'varchar', length: 254 })
  to: string;

  /** `views/emails/<template>.html.hbs` + `.txt.hbs`. */
  @Column({ type: 'varchar', length: 100 })
  template: string;

  /** The template's data, as JSON. Rendered when sent (and when shown at /outbox). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  data: Record<string, unknown>;

  @Column({ type: 'varchar', length: 10, default: 'queued' })
  status: EmailStatus;

  /** Delivery attempts made (claims by a worker). */
  @Column({ type: 'int', default: 0 })
  attempts: number;

  /** When a worker may pick the row up (next retry, or the end of an in-flight lease). */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  /** What the SMTP server called the message (its queue id), or `local-store` without SMTP_URL. */
  @Column({ name: 'provider_message_id', type: 'varchar', length: 500, nullable: true })
  providerMessageId: string | null;

  /** The notice this email is about, if any (no foreign key: notices come in a later migration). */
  @Column({ name: 'notice_id', type: 'uuid', nullable: true })
  noticeId: string | null;

  /** With a key, enqueueing the same email twice is a no-op (NULLs never collide). */
  @Index('outbound_emails_dedupe_key', { unique: true })
  @Column({ name: 'dedupe_key', type: 'varchar', length: 200, nullable: true })
  dedupeKey: string | null;

  /** Where a reply should go (the other party); From is always MAIL_FROM. */
  @Column({ name: 'reply_to', type: 'varchar', length: 254, nullable: true })
  replyTo: string | null;

  /** The process (`worker_instances.id`) sending it now; NULL when no one is. */
  @Column({ name: 'claimed_by', type: 'uuid', nullable: true })
  claimedBy: string | null;

  @Column({ name: 'claimed_at', type: 'timestamptz', nullable: true })
  claimedAt: Date | null;

  /**
   * An automatic reply to an inbound email (SPEC §12): sent as a reply in its thread
   * (`In-Reply-To`, `References`, `Re: <subject>`). Null for every other email.
   */
  @Column({ type: 'jsonb', nullable: true })
  thread: EmailThread | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;
}
