import type { AppDeps } from '../../deps';
import { createLeaseHolder, type LeaseHolder } from '../../db/leases';
import { withTransaction } from '../../db/transaction';
import { record } from '../audit';
import { applyToNotice } from './bulk-apply';
import { BulkJob } from './bulk-job.entity';
import { pendingItems, recordBulkResult } from './bulk.queries';
import { auditActor } from './review-support';

export type BulkDeps = Pick<AppDeps, 'db' | 'clock' | 'config' | 'logger'> & {
  /** The process's claims (server.ts passes `container.leases`); default: one registered for this run. */
  leases?: LeaseHolder;
};

export const BULK_MAX_ATTEMPTS = 5;
/** Notices applied at once within a job (each its own transaction); the rest of the desk keeps its connections. */
export const BULK_CONCURRENCY = 4;

export interface BulkRunOptions {
  /** Only this job (the request that created a small one runs it at once). */
  jobId?: string;
  /** Tests: called after a notice's change committed and before the job recorded it (a crash there is the hard case). */
  afterNotice?: (reference: string) => void;
}

/** The job is no longer ours (our lease ran out and another process claimed it). */
class LostClaim extends Error {}

/**
 * The bulk-jobs worker: claims due jobs (queued, or running whose claimant died) through the shared
 * claims (`src/db/leases.ts`, like the batches job), and applies the action to every notice still
 * without a result, `BULK_CONCURRENCY` at a time. Each result is written `WHERE claimed_by = <ours>`;
 * no notice is started once our lease may have run out. Resuming is safe: a notice whose change
 * committed before a crash is recognised by its audit event's request id (`bulk:<job id>`).
 * Returns the number of jobs worked on.
 */
export async function processBulkJobs(deps: BulkDeps, opts: BulkRunOptions = {}): Promise<number> {
  const own = !deps.leases;
  const leases =
    deps.leases ?? createLeaseHolder(deps.db, { leaseMs: deps.config.claimLeaseSeconds * 1000, logger: deps.logger, name: 'bulk' });
  let n = 0;
  let crashed = false;
  try {
    for (;;) {
      const job = await claimJob(deps, leases, opts.jobId);
      if (!job) return n;
      n++;
      try {
        await runJob(deps, leases, job, opts);
      } catch (e) {
        if (e instanceof LostClaim) continue;
        if (opts.afterNotice) {
          crashed = true; // tests simulate a process dying: nothing is released, the lease has to run out
          throw e;
        }
        await releaseAfterError(deps, job, e);
      }
      if (opts.jobId) return n;
    }
  } finally {
    if (own && !crashed) await leases.stop();
  }
}

type ClaimedJob = BulkJob & { claimedBy: string };

async function claimJob(deps: BulkDeps, leases: LeaseHolder, jobId?: string): Promise<ClaimedJob | null> {
  const [row] = await leases.claim<{ id: string }>({
    table: 'bulk_jobs',
    where: `t.status IN ('queued', 'running')${jobId ? ' AND t.id = $2' : ''}`,
    params: jobId ? [deps.clock.now(), jobId] : [deps.clock.now()],
    orderBy: 't.created_at',
    limit: 1,
    set: `status = 'running', started_at = coalesce(t.started_at, $1), attempts = t.attempts + 1`,
    returning: 't.id',
  });
  if (!row) return null;
  const job = await deps.db.getRepository(BulkJob).findOneByOrFail({ id: row.id });
  return Object.assign(job, { claimedBy: row.claimed_by });
}

async function runJob(deps: BulkDeps, leases: LeaseHolder, job: ClaimedJob, opts: BulkRunOptions) {
  const queue = await pendingItems(deps.db, job.id);
  let failure: unknown;
  const worker = async () => {
    for (let item = queue.shift(); item && failure === undefined; item = queue.shift()) {
      try {
        if (!leases.holds(job.claimedBy)) throw new LostClaim(); // another process may have it: start nothing
        const result = await applyToNotice(deps, job, item.reference, { resumed: job.attempts > 1 });
        opts.afterNotice?.(item.reference);
        if (!(await recordBulkResult(deps.db, job.id, job.claimedBy, item.position, result, deps.clock.now()))) throw new LostClaim();
      } catch (e) {
        failure ??= e; // the other workers stop taking notices too
      }
    }
  };
  await Promise.all(Array.from({ length: BULK_CONCURRENCY }, worker));
  if (failure !== undefined) throw failure;
  await withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const [[done]]: [{ ok: number; refused: number }[], number] = await tx.query(
      `UPDATE bulk_jobs SET status = 'done', finished_at = $2, claimed_by = NULL, claimed_at = NULL
        WHERE id = $1 AND claimed_by = $3
       RETURNING (SELECT count(*) FILTER (WHERE ok)::int FROM bulk_job_items WHERE job_id = $1) AS ok,
                 (SELECT count(*) FILTER (WHERE NOT ok)::int FROM bulk_job_items WHERE job_id = $1) AS refused`,
      [job.id, now, job.claimedBy],
    );
    if (!done) throw new LostClaim();
    await record(tx, {
      actor: auditActor(job.actor),
      action: 'bulk_job.completed',
      subject: { type: 'bulk_job', id: job.id },
      details: { action: job.action, total: job.total, done: done.ok, refused: done.refused },
      at: now,
    });
  });
}

/** An unexpected failure: the claim is given up (another run retries); after BULK_MAX_ATTEMPTS the job fails. */
async function releaseAfterError(deps: BulkDeps, job: ClaimedJob, e: unknown) {
  const message = e instanceof Error ? e.message : String(e);
  deps.logger.warn({ job: job.id, err: message }, 'bulk job failed; it will be retried');
  await withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const [[row]]: [{ status: string }[], number] = await tx.query(
      `UPDATE bulk_jobs SET claimed_by = NULL, claimed_at = NULL, last_error = $2,
              status = CASE WHEN attempts >= $3 THEN 'failed' ELSE status END,
              finished_at = CASE WHEN attempts >= $3 THEN $4::timestamptz ELSE finished_at END
        WHERE id = $1 AND claimed_by = $5 RETURNING status`,
      [job.id, message.slice(0, 1000), BULK_MAX_ATTEMPTS, now, job.claimedBy],
    );
    if (row?.status === 'failed')
      await record(tx, {
        actor: auditActor(job.actor),
        action: 'bulk_job.failed',
        subject: { type: 'bulk_job', id: job.id },
        details: { error: message.slice(0, 500) },
        at: now,
      });
  });
}
