import { EntityManager } from 'typeorm';
import { Notice } from './notice.entity';
import { NoticeTarget } from './notice-target.entity';
import { can, NoticeStatus } from './notice-state';
import { imageTargetsOf, targetsOf } from './notices.queries';

const STATUS: Record<NoticeStatus, [string, string]> = {
  unverified: [
    'waiting for your confirmation',
    'Follow the link in the email we sent you to confirm your address; then a moderator reviews the notice.',
  ],
  pending: ['in the queue', 'A moderator will review your notice. We email you when something changes.'],
  in_review: ['being reviewed', 'A moderator is reviewing your notice now.'],
  needs_info: ['waiting for your answer', 'We need more information before we can decide. Please answer the question below.'],
  approved: [
    'approved: content removed',
    'The content was removed. The publisher of the material may send a counter-notice; we would tell you.',
  ],
  countered: [
    'counter-notice received',
    'The publisher sent a counter-notice. Unless you tell us you have filed a court action, the material will be restored after the date in our email.',
  ],
  rejected: ['rejected', 'We did not remove the content; the reason is below.'],
  withdrawn: ['withdrawn', 'This notice was withdrawn and will not be acted on.'],
  spam: ['closed', 'This notice was closed without action.'],
  restored: ['content restored', 'After a counter-notice and no court action, the content was restored.'],
  upheld: ['removal upheld', 'You reported a court action, so the content stays removed.'],
  incomplete: [
    'incomplete: waiting for the missing details',
    'Your emailed notice lacks some elements the law requires. Complete it with the link in our email; then a moderator reviews it.',
  ],
};

/** How each target outcome reads on public pages (status page, transparency record). */
export const OUTCOME_LABELS: Record<NoticeTarget['outcome'], string> = {
  pending: 'waiting for a decision',
  removed: 'removed',
  kept: 'not removed',
  not_found: 'not on this site',
  restored: 'restored',
};

const TIMELINE: Record<string, string> = {
  'notice.submitted': 'Notice received.',
  'notice.verified': 'Email address confirmed; the notice entered the queue.',
  'notice.claimed': 'A moderator started the review.',
  'notice.released': 'The notice went back to the queue.',
  'notice.info_requested': 'We asked you a question.',
  'notice.answered': 'You answered; the notice went back to the queue.',
  'notice.approved': 'Decision: content removed.',
  'notice.rejected': 'Decision: rejected.',
  'notice.spam': 'The notice was closed.',
  'notice.withdrawn': 'You withdrew the notice.',
  'notice.expired': 'The notice expired (email not confirmed).',
  'notice.countered': 'A counter-notice was received.',
  'notice.restored': 'The content was restored.',
  'notice.upheld': 'The removal was upheld after a court action.',
  'notice.incomplete': 'Your email was received; some required elements were missing.',
  'notice.completed': 'The missing details were given; the notice entered the queue.',
  'notice.reply_received': 'Your reply by email was received.',
};

export async function timelineOf(tx: EntityManager, reference: string): Promise<{ at: Date; text: string }[]> {
  const rows: { occurred_at: Date; action: string }[] = await tx.query(
    `SELECT occurred_at, action FROM audit_events WHERE subject_type = 'notice' AND subject_id = $1 AND action = ANY($2) ORDER BY id`,
    [reference, Object.keys(TIMELINE)],
  );
  return rows.map((r) => ({ at: r.occurred_at, text: TIMELINE[r.action] }));
}

/** What the complainant's status page and `GET /api/v1/notices/:reference` show. */
export async function complainantView(tx: EntityManager, notice: Notice) {
  const targets = await targetsOf(tx, notice.id);
  const images = await imageTargetsOf(
    tx,
    targets.map((t) => t.imageId),
  );
  const [label, explanation] = STATUS[notice.status];
  return {
    notice,
    statusLabel: label,
    statusExplanation: explanation,
    targets: targets.map((t) => ({
      url: t.url,
      itemId: t.itemId,
      outcome: t.outcome,
      outcomeLabel: OUTCOME_LABELS[t.outcome],
      // SPEC §19: "image in <article>", with the thumbnail we serve (never the claimant's domain).
      image: t.imageId ? (images.get(t.imageId) ?? null) : null,
    })),
    noneOnSite: targets.length > 0 && targets.every((t) => !t.itemId),
    timeline: await timelineOf(tx, notice.reference),
    canAnswer: notice.status === 'needs_info' && !!notice.infoRequest,
    canWithdraw: can(notice.status, 'withdraw'),
  };
}

/** The API shape of the same (no internal notes, flags or assignee). */
export function complainantJson(view: Awaited<ReturnType<typeof complainantView>>) {
  const n = view.notice;
  return {
    reference: n.reference,
    status: n.status,
    statusLabel: view.statusLabel,
    claimType: n.claimType,
    submittedAt: n.submittedAt,
    decision: n.decision,
    decisionReason: n.decisionReason,
    question: n.status === 'needs_info' ? (n.infoRequest?.question ?? null) : null,
    targets: view.targets.map((t) => ({
      url: t.url,
      matched: !!t.itemId,
      itemId: t.itemId,
      outcome: t.outcome,
      ...(t.image ? { image: { id: t.image.id, status: t.image.status, inItem: t.image.itemTitle } } : {}),
    })),
    timeline: view.timeline,
  };
}
