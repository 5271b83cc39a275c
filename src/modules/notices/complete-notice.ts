import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { Actor, PUBLIC, record, RequestContext, SYSTEM } from '../audit';
import { enqueueMany } from '../mail';
import { applyAnswer } from './complainant-actions';
import { intakeEmails, prepareIntake } from './intake';
import { ACCURACY_STATEMENT, GOOD_FAITH_STATEMENT, NoticeDto } from './notice.dto';
import { Notice } from './notice.entity';
import { transition } from './notice-state';
import { findForComplainant, keepPendingTargets, lockByReference, replaceTargets } from './notices.queries';
import { notifiesEachNotice } from './notify-moderators';

type Deps = Pick<AppDeps, 'db' | 'clock' | 'config'>;

/** The incomplete notice as the form's values (the completion link pre-fills the form with them). */
export async function completionValues(tx: EntityManager, notice: Notice): Promise<Record<string, unknown>> {
  const targets: { url: string }[] = await tx.query(`SELECT url FROM notice_targets WHERE notice_id = $1 ORDER BY position`, [notice.id]);
  return {
    claimType: notice.claimType,
    name: notice.name,
    organization: notice.organization ?? '',
    email: notice.email,
    phone: notice.phone ?? '',
    address: notice.address,
    country: notice.country === 'ZZ' ? '' : notice.country,
    role: notice.role,
    rightsOwner: notice.rightsOwner ?? '',
    workDescription: notice.workDescription,
    originalUrls: notice.originalUrls.join('\n'),
    infringingUrls: targets.map((t) => t.url).join('\n'),
    goodFaith: !!notice.goodFaithStatement,
    accuracy: !!notice.accuracyStatement,
    signature: notice.signature,
  };
}

/**
 * An `incomplete` notice (emailed, missing elements) is completed — by the sender through the
 * emailed link (`/takedown/complete/<reference>?token=`), or by a moderator from the mailbox — with
 * the notice form's full validation: it takes the form's values, its targets are matched anew, it
 * enters the queue (`notice.completed`), the acknowledgement goes out and the moderators are told.
 */
export async function completeNotice(
  deps: Deps,
  cmd: { reference: string; token?: unknown; dto: NoticeDto; actor?: Actor; context: RequestContext },
): Promise<{ notice: Notice; statusUrl: string | null }> {
  const dto = cmd.dto;
  const p = await prepareIntake(deps, {
    email: dto.email.trim().toLowerCase(),
    infringingUrls: dto.infringingUrls,
    originalUrls: dto.originalUrls ?? [],
    claimType: dto.claimType ?? 'copyright',
    workPublishedAt: dto.workPublishedAt,
    withModerators: notifiesEachNotice(deps.config),
  });
  // A suspended submitter completing by the emailed link is refused like on every way in (DSA Art. 23).
  if (p.refusal && cmd.actor === undefined) throw p.refusal;
  return withTransaction(deps.db, async (tx) => {
    const byToken = cmd.actor === undefined;
    const notice = await lockByReference(tx, byToken ? (await findForComplainant(tx, cmd.reference, cmd.token)).reference : cmd.reference);
    const now = deps.clock.now();
    notice.status = transition(notice.status, 'complete');
    Object.assign(notice, {
      claimType: dto.claimType ?? 'copyright',
      name: dto.name.trim(),
      organization: dto.organization?.trim() || null,
      email: dto.email.trim().toLowerCase(),
      phone: dto.phone?.trim() || null,
      address: dto.address.trim(),
      country: dto.country.toUpperCase(),
      role: dto.role,
      rightsOwner: dto.role === 'agent' ? dto.rightsOwner!.trim() : null,
      workDescription: dto.workDescription.trim(),
      originalUrls: p.originalUrls,
      workPublishedAt: dto.workPublishedAt ?? null,
      goodFaithStatement: GOOD_FAITH_STATEMENT,
      accuracyStatement: ACCURACY_STATEMENT,
      statementsAt: now,
      signature: dto.signature.trim(),
      queuedAt: now,
      dueAt: new Date(now.getTime() + deps.config.policy.slaHours * 3_600_000),
      // Triage anew; what the channel knew (an unauthenticated sender) stays.
      flags: [...p.flags, ...notice.flags.filter((f) => f.code === 'sender_unauthenticated')],
    });
    await tx.getRepository(Notice).save(notice);
    await replaceTargets(
      tx,
      notice.id,
      p.targets.map((t, i) => ({ ...t, itemId: p.items[i]?.id ?? null, outcome: p.items[i] ? 'pending' : 'not_found' })),
    );
    await record(tx, {
      actor: cmd.actor ?? PUBLIC,
      action: 'notice.completed',
      subject: { type: 'notice', id: notice.reference },
      details: {
        before: { status: 'incomplete' },
        after: { status: notice.status },
        urls: p.targets.length,
        matched: p.matched,
        by: byToken ? 'complainant' : 'staff',
      },
      context: cmd.context,
      at: now,
    });
    const statusUrl = byToken
      ? `${deps.config.publicBaseUrl}/takedown/${notice.reference}?token=${encodeURIComponent(String(cmd.token))}`
      : null;
    // Staff completing it have no status token to send: the acknowledgement then links the page that explains how to open it.
    const link = statusUrl ?? `${deps.config.publicBaseUrl}/takedown/${notice.reference}`;
    await enqueueMany(tx, intakeEmails(deps, notice, { ...p, reference: notice.reference }, { statusUrl: link, verifyUrl: null }));
    return { notice, statusUrl };
  });
}

