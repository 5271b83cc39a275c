import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn, VersionColumn } from 'typeorm';
import type { ClaimType, ComplainantRole } from './notice.dto';
import { NoticeStatus, STATUS_CHECK_SQL } from './notice-state';

export type NoticeChannel = 'form' | 'api' | 'email';

/** A triage flag (SPEC §9): a stable code and the reason shown to moderators. */
export interface TriageFlag {
  code:
    | 'not_on_site'
    | 'already_removed'
    | 'duplicate'
    | 'source_mismatch'
    | 'backdated'
    | 'email_domain_unrelated'
    | 'sender_burst'
    | 'non_copyright'
    | 'sender_unauthenticated';
  reason: string;
}

export type NoticeSourceType = 'notice' | 'trusted_flagger';

/** One takedown notice. `status` changes only through the use cases, checked by notice-state.ts. */
@Entity({ name: 'notices' })
@Check('notices_status_check', STATUS_CHECK_SQL)
@Check('notices_channel_check', `"channel" IN ('form', 'api', 'email')`)
@Check('notices_role_check', `"role" IN ('owner', 'agent')`)
@Check('notices_statements_source_check', `"statements_source" IN ('notice', 'standing')`)
@Check('notices_claim_type_check', `"claim_type" IN ('copyright', 'trademark', 'defamation', 'privacy', 'other')`)
@Check('notices_source_type_check', `"source_type" IN ('notice', 'trusted_flagger')`)
@Index('notices_queue_idx', ['status', 'queueRank', 'dueAt', 'submittedAt', 'id'])
// The default queue (every open status) in its sort order, so a keyset page reads 50 index entries.
@Index('notices_open_queue_idx', ['queueRank', 'dueAt', 'submittedAt', 'id'], {
  where: `"status" IN ('pending', 'in_review', 'needs_info')`,
})
// The queue's flag filter: a GIN index (jsonb_path_ops) over the open notices' flags, created by hand
// in its migration (TypeORM cannot declare GIN); `synchronize: false` tells the drift check it exists on purpose.
@Index('notices_open_flags_idx', { synchronize: false })
@Index('notices_email_submitted_idx', ['email', 'submittedAt'])
@Index('notices_ip_submitted_idx', ['submitterIp', 'submittedAt'])
@Index('notices_assignee_idx', ['assigneeId', 'status'])
@Index('notices_decided_idx', ['decidedAt', 'decidedBy', 'submittedAt', 'decision'], { where: `"decided_at" IS NOT NULL` })
export class Notice {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Human reference, `TD-` + zero-padded sequence. */
  @Column({ type: 'varchar', length: 20, unique: true })
  reference: string;

  @Column({ type: 'varchar', length: 20 })
  status: NoticeStatus;

  @Column({ name: 'claim_type', type: 'varchar', length: 20, default: 'copyright' })
  claimType: ClaimType;

  // --- the complainant (personal data: redacted on every public view and export) ---
  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  organization: string | null;

  /** Lower-cased. */
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ type: 'varchar', length: 40, nullable: true })
  phone: string | null;

  @Column({ type: 'varchar', length: 1000 })
  address: string;

  @Column({ type: 'char', length: 2 })
  country: string;

  @Column({ type: 'varchar', length: 10 })
  role: ComplainantRole;

  @Column({ name: 'rights_owner', type: 'varchar', length: 200, nullable: true })
  rightsOwner: string | null;

  // --- the work ---
  @Column({ name: 'work_description', type: 'text' })
  workDescription: string;

  @Column({ name: 'original_urls', type: 'text', array: true, default: () => "'{}'" })
  originalUrls: string[];

  @Column({ name: 'work_published_at', type: 'date', nullable: true })
  workPublishedAt: string | null;

  // --- the sworn statements and signature ---
  @Column({ name: 'good_faith_statement', type: 'text' })
  goodFaithStatement: string;

  @Column({ name: 'accuracy_statement', type: 'text' })
  accuracyStatement: string;

  /** When the statements were made (the submission). */
  @Column({ name: 'statements_at', type: 'timestamptz' })
  statementsAt: Date;

  @Column({ type: 'varchar', length: 200 })
  signature: string;

  /**
   * `notice`: made in the notice itself; `standing`: taken from the submitter's standing statements
   * (SPEC §14), then `statementsAt` is their date and `standingStatementsId` the version relied on.
   */
  @Column({ name: 'statements_source', type: 'varchar', length: 10, default: 'notice' })
  statementsSource: 'notice' | 'standing';

  @Column({ name: 'standing_statements_id', type: 'uuid', nullable: true })
  standingStatementsId: string | null;

  /**
   * Who flagged the content, for the statement of reasons (DSA Art. 17, SPEC §14): `notice` (anyone,
   * Art. 16) or `trusted_flagger` (a submitter an admin marked trusted, proved by portal or token).
   */
  @Column({ name: 'source_type', type: 'varchar', length: 20, default: 'notice' })
  sourceType: NoticeSourceType;

  /** The queue's first sort key: 0 (trusted flaggers, DSA Art. 22) leads, 1 is everyone else. */
  @Column({ name: 'queue_rank', type: 'smallint', default: 1 })
  queueRank: number;

  // --- intake ---
  @Column({ name: 'submitted_at', type: 'timestamptz' })
  submittedAt: Date;

  @Column({ type: 'varchar', length: 10 })
  channel: NoticeChannel;

  @Column({ name: 'submitter_ip', type: 'varchar', length: 64, nullable: true })
  submitterIp: string | null;

  /** SHA-256 of the status token; the token itself is only in the complainant's link. */
  @Column({ name: 'status_token_hash', type: 'char', length: 64 })
  statusTokenHash: string;

  @Column({ name: 'email_verified_at', type: 'timestamptz', nullable: true })
  emailVerifiedAt: Date | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  flags: TriageFlag[];

  // --- review ---
  /** When the notice (last) entered the queue; the SLA runs from here. */
  @Column({ name: 'queued_at', type: 'timestamptz', nullable: true })
  queuedAt: Date | null;

  @Column({ name: 'due_at', type: 'timestamptz', nullable: true })
  dueAt: Date | null;

  @Column({ name: 'assignee_id', type: 'uuid', nullable: true })
  assigneeId: string | null;

  @Column({ type: 'varchar', length: 20, nullable: true })
  decision: string | null;

  /** Shown to the complainant. */
  @Column({ name: 'decision_reason', type: 'text', nullable: true })
  decisionReason: string | null;

  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt: Date | null;

  @Column({ name: 'decided_by', type: 'uuid', nullable: true })
  decidedBy: string | null;

  /** EU DSA Art. 17 statement of reasons, recorded with every decision. */
  @Column({ name: 'statement_of_reasons', type: 'jsonb', nullable: true })
  statementOfReasons: Record<string, unknown> | null;

  /** The open question (needs_info) and the complainant's answers. */
  @Column({ name: 'info_request', type: 'jsonb', nullable: true })
  infoRequest: { question: string; askedAt: string; deadline: string; answer?: string; answeredAt?: string } | null;

  @Column({ name: 'internal_notes', type: 'jsonb', default: () => "'[]'" })
  internalNotes: { at: string; by: string; text: string }[];

  /** When the retention job redacted the complainant's personal data (PERSONAL_DATA_RETENTION_DAYS). */
  @Column({ name: 'personal_data_redacted_at', type: 'timestamptz', nullable: true })
  personalDataRedactedAt: Date | null;

  @VersionColumn()
  version: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
