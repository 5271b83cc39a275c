import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { record, SYSTEM } from '../audit';
import { NoticeDto, submitNotice } from '../notices';
import { currentStatements, Submitter } from '../submitters';
import { Batch, BatchWork } from './batch.entity';

export type BatchDeps = Pick<AppDeps, 'db' | 'clock' | 'config' | 'sessionSecret' | 'logger'>;

/** How long a claim lasts without a heartbeat; each finished work renews it. */
export const LEASE_MS = 2 * 60_000;
export const MAX_ATTEMPTS = 5;

export interface ProcessOptions {
  /** Tests: called after a work's notice committed and before the work records it (a crash there is the hard case). */
  afterNotice?: (work: BatchWork) => void;
}

/**
 * The batch job: claims one due batch (queued, or processing with an expired lease — its process
 * died) with FOR UPDATE SKIP LOCKED, so instances never share a batch, and makes one notice per
 * work still without one.
 *
 * Resuming without duplicates: each work's notice is submitted with the idempotency key
 * `batch:<batch id>:<position>`, so if a process dies after the notice committed but before the
 * work recorded it, the next run's submission with the same key returns the same notice instead of
 * making a second one; then the work records it. Returns the number of batches worked on.
 */
export async function processBatches(deps: BatchDeps, opts: ProcessOptions = {}): Promise<number> {
  let n = 0;
  for (;;) {
    const batch = await claimBatch(deps);
    if (!batch) return n;
    n++;
    try {
      await processBatch(deps, batch, opts);
    } catch (e) {
      // Tests simulate a process dying: nothing is released, the lease has to run out.
      if (opts.afterNotice) throw e;
      await releaseAfterError(deps, batch, e);
    }
  }
}

async function claimBatch(deps: BatchDeps): Promise<Batch | null> {
  const now = deps.clock.now();
  const [rows]: [Batch[], number] = await deps.db.query(
    `UPDATE batches SET status = 'processing', claimed_until = $2, started_at = coalesce(started_at, $1), attempts = attempts + 1
      WHERE id = (SELECT id FROM batches WHERE status IN ('queued', 'processing') AND (claimed_until IS NULL OR claimed_until < $1)
                   ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)
      RETURNING id`,
    [now, new Date(now.getTime() + LEASE_MS)],
  );
  return rows.length ? deps.db.getRepository(Batch).findOneByOrFail({ id: rows[0].id }) : null;
}

async function processBatch(deps: BatchDeps, batch: Batch, opts: ProcessOptions) {
  const submitter = await deps.db.getRepository(Submitter).findOneByOrFail({ id: batch.submitterId });
  const works = await deps.db.getRepository(BatchWork).find({ where: { batchId: batch.id }, order: { position: 'ASC' } });
  for (const work of works) {
    if (work.noticeId || work.error) continue;
    let noticeId: string | null = null;
    let reference: string | null = null;
    let error: string | null = null;
    try {
      ({ noticeId, reference } = await noticeFor(deps, batch, submitter, work));
      opts.afterNotice?.(work);
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500 || e.code === 'IDEMPOTENCY.IN_PROGRESS') throw e;
      error = e.details.errors?.length ? e.details.errors.map((x) => `${x.field}: ${x.message}`).join('; ') : e.message;
    }
    // The work records its notice (or why it has none), the batch its progress and a new lease: one statement each, one transaction.
    await withTransaction(deps.db, async (tx) => {
      const now = deps.clock.now();
      await tx.query(`UPDATE batch_works SET notice_id = $2, notice_reference = $3, error = $4 WHERE id = $1`, [
        work.id,
        noticeId,
        reference,
        error,
      ]);
      await tx.query(
        `UPDATE batches SET processed = processed + $2, claimed_until = $3,
                errors = CASE WHEN $4::text IS NULL THEN errors ELSE errors || jsonb_build_array(jsonb_build_object('row', $5::int, 'message', $4::text)) END
          WHERE id = $1`,
        [batch.id, work.infringingUrls.length, new Date(now.getTime() + LEASE_MS), error, work.row],
      );
    });
  }
  await withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const [[done]]: [{ notices: number; refused: number }[], number] = await tx.query(
      `UPDATE batches SET status = 'done', finished_at = $2, claimed_until = NULL WHERE id = $1
       RETURNING (SELECT count(*)::int FROM batch_works WHERE batch_id = $1 AND notice_id IS NOT NULL) AS notices,
                 (SELECT count(*)::int FROM batch_works WHERE batch_id = $1 AND error IS NOT NULL) AS refused`,
      [batch.id, now],
    );
    await record(tx, {
      actor: SYSTEM,
      action: 'batch.completed',
      subject: { type: 'batch', id: batch.id },
      details: { works: batch.works, urls: batch.urls, notices: done.notices, refusedWorks: done.refused },
      at: now,
    });
  });
}

/** One work → one notice, from the submitter's profile and standing statements, under the work's idempotency key. */
async function noticeFor(deps: BatchDeps, batch: Batch, s: Submitter, work: BatchWork): Promise<{ noticeId: string; reference: string }> {
  const standing = await currentStatements(deps.db.manager, s.id);
  if (!standing)
    throw AppError.validation([{ field: 'statements', message: 'The standing statements were withdrawn before this work was processed.' }]);
  const dto = Object.assign(new NoticeDto(), {
    name: s.name!,
    organization: s.organization ?? undefined,
    email: s.email,
    phone: s.phone ?? undefined,
    address: s.address!,
    country: s.country!,
    role: s.role!,
    rightsOwner: s.role === 'agent' ? s.rightsOwners[0] : undefined,
    workDescription: work.description,
    originalUrls: work.originalUrls.length ? work.originalUrls : undefined,
    infringingUrls: work.infringingUrls,
    goodFaith: true,
    accuracy: true,
    signature: standing.signature,
    claimType: 'copyright' as const,
  });
  const { answer } = await submitNotice(deps, {
    dto,
    channel: 'api',
    context: { ip: null, requestId: `batch:${batch.id}` },
    idempotencyKey: `batch:${batch.id}:${work.position}`,
    verifiedEmail: true,
    standingStatements: standing,
  });
  const [{ id }] = await deps.db.query(`SELECT id FROM notices WHERE reference = $1`, [answer.reference]);
  return { noticeId: id, reference: answer.reference };
}

/** An unexpected failure: the lease is given up (another run retries); after MAX_ATTEMPTS the batch fails. */
async function releaseAfterError(deps: BatchDeps, batch: Batch, e: unknown) {
  const message = e instanceof Error ? e.message : String(e);
  deps.logger.warn({ batch: batch.id, err: message }, 'batch processing failed; it will be retried');
  await withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const [[row]]: [{ status: string }[], number] = await tx.query(
      `UPDATE batches SET claimed_until = NULL, last_error = $2, status = CASE WHEN attempts >= $3 THEN 'failed' ELSE status END,
              finished_at = CASE WHEN attempts >= $3 THEN $4::timestamptz ELSE finished_at END
        WHERE id = $1 RETURNING status`,
      [batch.id, message.slice(0, 1000), MAX_ATTEMPTS, now],
    );
    if (row.status === 'failed')
      await record(tx, {
        actor: SYSTEM,
        action: 'batch.failed',
        subject: { type: 'batch', id: batch.id },
        details: { error: message.slice(0, 500) },
        at: now,
      });
  });
}
