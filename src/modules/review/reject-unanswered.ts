import { withTransaction } from '../../db/transaction';
import { record, SYSTEM } from '../audit';
import { enqueue } from '../mail';
import { keepPendingTargets, Notice, transition } from '../notices';
import { outcomesOf, ReviewDeps, statementOfReasons, statusPageUrl } from './review-support';

/**
 * Scheduled: `needs_info` notices whose answer deadline (their `due_at`) has passed are rejected,
 * audited as `system`, and the complainant is emailed. SKIP LOCKED lets several instances share
 * the work and never waits on a notice a person is changing right now.
 */
export async function rejectUnansweredNotices(deps: ReviewDeps): Promise<number> {
  const now = deps.clock.now();
  return withTransaction(deps.db, async (tx) => {
    const rows: { id: string }[] = await tx.query(
      `SELECT id FROM notices WHERE status = 'needs_info' AND due_at < $1 ORDER BY due_at LIMIT 100 FOR UPDATE SKIP LOCKED`,
      [now],
    );
    for (const { id } of rows) {
      const notice = await tx.getRepository(Notice).findOneByOrFail({ id });
      const reason = `We asked a question on ${notice.infoRequest?.askedAt.slice(0, 10) ?? 'an earlier date'} and received no answer within ${deps.config.policy.needsInfoDays} days, so the notice was closed. You may send a new notice with the missing information.`;
      notice.status = transition(notice.status, 'reject');
      notice.decision = 'rejected';
      notice.decisionReason = reason;
      notice.decidedAt = now;
      notice.decidedBy = null;
      notice.dueAt = null;
      notice.statementOfReasons = statementOfReasons(deps, notice, { decision: 'rejected', facts: 'The complainant did not answer the question asked by the deadline.', explanation: reason, automated: true, at: now });
      await tx.getRepository(Notice).save(notice);
      await keepPendingTargets(tx, notice.id);
      await record(tx, {
        actor: SYSTEM, action: 'notice.rejected', subject: { type: 'notice', id: notice.reference },
        details: { before: { status: 'needs_info' }, after: { status: notice.status }, reason, automatic: true, deadline: notice.infoRequest?.deadline }, at: now,
      });
      await enqueue(tx, 'notice-rejected', notice.email, {
        reference: notice.reference, name: notice.name, reason, automatic: true, targets: await outcomesOf(tx, notice.id), statusUrl: statusPageUrl(deps, notice),
      }, { noticeId: notice.id, dedupeKey: `notice-rejected:${notice.id}` });
    }
    return rows.length;
  });
}
