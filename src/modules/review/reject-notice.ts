import { withTransaction } from '../../db/transaction';
import { closeNotice, type Notice } from '../notices';
import { queueRejectedEmail } from './decision-emails';
import { auditActor, lockForReview, requireText, ReviewCmd, ReviewDeps } from './review-support';
import { announceNoticeChange } from './live-events';

/** Reject: nothing is removed; the reason (required) is shown to the complainant and emailed. */
export async function rejectNotice(deps: ReviewDeps, cmd: ReviewCmd & { reason: string }): Promise<Notice> {
  const reason = requireText('reason', cmd.reason, 'the reason for the complainant');
  return withTransaction(deps.db, async (tx) => {
    const { notice, override } = await lockForReview(tx, cmd, 'reject', { needsHolder: true });
    await closeNotice(tx, deps, notice, {
      event: 'reject',
      decision: 'rejected',
      reason,
      decidedBy: cmd.actor.id,
      at: deps.clock.now(),
      statement: { decision: 'rejected', facts: `Notice ${notice.reference} was reviewed by a moderator.`, explanation: reason },
      audit: {
        actor: auditActor(cmd.actor),
        action: 'notice.rejected',
        details: { reason, ...(override ? { override: true } : {}) },
        context: cmd.context,
      },
    });
    await queueRejectedEmail(tx, deps, notice, { automatic: false });
    await announceNoticeChange(tx, notice);
    return notice;
  });
}
