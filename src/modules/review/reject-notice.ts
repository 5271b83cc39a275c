import { withTransaction } from '../../db/transaction';
import { record } from '../audit';
import { enqueue } from '../mail';
import { keepPendingTargets, type Notice } from '../notices';
import { auditActor, lockForReview, outcomesOf, requireText, ReviewCmd, ReviewDeps, saveNotice, statementOfReasons, statusPageUrl } from './review-support';

/** Reject: nothing is removed; the reason (required) is shown to the complainant and emailed. */
export async function rejectNotice(deps: ReviewDeps, cmd: ReviewCmd & { reason: string }): Promise<Notice> {
  const reason = requireText('reason', cmd.reason, 'the reason for the complainant');
  return withTransaction(deps.db, async (tx) => {
    const { notice, next, override } = await lockForReview(tx, cmd, 'reject', { needsHolder: true });
    const now = deps.clock.now();
    const from = notice.status;
    notice.status = next;
    notice.decision = 'rejected';
    notice.decisionReason = reason;
    notice.decidedAt = now;
    notice.decidedBy = cmd.actor.id;
    notice.dueAt = null;
    notice.statementOfReasons = statementOfReasons(deps, notice, { decision: 'rejected', facts: `Notice ${notice.reference} was reviewed by a moderator.`, explanation: reason, at: now });
    await saveNotice(tx, notice);
    await keepPendingTargets(tx, notice.id);
    await record(tx, {
      actor: auditActor(cmd.actor), action: 'notice.rejected', subject: { type: 'notice', id: notice.reference },
      details: { before: { status: from }, after: { status: next }, reason, ...(override ? { override: true } : {}) }, context: cmd.context, at: now,
    });
    await enqueue(tx, 'notice-rejected', notice.email, {
      reference: notice.reference, name: notice.name, reason, automatic: false, targets: await outcomesOf(tx, notice.id), statusUrl: statusPageUrl(deps, notice),
    }, { noticeId: notice.id, dedupeKey: `notice-rejected:${notice.id}` });
    return notice;
  });
}