/**
 * An emailed reply that reached a notice through its reply address (SPEC §12), in the caller's
 * transaction: it joins the notice's timeline (`notice.reply_received`, quoted text removed); a
 * reply to an open question (`needs_info`) is the answer and returns the notice to the queue.
 */
export async function attachEmailReply(
  tx: EntityManager,
  deps: Deps,
  cmd: { noticeId: string; text: string; from: string | null; inboundEmailId: string },
): Promise<{ notice: Notice; answered: boolean } | null> {
  const found = await tx.getRepository(Notice).findOneBy({ id: cmd.noticeId });
  if (!found) return null;
  const notice = await lockByReference(tx, found.reference);
  const text = cmd.text.trim().slice(0, 5000);
  const actor: Actor = { type: 'public', label: 'email reply' };
  await record(tx, {
    actor,
    action: 'notice.reply_received',
    subject: { type: 'notice', id: notice.reference },
    details: { inboundEmailId: cmd.inboundEmailId, fromComplainant: cmd.from?.toLowerCase() === notice.email, text, status: notice.status },
    at: deps.clock.now(),
  });
  if (notice.status !== 'needs_info' || !text) return { notice, answered: false };
  await applyAnswer(tx, deps, notice, { answer: text, actor, details: { via: 'email', inboundEmailId: cmd.inboundEmailId } });
  return { notice, answered: true };
}

/** Scheduled: incomplete notices not completed within INCOMPLETE_DAYS end `withdrawn` (SKIP LOCKED: any instance). */
export async function expireIncompleteNotices(deps: Deps): Promise<number> {
  const days = deps.config.inbound.incompleteDays;
  const cutoff = new Date(deps.clock.now().getTime() - days * 86_400_000);
  return withTransaction(deps.db, async (tx) => {
    const rows: { id: string }[] = await tx.query(
      `SELECT id FROM notices WHERE status = 'incomplete' AND submitted_at < $1 ORDER BY submitted_at LIMIT 200 FOR UPDATE SKIP LOCKED`,
      [cutoff],
    );
    for (const { id } of rows) {
      const notice = await tx.getRepository(Notice).findOneByOrFail({ id });
      notice.status = transition(notice.status, 'expire');
      notice.decision = 'expired';
      notice.decisionReason = `The missing elements were not given within ${days} days, so the notice expired.`;
      notice.decidedAt = deps.clock.now();
      await tx.getRepository(Notice).save(notice);
      await keepPendingTargets(tx, notice.id);
      await record(tx, {
        actor: SYSTEM,
        action: 'notice.expired',
        subject: { type: 'notice', id: notice.reference },
        details: { before: { status: 'incomplete' }, after: { status: notice.status } },
        at: deps.clock.now(),
      });
    }
    return rows.length;
  });
}
