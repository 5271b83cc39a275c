import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const INBOUND_STATUSES = ['received', 'notice_created', 'incomplete', 'reply_attached', 'ignored', 'failed'] as const;
export type InboundStatus = (typeof INBOUND_STATUSES)[number];
export const WAYS_IN = ['smtp', 'imap', 'api'] as const;
export type WayIn = (typeof WAYS_IN)[number];

/** SPF / DKIM / DMARC for the From domain (`none`: not checked, e.g. INBOUND_AUTH_DNS=off). */
export interface SenderAuth {
  spf: string;
  dkim: string;
  dmarc: string;
  /** The From domain the results are about. */
  domain?: string | null;
  /** What mailauth said, short (for the staff page). */
  details?: string[];
}

/** The SMTP envelope or what stands in for it (IMAP, API): kept for SPF and for the reply address. */
export interface InboundEnvelope {
  mailFrom?: string | null;
  rcptTo?: string[];
  remoteIp?: string | null;
  helo?: string | null;
}

/**
 * One message that reached the designated agent's mailbox (SPEC §12), stored as it arrived BEFORE
 * anything is read out of it. `received` rows are the parse job's queue: claimed with SKIP LOCKED
 * (`attempts` + a lease in `next_attempt_at`, like the mail outbox), then moved to their outcome
 * in one transaction with the notice, the audit events and the reply.
 */
@Entity({ name: 'inbound_emails' })
@Check('inbound_emails_status_check', `"status" IN ('received', 'notice_created', 'incomplete', 'reply_attached', 'ignored', 'failed')`)
@Check('inbound_emails_way_in_check', `"way_in" IN ('smtp', 'imap', 'api')`)
// The same Message-ID twice is one email; without a Message-ID, the same bytes twice.
@Index('inbound_emails_message_id_key', ['messageId'], { unique: true, where: `"message_id" IS NOT NULL` })
@Index('inbound_emails_sha256_key', ['sha256'], { unique: true })
// The parse job's due-query.
@Index('inbound_emails_due_idx', ['nextAttemptAt'], { where: `"status" = 'received'` })
// The mailbox: newest first, optionally by status.
@Index('inbound_emails_received_idx', ['receivedAt', 'id'])
@Index('inbound_emails_status_received_idx', ['status', 'receivedAt', 'id'])
@Index('inbound_emails_notice_idx', ['noticeId'], { where: `"notice_id" IS NOT NULL` })
@Index('inbound_emails_claimed_by_idx', ['claimedBy'], { where: `"claimed_by" IS NOT NULL` })
export class InboundEmail {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'message_id', type: 'varchar', length: 998, nullable: true })
  messageId: string | null;

  /** The From address (lower-cased), null when the message has none. */
  @Column({ name: 'from_address', type: 'varchar', length: 320, nullable: true })
  fromAddress: string | null;

  @Column({ name: 'from_name', type: 'varchar', length: 200, nullable: true })
  fromName: string | null;

  /** Recipients: the envelope's RCPT TO (SMTP), else the To/Cc headers. */
  @Column({ name: 'to', type: 'text', array: true, default: () => "'{}'" })
  to: string[];

  @Column({ type: 'text', nullable: true })
  subject: string | null;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;

  @Column({ name: 'way_in', type: 'varchar', length: 10 })
  wayIn: WayIn;

  /** The message exactly as it arrived. */
  @Column({ type: 'bytea' })
  raw: Buffer;

  @Column({ type: 'int' })
  size: number;

  @Column({ type: 'char', length: 64 })
  sha256: string;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  envelope: InboundEnvelope;

  /** Sender authentication (set by the parse job; `none` until then or when DNS is off). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  auth: SenderAuth | Record<string, never>;

  @Column({ type: 'varchar', length: 20, default: 'received' })
  status: InboundStatus;

  /** Why it ended as it did (shown to staff): "auto-reply (Auto-Submitted: auto-replied)", … */
  @Column({ type: 'text', nullable: true })
  reason: string | null;

  /** The notice it created, completed or was attached to. */
  @Column({ name: 'notice_id', type: 'uuid', nullable: true })
  noticeId: string | null;

  /** What the parser read out of it (ExtractedNotice, without the body). */
  @Column({ type: 'jsonb', nullable: true })
  extracted: Record<string, unknown> | null;

  /** Parse attempts (incremented at the claim; fences the outcome like the mail outbox). */
  @Column({ type: 'int', default: 0 })
  attempts: number;

  /** When the parse job may take it (now, or the end of an in-flight lease). */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processedAt: Date | null;

  /** While the parse job reads it: the worker process holding it (`src/db/leases.ts`); cleared with the outcome. */
  @Column({ name: 'claimed_by', type: 'uuid', nullable: true })
  claimedBy: string | null;

  @Column({ name: 'claimed_at', type: 'timestamptz', nullable: true })
  claimedAt: Date | null;
}
