import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const COMPLAINT_STATUSES = ['open', 'upheld', 'reversed'] as const;
export type ComplaintStatus = (typeof COMPLAINT_STATUSES)[number];
export const COMPLAINANT_KINDS = ['notifier', 'source'] as const;
export type ComplainantKind = (typeof COMPLAINANT_KINDS)[number];

/**
 * A complaint against a notice's decision (SPEC §18, DSA Art. 20): by the notifier (against a
 * rejection) or by an affected source (against a removal), within six months of the decision.
 * `open` → `upheld` (the decision stands) or `reversed` (its effect is undone).
 */
@Entity({ name: 'complaints' })
@Check('complaints_status_check', `"status" IN ('open', 'upheld', 'reversed')`)
@Check('complaints_kind_check', `"complainant_kind" IN ('notifier', 'source')`)
@Index('complaints_open_idx', ['submittedAt'], { where: `"status" = 'open'` })
@Index('complaints_notice_idx', ['noticeId'])
export class Complaint {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'notice_id', type: 'uuid' })
  noticeId: string;

  @Column({ name: 'complainant_kind', type: 'varchar', length: 10 })
  complainantKind: ComplainantKind;

  /** The affected source (kind `source`). */
  @Column({ name: 'source_id', type: 'uuid', nullable: true })
  sourceId: string | null;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ type: 'text' })
  grounds: string;

  @Column({ type: 'varchar', length: 10, default: 'open' })
  status: ComplaintStatus;

  /** The notice's decision complained about, and who made it (they may not decide the complaint). */
  @Column({ name: 'decision_complained', type: 'varchar', length: 20 })
  decisionComplained: string;

  @Column({ name: 'decision_decided_by', type: 'uuid', nullable: true })
  decisionDecidedBy: string | null;

  @Column({ name: 'submitted_at', type: 'timestamptz' })
  submittedAt: Date;

  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt: Date | null;

  @Column({ name: 'decided_by', type: 'uuid', nullable: true })
  decidedBy: string | null;

  @Column({ name: 'outcome_reason', type: 'text', nullable: true })
  outcomeReason: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
