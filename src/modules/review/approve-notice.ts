import { withTransaction } from '../../db/transaction';
import { removeItems } from '../items';
import { claimantOf, closeNotice, legalBasisOf, markTargetsRemoved, Notice, pickTargets, targetsOf } from '../notices';
import { AppError } from '../../shared/errors';
import { addStrikes } from './add-strikes';
import { queueApprovedEmail, queueContentRemovedEmails } from './decision-emails';
import { auditActor, lockForReview, ReviewCmd, ReviewDeps } from './review-support';
import { announceNoticeChange } from './live-events';

export interface ApproveNotice extends ReviewCmd {
  /** Limit the removal to these URLs of the notice (as given or any spelling); the other matched targets are `kept`. */
  targets?: string[];
  /** Optional words for the complainant and the statement of reasons. */
  reason?: string;
}

const STANDARD_EXPLANATION =
  'The notice identifies the copyrighted work and the republished copies of it on this site, and contains the statements 17 U.S.C. § 512(c)(3) requires.';

/**
 * Approve: remove the chosen (default: every matched, pending) target's item, mark the rest
 * `kept`, store the decision and its statement of reasons, strike each affected source, and queue
 * the complainant's outcome email and one `content-removed` email per affected source's contact.
 */
export async function approveNotice(deps: ReviewDeps, cmd: ApproveNotice): Promise<Notice> {
  return withTransaction(deps.db, async (tx) => {
    const { notice, override } = await lockForReview(tx, cmd, 'approve', { needsHolder: true });
    const now = deps.clock.now();
    const { removable, chosen } = pickTargets(await targetsOf(tx, notice.id), cmd.targets, deps.config.publicBaseUrl);
    if (!chosen.length) {
      throw AppError.validation([
        { field: 'targets', message: 'No URL of this notice is on this site, so there is nothing to remove. Reject the notice instead.' },
      ]);
    }
    const change = await removeItems(tx, {
      itemIds: chosen.map((t) => t.itemId!),
      noticeId: notice.id,
      reference: notice.reference,
      claimant: claimantOf(notice),
      legalBasis: legalBasisOf(notice),
      actor: auditActor(cmd.actor),
      context: cmd.context,
      at: now,
    });
    // Removed now, or already removed by another notice: either way the content is down.
    const down = new Set([
      ...change.changed.map((i) => i.id),
      ...change.unchanged.filter((u) => u.item.status === 'removed').map((u) => u.item.id),
    ]);
    const removed = chosen.filter((t) => down.has(t.itemId!));
    await markTargetsRemoved(
      tx,
      notice.id,
      removed.map((t) => t.id),
    );
    const removedUrls = removed.map((t) => t.url);
    const keptUrls = removable.filter((t) => !chosen.includes(t)).map((t) => t.url);
    const strikes = await addStrikes(
      tx,
      deps,
      notice,
      change.changed.map((i) => i.sourceId),
      now,
    );
    await closeNotice(tx, deps, notice, {
      event: 'approve',
      decision: removedUrls.length === removable.length ? 'approved' : 'partly_approved',
      reason: cmd.reason?.trim() || null,
      decidedBy: cmd.actor.id,
      at: now,
      statement: {
        decision: 'approved',
        explanation: cmd.reason?.trim() || STANDARD_EXPLANATION,
        removedUrls,
        facts: `Notice ${notice.reference} from ${claimantOf(notice) ?? 'a private person'} (${notice.role}) about: ${notice.workDescription.slice(0, 500)}. ${removedUrls.length} URL(s) matched republished items and were removed${keptUrls.length ? `; ${keptUrls.length} matched URL(s) were kept` : ''}.`,
      },
      audit: {
        actor: auditActor(cmd.actor),
        action: 'notice.approved',
        context: cmd.context,
        details: {
          removed: removedUrls,
          kept: keptUrls,
          alreadyRemoved: change.unchanged.map((u) => ({ id: u.item.id, reason: u.reason })),
          strikes,
          ...(override ? { override: true } : {}),
        },
      },
    });
    await queueApprovedEmail(tx, deps, notice);
    await announceNoticeChange(tx, notice);
    await queueContentRemovedEmails(tx, deps, notice, change.changed);
    return notice;
  });
}
