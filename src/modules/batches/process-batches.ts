import type { AppDeps } from '../../deps';
import { createLeaseHolder, LeaseHolder } from '../../db/leases';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { record, SYSTEM } from '../audit';
import { commitNotice, NoticeDto, prepareNotice, type PreparedNotice, type SubmitNotice } from '../notices';
import { currentStatements, Submitter } from '../submitters';
import { Batch, BatchWork } from './batch.entity';
import { queueWebhookEvent } from '../webhooks';

export type BatchDeps = Pick<AppDeps, 'db' | 'clock' | 'config' | 'sessionSecret' | 'logger'> & {
  /** The process's claims (server.ts passes `container.leases`); default: one registered for this run. */
  leases?: LeaseHolder;
};

/**
 * `claimed_until`, the lease of the previous version: still written (pushed ahead at the claim and
 * by each finished work) so an instance of that version running during a rolling deploy does not
 * take a batch this one holds; this version decides by `claimed_by` only.
 */
export const LEASE_MS = 2 * 60_000;
export const MAX_ATTEMPTS = 5;

export interface ProcessOptions {
  /** Tests: called after a work's notice committed and before the work records it (a crash there is the hard case). */
  afterNotice?: (work: BatchWork) => void;
}

/**
 * The batch job: claims one due batch (queued, or processing whose claimant died) through the shared
 * claims (`src/db/leases.ts`: FOR UPDATE SKIP LOCKED, `claimed_by` = this process), so instances
 * never share a batch, and makes one notice per work still without one. The process's heartbeat
 * keeps the claim however long the batch takes; a crashed process's batch is taken over
 * `CLAIM_LEASE_SECONDS` after its last heartbeat. No work is started once our lease may have run
 * out (`leases.holds`), each work's progress and the batch's end are written
 * `WHERE claimed_by = <ours>` (a run that lost the batch writes nothing), and the end (done, or
 * failed/given up after an error) clears the claim.
 *
 * Resuming without duplicates: each work's notice is submitted with the idempotency key
 * `batch:<batch id>:<position>`, so if a process dies after the notice committed but before the
 * work recorded it, the next run's submission with the same key returns the same notice instead of
 * making a second one; then the work records it. Returns the number of batches worked on.
 */
export async function processBatches(deps: BatchDeps, opts: ProcessOptions = {}): Promise<number> {
  const own = !deps.leases;
  const leases =
    deps.leases ?? createLeaseHolder(deps.db, { leaseMs: deps.config.claimLeaseSeconds * 1000, logger: deps.logger, name: 'batches' });
  let n = 0;
  let crashed = false;
  try {
    for (;;) {
      const batch = await claimBatch(deps, leases);
      if (!batch) return n;
      n++;
      try {
        await processBatch(deps, leases, batch, opts);
      } catch (e) {
        if (e instanceof LostClaim) continue; // another instance has it now: nothing of ours to write
        // Tests simulate a process dying: nothing is released, the lease has to run out.
        if (opts.afterNotice) {
          crashed = true;
          throw e;
        }
        await releaseAfterError(deps, batch, e);
      }
    }
  } finally {
    if (own && !crashed) await leases.stop();
  }
}

/** The batch is no longer ours (our lease ran out and another instance claimed it). */
class LostClaim extends Error {}

type ClaimedBatch = Batch & { claimedBy: string };

async function claimBatch(deps: BatchDeps, leases: LeaseHolder): Promise<ClaimedBatch | null> {
  const now = deps.clock.now();
  const [row] = await leases.claim<{ id: string }>({
    table: 'batches',
    where: `t.status IN ('queued', 'processing') AND (t.claimed_until IS NULL OR t.claimed_until < $1 OR t.claimed_by IS NOT NULL)`,
    params: [now, new Date(now.getTime() + LEASE_MS)],
    orderBy: 't.created_at',
    limit: 1,
    set: `status = 'processing', claimed_until = $2, started_at = coalesce(t.started_at, $1), attempts = t.attempts + 1`,
    returning: 't.id',
  });
  if (!row) return null;
  const batch = await deps.db.getRepository(Batch).findOneByOrFail({ id: row.id });
  return Object.assign(batch, { claimedBy: row.claimed_by });
}

