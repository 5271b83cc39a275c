import { EntityManager } from 'typeorm';
import type { ContentChange, ImageChange } from '../items';
import { sourceContactsOf } from '../items';
import { enqueue } from '../mail';
import { complaintDeadline, sourceComplaintUrl } from '../complaints';
import { claimantOf, legalBasisOf, type Notice, outcomesOf } from '../notices';
import { ReviewDeps, statusPageUrl } from './review-support';

/**
 * The emails a decision queues, each built here beside its template's name (views/emails/<name>),
 * so a use case says only which ones it sends. All go through the outbox in the decision's
 * transaction; each has a dedupe key, so a retried decision never emails twice.
 */

/** `notice-rejected` → the complainant (a moderator's rejection, or the automatic one after an unanswered question). */
export async function queueRejectedEmail(tx: EntityManager, deps: ReviewDeps, notice: Notice, o: { automatic: boolean }): Promise<void> {
  await enqueue(
    tx,
    'notice-rejected',
    notice.email,
    {
      reference: notice.reference,
      name: notice.name,
      reason: notice.decisionReason,
      automatic: o.automatic,
      targets: await outcomesOf(tx, notice.id),
      statusUrl: statusPageUrl(deps, notice),
    },
    { noticeId: notice.id, dedupeKey: `notice-rejected:${notice.id}` },
  );
}

/** `notice-approved` → the complainant, with every URL's outcome. */
export async function queueApprovedEmail(tx: EntityManager, deps: ReviewDeps, notice: Notice): Promise<void> {
  await enqueue(
    tx,
    'notice-approved',
    notice.email,
    {
      reference: notice.reference,
      name: notice.name,
      partly: notice.decision === 'partly_approved',
      reason: notice.decisionReason,
      targets: await outcomesOf(tx, notice.id),
      statusUrl: statusPageUrl(deps, notice),
    },
    { noticeId: notice.id, dedupeKey: `notice-approved:${notice.id}` },
  );
}

/** `content-removed` → each affected source's contact: what was removed, under which notice, and how to counter-notify. */
export async function queueContentRemovedEmails(
  tx: EntityManager,
  deps: ReviewDeps,
  notice: Notice,
  removed: ContentChange['changed'],
  /** SPEC §19: images removed from pages that stay published. */
  images: ImageChange['changed'] = [],
): Promise<void> {
  const base = deps.config.publicBaseUrl;
  const bySource = new Map<string, { url: string; title: string; originalUrl: string; image?: string }[]>();
  const add = (item: ContentChange['changed'][number], image?: string) =>
    bySource.set(item.sourceId, [
      ...(bySource.get(item.sourceId) ?? []),
      { url: `${base}/items/${item.slug}`, title: item.title, originalUrl: item.originalUrl, ...(image ? { image } : {}) },
    ]);
  for (const item of removed) add(item);
  for (const g of images) add(g.item, g.url);
  const contacts = await sourceContactsOf(tx, [...bySource.keys()]);
  for (const [sourceId, items] of bySource) {
    const src = contacts.get(sourceId);
    if (!src?.contactEmail) continue;
    await enqueue(
      tx,
      'content-removed',
      src.contactEmail,
      {
        sourceName: src.name,
        reference: notice.reference,
        claimant: claimantOf(notice) ?? '[private]',
        legalBasis: legalBasisOf(notice),
        items,
        counterNoticeUrl: `${base}/counter-notice?notice=${notice.reference}`,
        policyUrl: `${base}/dmca`,
        restoreBusinessDays: deps.config.policy.restoreBusinessDays,
        // SPEC §18: the source's signed link to complain about the removal (six months).
        complaintUrl: deps.sessionSecret ? sourceComplaintUrl(base, deps.sessionSecret, notice.reference, sourceId) : null,
        complaintDeadline: complaintDeadline(notice.decidedAt ?? deps.clock.now())
          .toISOString()
          .slice(0, 10),
      },
      { noticeId: notice.id, dedupeKey: `content-removed:${notice.id}:${sourceId}` },
    );
  }
}
