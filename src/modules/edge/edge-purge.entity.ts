import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const PURGE_STATUSES = ['queued', 'sent', 'failed'] as const;
export type PurgeStatus = (typeof PURGE_STATUSES)[number];

/**
 * One edge purge of the purge outbox (SPEC §16): the surrogate keys of the public pages a change
 * altered. Written by `queuePurge` in the same transaction as the change, moved on only by the
 * purge worker:
 *
 *   queued ──(every configured target answered 2xx)──▶ sent
 *     │  ╲──(attempts ≥ PURGE_MAX_ATTEMPTS)──▶ failed
 *     └── a target failed: stays queued, the targets that succeeded are kept in done_targets,
 *         next_attempt_at pushed back (exponential, jittered); only the others are asked again
 *
 * Like the mail outbox, a row being sent stays `queued` and `claimed_by` names the worker's process
 * (`src/db/leases.ts`: free again once that process stops heartbeating); `claimed_by` and
 * `attempts` (incremented at the claim) fence the outcome, which clears the claim.
 */
@Entity({ name: 'edge_purges' })
@Index('edge_purges_due_idx', ['nextAttemptAt'], { where: `"status" = 'queued'` })
@Index('edge_purges_created_idx', ['createdAt'])
@Index('edge_purges_claimed_by_idx', ['claimedBy'], { where: `"claimed_by" IS NOT NULL` })
@Check('edge_purges_status_check', `"status" IN ('queued', 'sent', 'failed')`)
@Check('edge_purges_attempts_check', `"attempts" >= 0`)
@Check('edge_purges_keys_check', `cardinality("keys") > 0`)
export class EdgePurge {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Surrogate keys (`item-<id>`, `source-<id>`, `front`, `feed`, `sitemap`, `transparency`). */
  @Column({ type: 'text', array: true })
  keys: string[];

  @Column({ type: 'varchar', length: 10, default: 'queued' })
  status: PurgeStatus;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  /** Targets (e.g. `varnish:http://cache:6081/`, `fastly`, `cloudflare`) that acknowledged the purge. */
  @Column({ name: 'done_targets', type: 'text', array: true, default: () => "'{}'" })
  doneTargets: string[];

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  /** When the change committed (the caller's clock): the start of the purge latency. */
  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @Column({ name: 'claimed_by', type: 'uuid', nullable: true })
  claimedBy: string | null;

  @Column({ name: 'claimed_at', type: 'timestamptz', nullable: true })
  claimedAt: Date | null;
}
