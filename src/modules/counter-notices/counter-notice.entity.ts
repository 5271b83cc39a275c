import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
// A TypeORM relation names the entity class itself (allowed by .dependency-cruiser.cjs: entity → entity only).
import { Notice } from '../notices/notice.entity';

export const COUNTER_NOTICE_STATUSES = ['received', 'restored', 'upheld'] as const;
export type CounterNoticeStatus = (typeof COUNTER_NOTICE_STATUSES)[number];

/** What the moderator recorded when the complainant reported a court action (§ 512(g)(2)(C)). */
export interface CourtAction {
  note: string;
  recordedAt: string;
  recordedBy: string;
}

/**
 * A counter-notice against a removal (17 U.S.C. § 512(g)(3)); at most one per notice, since a
 * notice is countered once (approved → countered). `status` follows its notice: `received` while
 * the notice is `countered`, then `restored` or `upheld` together with it.
 */
@Entity({ name: 'counter_notices' })
@Check('counter_notices_status_check', `"status" IN ('received', 'restored', 'upheld')`)
@Check('counter_notices_channel_check', `"channel" IN ('form', 'api')`)
@Check('counter_notices_restore_after_check', `"restore_after" > "received_at"`)
@Index('counter_notices_notice_key', ['noticeId'], { unique: true })
@Index('counter_notices_due_idx', ['restoreAfter'], { where: `"status" = 'received'` })
@Index('counter_notices_received_idx', ['receivedAt'])
export class CounterNotice {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'notice_id', type: 'uuid' })
  noticeId: string;

  @ManyToOne(() => Notice, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'notice_id' })
  notice?: Relation<Notice>;

  @Column({ type: 'varchar', length: 20 })
  status: CounterNoticeStatus;

  // --- the removed material and where it was (§ 512(g)(3)(B)) ---
  /** The URLs as the counter-notifier gave them. */
  @Column({ name: 'urls', type: 'text', array: true })
  urls: string[];

  /** The items those URLs name: the ones restored when the window passes. */
  @Column({ name: 'item_ids', type: 'uuid', array: true })
  itemIds: string[];

  // --- the counter-notifier (§ 512(g)(3)(D)); personal data, shown to staff and the complainant only ---
  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** Lower-cased. */
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ type: 'varchar', length: 40 })
  phone: string;

  @Column({ type: 'varchar', length: 1000 })
  address: string;

  @Column({ type: 'char', length: 2 })
  country: string;

  /** Optional: why the removal was a mistake, in their words. */
  @Column({ type: 'text', nullable: true })
  explanation: string | null;

  // --- the sworn statement, the consent and the signature, as made (§ 512(g)(3)(A), (C), (D)) ---
  @Column({ name: 'mistake_statement', type: 'text' })
  mistakeStatement: string;

  @Column({ name: 'consent_statement', type: 'text' })
  consentStatement: string;

  @Column({ name: 'statements_at', type: 'timestamptz' })
  statementsAt: Date;

  @Column({ type: 'varchar', length: 200 })
  signature: string;

  // --- intake and the restoration window ---
  @Column({ type: 'varchar', length: 10 })
  channel: 'form' | 'api';

  @Column({ name: 'submitter_ip', type: 'varchar', length: 64, nullable: true })
  submitterIp: string | null;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;

  /** received_at + RESTORE_BUSINESS_DAYS US business days (00:00 UTC of that day). */
  @Column({ name: 'restore_after', type: 'timestamptz' })
  restoreAfter: Date;

  @Column({ name: 'restored_at', type: 'timestamptz', nullable: true })
  restoredAt: Date | null;

  @Column({ name: 'court_action', type: 'jsonb', nullable: true })
  courtAction: CourtAction | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
