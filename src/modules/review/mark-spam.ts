import { withTransaction } from '../../db/transaction';
import { closeNotice, type Notice } from '../notices';
import { auditActor, lockForReview, ReviewCmd, ReviewDeps } from './review-support';
import { announceNoticeChange } from './live-events';

/** Close a notice as spam (from `pending` or `in_review`): nothing removed, no email (it would feed the sender). */
export async function markSpam(deps: ReviewDeps, cmd: ReviewCmd & { reason?: string }): Promise<Notice> {
  return withTransaction(deps.db, async (tx) => {
    const { notice, override } = await lockForReview(tx, cmd, 'spam', { needsHolder: true });
    const reason = cmd.reason?.trim() || 'Closed as spam: not a genuine takedown notice.';
    await closeNotice(tx, deps, notice, {
      event: 'spam',
      decision: 'spam',
      reason,
      decidedBy: cmd.actor.id,
      at: deps.clock.now(),
      statement: { decision: 'spam', facts: `Notice ${notice.reference} was judged not to be a genuine notice.`, explanation: reason },
      audit: {
        actor: auditActor(cmd.actor),
        action: 'notice.spam',
        details: { reason, ...(override ? { override: true } : {}) },
        context: cmd.context,
      },
    });
    await announceNoticeChange(tx, notice);
    return notice;
  });
}