async function processBatch(deps: BatchDeps, leases: LeaseHolder, batch: ClaimedBatch, opts: ProcessOptions) {
  const submitter = await deps.db.getRepository(Submitter).findOneByOrFail({ id: batch.submitterId });
  const all = await deps.db.getRepository(BatchWork).find({ where: { batchId: batch.id }, order: { position: 'ASC' } });
  const works = all.filter((w) => !w.noticeId && !w.error);
  // One work is read ahead (registry match, triage facts, standing statements: no lock, nothing
  // written) while the one before it is written, so the process and the database work at the same
  // time instead of taking turns. Notices are still written one at a time, in order.
  let ahead: Promise<Read> | null = null;
  for (let i = 0; i < works.length; i++) {
    const work = works[i];
    if (!leases.holds(batch.claimedBy)) throw new LostClaim(); // another instance may have it: start nothing
    const read: Promise<Read> = ahead ?? readWork(deps, batch, submitter, work);
    // Started once this work's reads are done, so references are still taken in upload order.
    const next = works[i + 1];
    ahead = next ? read.then(() => readWork(deps, batch, submitter, next)) : null;
    let noticeId: string | null = null;
    let reference: string | null = null;
    let error: string | null = null;
    try {
      ({ noticeId, reference } = await noticeFor(deps, await read));
      opts.afterNotice?.(work);
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500 || e.code === 'IDEMPOTENCY.IN_PROGRESS') throw e;
      error = e.details.errors?.length ? e.details.errors.map((x) => `${x.field}: ${x.message}`).join('; ') : e.message;
    }
    // The batch its progress (only while it is ours) and the work its notice (or why it has none):
    // one statement, so one transaction and one round trip.
    const now = deps.clock.now();
    const [, count]: [unknown, number] = await deps.db.query(
      `WITH b AS (
         UPDATE batches SET processed = processed + $2, claimed_until = $3,
                errors = CASE WHEN $4::text IS NULL THEN errors ELSE errors || jsonb_build_array(jsonb_build_object('row', $5::int, 'message', $4::text)) END
          WHERE id = $1 AND claimed_by = $6 RETURNING id)
       UPDATE batch_works w SET notice_id = $8, notice_reference = $9, error = $4 FROM b WHERE w.id = $7 AND w.batch_id = b.id`,
      [
        batch.id,
        work.infringingUrls.length,
        new Date(now.getTime() + LEASE_MS),
        error,
        work.row,
        batch.claimedBy,
        work.id,
        noticeId,
        reference,
      ],
    );
    if (count !== 1) throw new LostClaim();
  }
  await withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const [[done]]: [{ notices: number; refused: number }[], number] = await tx.query(
      `UPDATE batches SET status = 'done', finished_at = $2, claimed_until = NULL, claimed_by = NULL, claimed_at = NULL
        WHERE id = $1 AND claimed_by = $3
       RETURNING (SELECT count(*)::int FROM batch_works WHERE batch_id = $1 AND notice_id IS NOT NULL) AS notices,
                 (SELECT count(*)::int FROM batch_works WHERE batch_id = $1 AND error IS NOT NULL) AS refused`,
      [batch.id, now, batch.claimedBy],
    );
    if (!done) throw new LostClaim();
    await record(tx, {
      actor: SYSTEM,
      action: 'batch.completed',
      subject: { type: 'batch', id: batch.id },
      details: { works: batch.works, urls: batch.urls, notices: done.notices, refusedWorks: done.refused },
      at: now,
    });
    await queueWebhookEvent(tx, {
      type: 'batch.completed',
      to: { submitterId: batch.submitterId },
      orderingKey: `batch:${batch.id}`,
      data: {
        id: batch.id,
        status: 'done',
        works: batch.works,
        urls: batch.urls,
        notices: done.notices,
        refusedWorks: done.refused,
        statusUrl: `${deps.config.publicBaseUrl}/api/v1/batches/${batch.id}`,
      },
      at: now,
    });
  });
}

/** A work read ahead: the notice to submit and what the intake read for it, or why it cannot be (thrown at its turn). */
type Read = { ok: true; cmd: SubmitNotice; prepared: PreparedNotice } | { ok: false; error: unknown };

/**
 * One work → the notice to submit, from the submitter's profile and standing statements, under the
 * work's idempotency key, with the intake's reads done. Never rejects (it runs ahead, unawaited for
 * a while): a failure is kept and thrown when the work's turn comes.
 */
async function readWork(deps: BatchDeps, batch: Batch, s: Submitter, work: BatchWork): Promise<Read> {
  try {
    const standing = await currentStatements(deps.db.manager, s.id);
    if (!standing)
      throw AppError.validation([
        { field: 'statements', message: 'The standing statements were withdrawn before this work was processed.' },
      ]);
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
    const cmd: SubmitNotice = {
      dto,
      channel: 'api',
      context: { ip: null, requestId: `batch:${batch.id}` },
      idempotencyKey: `batch:${batch.id}:${work.position}`,
      verifiedEmail: true,
      standingStatements: standing,
    };
    return { ok: true, cmd, prepared: await prepareNotice(deps, cmd) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The work's notice, written (or, when an earlier run wrote it, the same one found by its idempotency key). */
async function noticeFor(deps: BatchDeps, read: Read): Promise<{ noticeId: string; reference: string }> {
  if (!read.ok) throw read.error;
  const { answer, noticeId } = await commitNotice(deps, read.cmd, read.prepared);
  if (noticeId) return { noticeId, reference: answer.reference };
  const [{ id }] = await deps.db.query(`SELECT id FROM notices WHERE reference = $1`, [answer.reference]);
  return { noticeId: id, reference: answer.reference };
}

/** An unexpected failure: the claim is given up (another run retries); after MAX_ATTEMPTS the batch fails. */
async function releaseAfterError(deps: BatchDeps, batch: ClaimedBatch, e: unknown) {
  const message = e instanceof Error ? e.message : String(e);
  deps.logger.warn({ batch: batch.id, err: message }, 'batch processing failed; it will be retried');
  await withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const [[row]]: [{ status: string }[], number] = await tx.query(
      `UPDATE batches SET claimed_until = NULL, claimed_by = NULL, claimed_at = NULL, last_error = $2,
              status = CASE WHEN attempts >= $3 THEN 'failed' ELSE status END,
              finished_at = CASE WHEN attempts >= $3 THEN $4::timestamptz ELSE finished_at END
        WHERE id = $1 AND claimed_by = $5 RETURNING status`,
      [batch.id, message.slice(0, 1000), MAX_ATTEMPTS, now, batch.claimedBy],
    );
    if (row?.status === 'failed')
      await record(tx, {
        actor: SYSTEM,
        action: 'batch.failed',
        subject: { type: 'batch', id: batch.id },
        details: { error: message.slice(0, 500) },
        at: now,
      });
  });
}
