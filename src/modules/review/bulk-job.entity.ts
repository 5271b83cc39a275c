import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export const BULK_ACTIONS = ['claim', 'release', 'assign', 'reject', 'spam', 'approve'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
export const BULK_JOB_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type BulkJobStatus = (typeof BULK_JOB_STATUSES)[number];

/**
 * A bulk decision (SPEC §15): one action over a set of notices, each applied by the review module's
 * own use case in its own transaction. The set is fixed when the job is created (its items); the job
 * is run in the request for small sets and by the `bulk-jobs` worker otherwise, claimed through the
 * shared claims (`claimed_by`, `src/db/leases.ts`) so a crashed process's job is taken over.
 */
@Entity({ name: 'bulk_jobs' })
@Check('bulk_jobs_status_check', `"status" IN ('queued', 'running', 'done', 'failed')`)
@Check('bulk_jobs_action_check', `"action" IN ('claim', 'release', 'assign', 'reject', 'spam', 'approve')`)
@Index('bulk_jobs_due_idx', ['createdAt'], { where: `"status" IN ('queued', 'running')` })
@Index('bulk_jobs_claimed_by_idx', ['claimedBy'], { where: `"claimed_by" IS NOT NULL` })
export class BulkJob {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 10 })
  action: BulkAction;

  @Column({ type: 'varchar', length: 12, default: 'queued' })
  status: BulkJobStatus;

  @Column({ name: 'actor_id', type: 'uuid' })
  actorId: string;

  /** Who asked, as the use cases need them (id, email, name, role), taken when the job was created. */
  @Column({ type: 'jsonb' })
  actor: { id: string; email: string; name?: string; role: 'admin' | 'moderator' };

  /** The action's own input: `reason` (reject, spam, approve), `assigneeId` (assign). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  params: { reason?: string; assigneeId?: string };

  /** The queue filter the set was chosen by, when it was ("all N matching"); null for a list of references. */
  @Column({ type: 'jsonb', nullable: true })
  filter: Record<string, string> | null;

  @Column({ type: 'int' })
  total: number;

  /** The request's address and id, kept for the audit events the job writes. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  /** While a process works on it (`src/db/leases.ts`); cleared when it ends. */
  @Column({ name: 'claimed_by', type: 'uuid', nullable: true })
  claimedBy: string | null;

  @Column({ name: 'claimed_at', type: 'timestamptz', nullable: true })
  claimedAt: Date | null;
}

/** One notice of a bulk job and, once applied, its result (a lost race is a result, not a failure of the job). */
@Entity({ name: 'bulk_job_items' })
export class BulkJobItem {
  @PrimaryColumn({ name: 'job_id', type: 'uuid' })
  jobId: string;

  @PrimaryColumn({ type: 'int' })
  position: number;

  @Column({ type: 'varchar', length: 20 })
  reference: string;

  /** null until applied. */
  @Column({ type: 'boolean', nullable: true })
  ok: boolean | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** The refusal's error code (`NOTICE.CLAIMED_BY_OTHER`, …). */
  @Column({ type: 'varchar', length: 60, nullable: true })
  code: string | null;

  /** Who won the race, when another person acted first ("Ana Moderator"). */
  @Column({ name: 'by_label', type: 'varchar', length: 320, nullable: true })
  byLabel: string | null;

  @Column({ name: 'done_at', type: 'timestamptz', nullable: true })
  doneAt: Date | null;
}
