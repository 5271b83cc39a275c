import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { Actor, PUBLIC, record, RequestContext, SYSTEM } from '../audit';
import { enqueue } from '../mail';
import { Notice } from './notice.entity';
import { transition } from './notice-state';
import { closeNotice } from './close-notice';
import { findForComplainant, lockByReference, lockDueNotices } from './notices.queries';
import { notifyModerators } from './notify-moderators';
import { queueNoticeEvents } from '../webhooks';

type Deps = Pick<AppDeps, 'db' | 'clock' | 'config'>;

interface ComplainantCmd {
  reference: string;
  token: unknown;
  context: RequestContext;
}

/** Locks the notice and checks the complainant's token (same 404 for a bad token and an unknown notice). */
async function lockForComplainant(tx: EntityManager, cmd: ComplainantCmd): Promise<Notice> {
  const notice = await findForComplainant(tx, cmd.reference, cmd.token);
  return lockByReference(tx, notice.reference);
}

/** The complainant withdraws their notice (unverified, pending or needs_info). */
export function withdrawNotice(deps: Deps, cmd: ComplainantCmd): Promise<Notice> {
  return withTransaction(deps.db, async (tx) => {
    const notice = await lockForComplainant(tx, cmd);
    await closeNotice(tx, deps, notice, {
      event: 'withdraw',
      decision: 'withdrawn',
      reason: null,
      decidedBy: null,
      at: deps.clock.now(),
      audit: { actor: PUBLIC, action: 'notice.withdrawn', context: cmd.context },
    });
    await enqueue(
      tx,
      'notice-withdrawn',
      notice.email,
      { reference: notice.reference, name: notice.name },
      { noticeId: notice.id, dedupeKey: `notice-withdrawn:${notice.id}` },
    );
    return notice;
  });
}

/** The complainant confirms their email address: an unverified notice enters the queue. */
export function verifyNoticeEmail(deps: Deps, cmd: ComplainantCmd): Promise<Notice> {
  return withTransaction(deps.db, async (tx) => {
    const notice = await lockForComplainant(tx, cmd);
    if (notice.status !== 'unverified') return notice; // following the link twice is harmless
    const now = deps.clock.now();
    const from = notice.status;
    notice.status = transition(notice.status, 'verify');
    notice.emailVerifiedAt = now;
    notice.queuedAt = now;
    notice.dueAt = new Date(now.getTime() + deps.config.policy.slaHours * 3_600_000);
    await tx.getRepository(Notice).save(notice);
    await queueNoticeEvents(tx, deps, notice, { from, at: now });
    await record(tx, {
      actor: PUBLIC,
      action: 'notice.verified',
      subject: { type: 'notice', id: notice.reference },
      details: { before: { status: 'unverified' }, after: { status: notice.status } },
      context: cmd.context,
      at: now,
    });
    const [{ urls, matched }] = await tx.query(
      `SELECT count(*)::int AS urls, count(item_id)::int AS matched FROM notice_targets WHERE notice_id = $1`,
      [notice.id],
    );
    await notifyModerators(tx, deps, notice, urls, matched);
    return notice;
  });
}

/** The complainant answers the moderators' question: the notice returns to the queue. */
export function answerQuestion(deps: Deps, cmd: ComplainantCmd & { answer: string }): Promise<Notice> {
  const answer = checkedAnswer(cmd.answer);
  return withTransaction(deps.db, async (tx) => {
    const notice = await lockForComplainant(tx, cmd);
    return applyAnswer(tx, deps, notice, { answer, actor: PUBLIC, context: cmd.context });
  });
}

function checkedAnswer(text: string): string {
  const answer = text.trim();
  if (!answer || answer.length > 5000) {
    throw AppError.validation([{ field: 'answer', message: 'Write your answer (at most 5,000 characters).' }]);
  }
  return answer;
}

/**
 * The answer to an open question, in the caller's transaction on a locked notice: back to the
 * queue (`notice.answered`) and the moderators told. Used by the status page and by an emailed
 * reply to the question (SPEC §12), which has no status token but the notice's reply address.
 */
export async function applyAnswer(
  tx: EntityManager,
  deps: Deps,
  notice: Notice,
  cmd: { answer: string; actor: Actor; context?: RequestContext; details?: Record<string, unknown> },
): Promise<Notice> {
  const now = deps.clock.now();
  const answer = cmd.answer.trim().slice(0, 5000);
  const from = notice.status;
  notice.status = transition(notice.status, 'answer');
  notice.infoRequest = { ...notice.infoRequest!, answer, answeredAt: now.toISOString() };
  notice.queuedAt = now;
  notice.dueAt = new Date(now.getTime() + deps.config.policy.slaHours * 3_600_000);
  notice.assigneeId = null;
  await tx.getRepository(Notice).save(notice);
  await queueNoticeEvents(tx, deps, notice, { from, at: now });
  await record(tx, {
    actor: cmd.actor,
    action: 'notice.answered',
    subject: { type: 'notice', id: notice.reference },
    details: { before: { status: 'needs_info' }, after: { status: notice.status }, answer, ...cmd.details },
    context: cmd.context,
    at: now,
  });
  const [{ urls, matched }] = await tx.query(
    `SELECT count(*)::int AS urls, count(item_id)::int AS matched FROM notice_targets WHERE notice_id = $1`,
    [notice.id],
  );
  await notifyModerators(tx, deps, notice, urls, matched);
  return notice;
}

const UNVERIFIED_DAYS = 7;

/**
 * Scheduled: notices whose email was never confirmed expire after 7 days (they end `withdrawn`,
 * audited as `system`). Rows are taken with SKIP LOCKED so several instances share the work.
 */
export async function expireUnverifiedNotices(deps: Deps): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - UNVERIFIED_DAYS * 86_400_000);
  return withTransaction(deps.db, async (tx) => {
    const notices = await lockDueNotices(tx, { status: 'unverified', submittedBefore: cutoff, limit: 200 });
    for (const notice of notices) {
      await closeNotice(tx, deps, notice, {
        event: 'expire',
        decision: 'expired',
        reason: `The email address was not confirmed within ${UNVERIFIED_DAYS} days, so the notice expired.`,
        decidedBy: null,
        at: deps.clock.now(),
        audit: { actor: SYSTEM, action: 'notice.expired' },
      });
    }
    return notices.length;
  });
}
