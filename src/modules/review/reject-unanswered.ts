import { withTransaction } from '../../db/transaction';
import { SYSTEM } from '../audit';
import { closeNotice, lockDueNotices } from '../notices';
import { queueRejectedEmail } from './decision-emails';
import type { ReviewDeps } from './review-support';
import { announceNoticeChange } from './live-events';

/**
 * Scheduled: `needs_info` notices whose answer deadline (their `due_at`) has passed are rejected,
 * audited as `system`, and the complainant is emailed. SKIP LOCKED lets several instances share
 * the work and never waits on a notice a person is changing right now.
 */
export async function rejectUnansweredNotices(deps: ReviewDeps): Promise<number> {
  const now = deps.clock.now();
  return withTransaction(deps.db, async (tx) => {
    const notices = await lockDueNotices(tx, { status: 'needs_info', dueBefore: now, limit: 100 });
    for (const notice of notices) {
      const reason = `We asked a question on ${notice.infoRequest?.askedAt.slice(0, 10) ?? 'an earlier date'} and received no answer within ${deps.config.policy.needsInfoDays} days, so the notice was closed. You may send a new notice with the missing information.`;
      await closeNotice(tx, deps, notice, {
        event: 'reject',
        decision: 'rejected',
        reason,
        decidedBy: null,
        at: now,
        statement: {
          decision: 'rejected',
          facts: 'The complainant did not answer the question asked by the deadline.',
          explanation: reason,
          automated: true,
        },
        audit: { actor: SYSTEM, action: 'notice.rejected', details: { reason, automatic: true, deadline: notice.infoRequest?.deadline } },
      });
      await queueRejectedEmail(tx, deps, notice, { automatic: true });
      await announceNoticeChange(tx, notice);
    }
    return notices.length;
  });
}
