import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { record } from '../audit';
import type { Notice } from '../notices';
import { claimNotice } from './claim-notice';
import { auditActor, lockForReview, ReviewCmd, ReviewDeps, saveNotice } from './review-support';

/**
 * Give a notice to a moderator (bulk "assign" on the queue). A pending notice is claimed on their
 * behalf; one in review changes hands if the actor holds it or is an admin (an override).
 */
export async function assignNotice(deps: ReviewDeps, cmd: ReviewCmd & { assigneeId: string }): Promise<Notice> {
  const [assignee] = await deps.db.query(`SELECT id, email FROM users WHERE id = $1 AND active`, [
    /^[0-9a-f-]{36}$/i.test(cmd.assigneeId) ? cmd.assigneeId : null,
  ]);
  if (!assignee) throw AppError.validation([{ field: 'assignee', message: 'Choose an active staff member.' }]);
  const [row] = await deps.db.query(`SELECT status FROM notices WHERE reference = $1`, [String(cmd.reference).toUpperCase()]);
  if (row?.status !== 'in_review') return claimNotice(deps, { ...cmd, assignee });
  return withTransaction(deps.db, async (tx) => {
    // Re-checked under the lock: "release" is legal exactly when a notice is in review.
    const { notice, override } = await lockForReview(tx, cmd, 'release', { needsHolder: true });
    const before = notice.assigneeId;
    notice.assigneeId = assignee.id;
    await saveNotice(tx, notice);
    await record(tx, {
      actor: auditActor(cmd.actor),
      action: 'notice.reassigned',
      subject: { type: 'notice', id: notice.reference },
      details: { before: { assigneeId: before }, after: { assignee: assignee.email }, ...(override ? { override: true } : {}) },
      context: cmd.context,
      at: deps.clock.now(),
    });
    return notice;
  });
}
