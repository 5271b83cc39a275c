import { withTransaction } from '../../db/transaction';
import { record } from '../audit';
import type { Notice } from '../notices';
import { auditActor, lockForReview, ReviewCmd, ReviewDeps, saveNotice } from './review-support';
import { queueNoticeEvents } from '../webhooks';

/** A moderator takes a pending notice: it becomes `in_review`, assigned to them (or to `assignee`). */
export function claimNotice(deps: ReviewDeps, cmd: ReviewCmd & { assignee?: { id: string; email: string } }): Promise<Notice> {
  return withTransaction(deps.db, async (tx) => {
    const { notice, next } = await lockForReview(tx, cmd, 'claim', { needsHolder: false });
    const assignee = cmd.assignee ?? cmd.actor;
    notice.status = next;
    notice.assigneeId = assignee.id;
    await saveNotice(tx, notice);
    await queueNoticeEvents(tx, deps, notice, { from: 'pending', at: deps.clock.now() });
    await record(tx, {
      actor: auditActor(cmd.actor),
      action: 'notice.claimed',
      subject: { type: 'notice', id: notice.reference },
      details: {
        before: { status: 'pending' },
        after: { status: next, assignee: assignee.email },
        ...(cmd.assignee ? { assignedBy: cmd.actor.email } : {}),
      },
      context: cmd.context,
      at: deps.clock.now(),
    });
    return notice;
  });
}
