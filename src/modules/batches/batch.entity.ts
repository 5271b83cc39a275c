import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const BATCH_STATUSES = ['queued', 'processing', 'done', 'failed'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/**
 * A bulk upload (SPEC §14): many works, one notice each, made by a durable job. The batch and its
 * works are written in one transaction when accepted; the job claims the batch through the shared
 * claims (`claimed_by`, `src/db/leases.ts`) so a crashed process's batch is taken over, and each work
 * records the notice it became, so a resumed job never makes a second one.
 */
@Entity({ name: 'batches' })
@Check('batches_status_check', `"status" IN ('queued', 'processing', 'done', 'failed')`)
@Index('batches_due_idx', ['createdAt'], { where: `"status" IN ('queued', 'processing')` })
@Index('batches_submitter_idx', ['submitterId', 'createdAt'])
@Index('batches_claimed_by_idx', ['claimedBy'], { where: `"claimed_by" IS NOT NULL` })
export class Batch {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'submitter_id', type: 'uuid' })
  submitterId: string;

  @Column({ type: 'varchar', length: 12, default: 'queued' })
  status: BatchStatus;

  @Column({ type: 'int' })
  works: number;

  /** Infringing URLs accepted (over all works). */
  @Column({ type: 'int' })
  urls: number;

  /** URLs whose work has been made into a notice (or refused). */
  @Column({ type: 'int', default: 0 })
  processed: number;

  /** Rows refused, at upload or while processing: `{row, message}`. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  errors: { row: number; message: string }[];

  @Column({ type: 'varchar', length: 10 })
  format: 'json' | 'csv';

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  /** The previous version's lease, still written for rolling deploys (process-batches.ts `LEASE_MS`); claims are `claimed_by`. */
  @Column({ name: 'claimed_until', type: 'timestamptz', nullable: true })
  claimedUntil: Date | null;

  /** While the job works on it: the process holding it (`src/db/leases.ts`); cleared when it ends. */
  @Column({ name: 'claimed_by', type: 'uuid', nullable: true })
  claimedBy: string | null;

  @Column({ name: 'claimed_at', type: 'timestamptz', nullable: true })
  claimedAt: Date | null;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;
}

/** One work of a batch: what becomes one notice. */
@Entity({ name: 'batch_works' })
@Index('batch_works_position_key', ['batchId', 'position'], { unique: true })
export class BatchWork {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'batch_id', type: 'uuid' })
  batchId: string;

  @Column({ type: 'int' })
  position: number;

  /** The first row (CSV line, or JSON work number) it came from, for errors. */
  @Column({ type: 'int' })
  row: number;

  @Column({ type: 'text' })
  description: string;

  @Column({ name: 'original_urls', type: 'text', array: true, default: () => "'{}'" })
  originalUrls: string[];

  @Column({ name: 'infringing_urls', type: 'text', array: true })
  infringingUrls: string[];

  @Column({ name: 'notice_id', type: 'uuid', nullable: true })
  noticeId: string | null;

  @Column({ name: 'notice_reference', type: 'varchar', length: 20, nullable: true })
  noticeReference: string | null;

  /** Why the work made no notice (refused while processing). */
  @Column({ type: 'text', nullable: true })
  error: string | null;
}
