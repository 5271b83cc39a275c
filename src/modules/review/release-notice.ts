import { withTransaction } from '../../db/transaction';
import { record } from '../audit';
import type { Notice } from '../notices';
import { auditActor, lockForReview, ReviewCmd, ReviewDeps, saveNotice } from './review-support';
import { queueNoticeEvents } from '../webhooks';

/** The holder (or an admin, audited as an override) gives a notice back to the queue. The SLA keeps running. */
export function releaseNotice(deps: ReviewDeps, cmd: ReviewCmd): Promise<Notice> {
  return withTransaction(deps.db, async (tx) => {
    const { notice, next, override } = await lockForReview(tx, cmd, 'release', { needsHolder: true });
    const before = { status: notice.status, assigneeId: notice.assigneeId };
    notice.status = next;
    notice.assigneeId = null;
    await saveNotice(tx, notice);
    await queueNoticeEvents(tx, deps, notice, { from: before.status, at: deps.clock.now() });
    await record(tx, {
      actor: auditActor(cmd.actor),
      action: 'notice.released',
      subject: { type: 'notice', id: notice.reference },
      details: { before, after: { status: next }, ...(override ? { override: true } : {}) },
      context: cmd.context,
      at: deps.clock.now(),
    });
    return notice;
  });
}
