import { withTransaction } from '../../db/transaction';
import { record } from '../audit';
import { keepPendingTargets, type Notice } from '../notices';
import { auditActor, lockForReview, ReviewCmd, ReviewDeps, saveNotice, statementOfReasons } from './review-support';

/** Close a notice as spam (from `pending` or `in_review`): nothing removed, no email (it would feed the sender). */
export async function markSpam(deps: ReviewDeps, cmd: ReviewCmd & { reason?: string }): Promise<Notice> {
  return withTransaction(deps.db, async (tx) => {
    const { notice, next, override } = await lockForReview(tx, cmd, 'spam', { needsHolder: true });
    const now = deps.clock.now();
    const from = notice.status;
    const reason = cmd.reason?.trim() || 'Closed as spam: not a genuine takedown notice.';
    notice.status = next;
    notice.decision = 'spam';
    notice.decisionReason = reason;
    notice.decidedAt = now;
    notice.decidedBy = cmd.actor.id;
    notice.dueAt = null;
    notice.statementOfReasons = statementOfReasons(deps, notice, { decision: 'spam', facts: `Notice ${notice.reference} was judged not to be a genuine notice.`, explanation: reason, at: now });
    await saveNotice(tx, notice);
    await keepPendingTargets(tx, notice.id);
    await record(tx, {
      actor: auditActor(cmd.actor), action: 'notice.spam', subject: { type: 'notice', id: notice.reference },
      details: { before: { status: from }, after: { status: next }, reason, ...(override ? { override: true } : {}) }, context: cmd.context, at: now,
    });
    return notice;
  });
}
