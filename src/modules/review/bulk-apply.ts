import { AppError } from '../../shared/errors';
import { assignNotice } from './assign-notice';
import type { BulkAction, BulkJob } from './bulk-job.entity';
import { appliedByJob, type BulkResult } from './bulk.queries';
import { claimNotice } from './claim-notice';
import { decide } from './decide';
import { releaseNotice } from './release-notice';
import type { ReviewCmd, ReviewDeps } from './review-support';

/** The audit action that says a job's action was applied to a notice (for resuming after a crash). */
const DONE_BY: Record<BulkAction, string[]> = {
  claim: ['notice.claimed'],
  release: ['notice.released'],
  assign: ['notice.claimed', 'notice.reassigned'],
  reject: ['notice.rejected'],
  spam: ['notice.spam'],
  approve: ['notice.approved'],
};

const VERBS: Record<string, string> = {
  'notice.claimed': 'claimed',
  'notice.released': 'released',
  'notice.reassigned': 'reassigned',
  'notice.approved': 'approved',
  'notice.rejected': 'rejected',
  'notice.spam': 'marked as spam',
  'notice.info_requested': 'sent a question about',
  'notice.withdrawn': 'withdrawn',
  'notice.answered': 'answered',
};

/**
 * Applies a job's action to one notice through the review module's own use cases, so each notice
 * is its own transaction with its own audit event(s) and email(s), exactly as a single decision.
 * A pending notice is claimed first for approve and reject (as a moderator does by hand). The
 * holder rule is the single decisions' own (an admin overrides, audited as such). A notice
 * someone else holds or already decided is a result naming them ("claimed by Ana"), never a failure
 * of the job; an unexpected error (the database gone) is thrown, and the job is retried.
 */
export async function applyToNotice(
  deps: ReviewDeps,
  job: BulkJob,
  reference: string,
  opts: { resumed: boolean },
): Promise<Omit<BulkResult, 'reference'>> {
  const cmd: ReviewCmd = { reference, actor: job.actor, context: { ip: job.ip, requestId: `bulk:${job.id}` } };
  // Only a run after another one (attempts > 1) can find its own earlier change.
  if (opts.resumed && (await appliedByJob(deps.db, job.id, reference, DONE_BY[job.action])))
    return { ok: true, error: null, code: null, by: null };
  try {
    const [n] = await deps.db.query(
      `SELECT n.status,
              NOT EXISTS (SELECT 1 FROM notice_targets t WHERE t.notice_id = n.id AND t.item_id IS NULL) AS all_matched
         FROM notices n WHERE n.reference = $1`,
      [reference],
    );
    if (!n) return { ok: false, error: 'No such notice.', code: 'NOTICE.NOT_FOUND', by: null };
    if (job.action === 'approve' && !n.all_matched)
      return {
        ok: false,
        error: 'Not every URL of this notice is on this site: decide it on its own page.',
        code: 'NOTICE.NOT_ALL_MATCHED',
        by: null,
      };
    if ((job.action === 'approve' || job.action === 'reject') && n.status === 'pending') await claimNotice(deps, cmd);
    await run(deps, job, cmd);
    return { ok: true, error: null, code: null, by: null };
  } catch (e) {
    if (!(e instanceof AppError) || e.status >= 500) throw e;
    return refusal(deps, e);
  }
}

function run(deps: ReviewDeps, job: BulkJob, cmd: ReviewCmd): Promise<unknown> {
  const reason = job.params.reason;
  switch (job.action) {
    case 'claim':
      return claimNotice(deps, cmd);
    case 'release':
      return releaseNotice(deps, cmd);
    case 'assign':
      return assignNotice(deps, { ...cmd, assigneeId: job.params.assigneeId ?? '' });
    case 'reject':
    case 'spam':
    case 'approve':
      return decide(deps, { ...cmd, action: job.action, reason });
  }
}

/** A refused notice as a result: who acted first, by name when they are staff ("rejected by Ana"). */
async function refusal(deps: ReviewDeps, e: AppError): Promise<Omit<BulkResult, 'reference'>> {
  const d = e.details as Record<string, unknown>;
  if (typeof d.heldBy === 'string') {
    const name = d.heldBy.replace(/\s*<[^>]*>$/, '');
    return { ok: false, error: `claimed by ${name}`, code: e.code, by: name };
  }
  if (typeof d.actedBy === 'string' && typeof d.lastAction === 'string' && VERBS[d.lastAction]) {
    const [u] = await deps.db.query(`SELECT name FROM users WHERE email = $1`, [d.actedBy]);
    const name = u?.name || d.actedBy;
    return { ok: false, error: `${VERBS[d.lastAction]} by ${name}`, code: e.code, by: name };
  }
  const fields = (d.errors as { field: string; message: string }[] | undefined)?.map((x) => x.message).join(' ');
  return { ok: false, error: fields || e.message, code: e.code, by: null };
}
