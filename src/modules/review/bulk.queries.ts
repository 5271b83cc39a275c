import type { EntityManager } from 'typeorm';
import type { Queryable } from '../../db/leases';
import { AppError } from '../../shared/errors';
import type { BulkAction, BulkJobStatus } from './bulk-job.entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface BulkResult {
  reference: string;
  ok: boolean;
  error: string | null;
  code: string | null;
  by: string | null;
}

export interface BulkJobView {
  id: string;
  action: BulkAction;
  status: BulkJobStatus;
  total: number;
  done: number;
  succeeded: number;
  failed: number;
  by: string;
  filter: Record<string, string> | null;
  reason: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  results: BulkResult[];
}

/** A job with its progress and every result so far (in the set's order). */
export async function bulkJobView(q: Queryable, id: string): Promise<BulkJobView> {
  if (!UUID.test(id)) throw AppError.notFound('Job', 'JOB.NOT_FOUND');
  const [job] = await q.query(
    `SELECT id, action, status, total, actor->>'email' AS by, filter, params->>'reason' AS reason, created_at, finished_at
       FROM bulk_jobs WHERE id = $1`,
    [id],
  );
  if (!job) throw AppError.notFound('Job', 'JOB.NOT_FOUND');
  const rows: { reference: string; ok: boolean; error: string | null; code: string | null; by_label: string | null }[] = await q.query(
    `SELECT reference, ok, error, code, by_label FROM bulk_job_items WHERE job_id = $1 AND ok IS NOT NULL ORDER BY position`,
    [id],
  );
  const succeeded = rows.filter((r) => r.ok).length;
  return {
    id: job.id,
    action: job.action,
    status: job.status,
    total: job.total,
    done: rows.length,
    succeeded,
    failed: rows.length - succeeded,
    by: job.by,
    filter: job.filter,
    reason: job.reason,
    createdAt: job.created_at,
    finishedAt: job.finished_at,
    results: rows.map((r) => ({ reference: r.reference, ok: r.ok, error: r.error, code: r.code, by: r.by_label })),
  };
}

/** The set of a new job: one item per reference, in order. */
export async function insertBulkItems(tx: EntityManager, jobId: string, references: string[]): Promise<void> {
  await tx.query(
    `INSERT INTO bulk_job_items (job_id, position, reference)
     SELECT $1, r.ord, r.reference FROM unnest($2::text[]) WITH ORDINALITY AS r(reference, ord)`,
    [jobId, references],
  );
}

/** The items of a job still without a result. */
export function pendingItems(q: Queryable, jobId: string): Promise<{ position: number; reference: string }[]> {
  return q.query(`SELECT position, reference FROM bulk_job_items WHERE job_id = $1 AND ok IS NULL ORDER BY position`, [jobId]);
}

/** Records one notice's result, only while the job is still claimed by `claimedBy` (a run that lost the job writes nothing). */
export async function recordBulkResult(
  q: Queryable,
  jobId: string,
  claimedBy: string,
  position: number,
  r: Omit<BulkResult, 'reference'>,
  at: Date,
): Promise<boolean> {
  const [, count]: [unknown, number] = await q.query(
    `UPDATE bulk_job_items i SET ok = $4, error = $5, code = $6, by_label = $7, done_at = $8
       FROM bulk_jobs j
      WHERE i.job_id = $1 AND i.position = $3 AND j.id = i.job_id AND j.claimed_by = $2`,
    [jobId, claimedBy, position, r.ok, r.error?.slice(0, 2000) ?? null, r.code, r.by?.slice(0, 320) ?? null, at],
  );
  return count === 1;
}

/**
 * Whether this job already applied its action to a notice: the use case's audit event carries the
 * job's request id (`bulk:<id>`). A process that died after a notice's transaction committed but
 * before the job recorded it finds the change made, instead of a 409 from its own earlier self.
 */
export async function appliedByJob(q: Queryable, jobId: string, reference: string, actions: string[]): Promise<boolean> {
  const [row] = await q.query(
    `SELECT 1 FROM audit_events WHERE subject_type = 'notice' AND subject_id = $1 AND request_id = $2 AND action = ANY($3) LIMIT 1`,
    [reference, `bulk:${jobId}`, actions],
  );
  return !!row;
}
