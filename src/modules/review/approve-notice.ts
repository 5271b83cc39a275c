import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { normaliseUrl } from '../../shared/url';
import { record } from '../audit';
import { complaintDeadline, sourceComplaintUrl } from '../complaints';
import { removeItems } from '../items';
import { enqueue } from '../mail';
import { Notice, targetsOf } from '../notices';
import { addStrikes } from './add-strikes';
import {
  auditActor, claimantOf, legalBasisOf, lockForReview, outcomesOf, ReviewCmd, ReviewDeps, saveNotice, statementOfReasons, statusPageUrl,
} from './review-support';

export interface ApproveNotice extends ReviewCmd {
  /** Limit the removal to these URLs of the notice (as given or any spelling); the other matched targets are `kept`. */
  targets?: string[];
  /** Optional words for the complainant and the statement of reasons. */
  reason?: string;
}

/**
 * Approve: remove the chosen (default: every matched, pending) target's item, mark the rest
 * `kept`, store the decision and its statement of reasons, strike each affected source, and queue
 * the complainant's outcome email and one `content-removed` email per affected source's contact.
 */
export async function approveNotice(deps: ReviewDeps, cmd: ApproveNotice): Promise<Notice> {
  const base = deps.config.publicBaseUrl;
  return withTransaction(deps.db, async (tx) => {
    const { notice, next, override } = await lockForReview(tx, cmd, 'approve', { needsHolder: true });
    const now = deps.clock.now();
    const targets = await targetsOf(tx, notice.id);
    const removable = targets.filter((t) => t.itemId && t.outcome === 'pending');

    let chosen = removable;
    if (cmd.targets?.length) {
      const errors: { field: string; message: string }[] = [];
      const picked = new Set<string>();
      cmd.targets.forEach((url, i) => {
        const norm = normaliseUrl(String(url).trim(), base) ?? String(url).trim();
        const t = targets.find((x) => x.url === url || x.normalisedUrl === norm);
        if (!t) errors.push({ field: `targets.${i}`, message: `${url} is not one of this notice's URLs.` });
        else if (!t.itemId) errors.push({ field: `targets.${i}`, message: `${url} is not on this site: there is nothing to remove.` });
        else if (t.outcome !== 'pending') errors.push({ field: `targets.${i}`, message: `${url} was already decided (${t.outcome}).` });
        else picked.add(t.id);
      });
      if (errors.length) throw AppError.validation(errors, 'Choose URLs of this notice that are on this site.');
      chosen = removable.filter((t) => picked.has(t.id));
    }
    if (!chosen.length) {
      throw AppError.validation([{ field: 'targets', message: 'No URL of this notice is on this site, so there is nothing to remove. Reject the notice instead.' }]);
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
    const down = new Set([...change.changed.map((i) => i.id), ...change.unchanged.filter((u) => u.item.status === 'removed').map((u) => u.item.id)]);
    const removedIds = chosen.filter((t) => down.has(t.itemId!)).map((t) => t.id);
    await tx.query(
      `UPDATE notice_targets SET outcome = CASE WHEN id = ANY($2::uuid[]) THEN 'removed' ELSE 'kept' END WHERE notice_id = $1 AND outcome = 'pending'`,
      [notice.id, removedIds],
    );

    const removedUrls = chosen.filter((t) => removedIds.includes(t.id)).map((t) => t.url);
    const keptUrls = removable.filter((t) => !chosen.includes(t)).map((t) => t.url);
    const explanation = cmd.reason?.trim() || `The notice identifies the copyrighted work and the republished copies of it on this site, and contains the statements 17 U.S.C. § 512(c)(3) requires.`;
    notice.status = next;
    notice.decision = removedUrls.length === removable.length ? 'approved' : 'partly_approved';
    notice.decisionReason = cmd.reason?.trim() || null;
    notice.decidedAt = now;
    notice.decidedBy = cmd.actor.id;
    notice.dueAt = null;
    notice.statementOfReasons = statementOfReasons(deps, notice, {
      decision: 'approved',
      facts: `Notice ${notice.reference} from ${claimantOf(notice) ?? 'a private person'} (${notice.role}) about: ${notice.workDescription.slice(0, 500)}. ${removedUrls.length} URL(s) matched republished items and were removed${keptUrls.length ? `; ${keptUrls.length} matched URL(s) were kept` : ''}.`,
      explanation,
      removedUrls,
      at: now,
    });
    await saveNotice(tx, notice);

    const sources = new Map<string, { id: string; urls: { url: string; title: string; originalUrl: string }[] }>();
    for (const item of change.changed) {
      const s = sources.get(item.sourceId) ?? { id: item.sourceId, urls: [] };
      s.urls.push({ url: `${base}/items/${item.slug}`, title: item.title, originalUrl: item.originalUrl });
      sources.set(item.sourceId, s);
    }
    const strikes = await addStrikes(tx, deps, notice, [...sources.keys()], now);

    await record(tx, {
      actor: auditActor(cmd.actor),
      action: 'notice.approved',
      subject: { type: 'notice', id: notice.reference },
      details: {
        before: { status: 'in_review' }, after: { status: next, decision: notice.decision },
        removed: removedUrls, kept: keptUrls, alreadyRemoved: change.unchanged.map((u) => ({ id: u.item.id, reason: u.reason })),
        strikes, ...(override ? { override: true } : {}),
      },
      context: cmd.context,
      at: now,
    });

    await enqueue(tx, 'notice-approved', notice.email, {
      reference: notice.reference, name: notice.name, partly: notice.decision === 'partly_approved',
      reason: notice.decisionReason, targets: await outcomesOf(tx, notice.id), statusUrl: statusPageUrl(deps, notice),
    }, { noticeId: notice.id, dedupeKey: `notice-approved:${notice.id}` });

    for (const s of sources.values()) {
      const [src] = await tx.query(`SELECT name, contact_email FROM sources WHERE id = $1`, [s.id]);
      if (!src?.contact_email) continue;
      await enqueue(tx, 'content-removed', src.contact_email, {
        sourceName: src.name, reference: notice.reference, claimant: claimantOf(notice) ?? '[private]', legalBasis: legalBasisOf(notice),
        items: s.urls, counterNoticeUrl: `${base}/counter-notice?notice=${notice.reference}`, policyUrl: `${base}/dmca`,
        restoreBusinessDays: deps.config.policy.restoreBusinessDays,
        // SPEC §18: the source's signed link to complain about the removal (six months).
        complaintUrl: deps.sessionSecret ? sourceComplaintUrl(base, deps.sessionSecret, notice.reference, s.id) : null,
        complaintDeadline: complaintDeadline(now).toISOString().slice(0, 10),
      }, { noticeId: notice.id, dedupeKey: `content-removed:${notice.id}:${s.id}` });
    }
    return notice;
  });
}
