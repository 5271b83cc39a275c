import { withTransaction } from '../../db/transaction';
import { record } from '../audit';
import { enqueue } from '../mail';
import type { Notice } from '../notices';
import { auditActor, lockForReview, requireText, ReviewCmd, ReviewDeps, saveNotice, statusPageUrl } from './review-support';
import { queueNoticeEvents } from '../webhooks';

/**
 * Ask the complainant a question: `needs_info` until they answer on their status page (back to
 * `pending`) or NEEDS_INFO_DAYS pass (rejected by the job). The email links to the status page
 * without the token, which only exists in the acknowledgement email (we keep its hash only).
 * While waiting, `due_at` is the answer deadline.
 */
export async function requestInfo(deps: ReviewDeps, cmd: ReviewCmd & { question: string }): Promise<Notice> {
  const question = requireText('question', cmd.question, 'the question for the complainant');
  return withTransaction(deps.db, async (tx) => {
    const { notice, next, override } = await lockForReview(tx, cmd, 'request_info', { needsHolder: true });
    const now = deps.clock.now();
    const deadline = new Date(now.getTime() + deps.config.policy.needsInfoDays * 86_400_000);
    notice.status = next;
    notice.infoRequest = { question, askedAt: now.toISOString(), deadline: deadline.toISOString() };
    notice.dueAt = deadline;
    notice.assigneeId = null;
    await saveNotice(tx, notice);
    await queueNoticeEvents(tx, deps, notice, { from: 'in_review', at: now });
    await record(tx, {
      actor: auditActor(cmd.actor),
      action: 'notice.info_requested',
      subject: { type: 'notice', id: notice.reference },
      details: {
        before: { status: 'in_review' },
        after: { status: next },
        question,
        deadline: deadline.toISOString(),
        ...(override ? { override: true } : {}),
      },
      context: cmd.context,
      at: now,
    });
    await enqueue(
      tx,
      'notice-question',
      notice.email,
      {
        reference: notice.reference,
        name: notice.name,
        question,
        deadline: deadline.toISOString(),
        statusUrl: statusPageUrl(deps, notice),
      },
      { noticeId: notice.id, dedupeKey: `notice-question:${notice.id}:${now.getTime()}` },
    );
    return notice;
  });
}
