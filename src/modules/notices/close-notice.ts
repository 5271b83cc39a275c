import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { Actor, AuditAction, record, RequestContext } from '../audit';
import { Notice } from './notice.entity';
import { NoticeEvent, transition } from './notice-state';
import { keepPendingTargets } from './notices.queries';
import { statementOfReasons, type StatementInput } from './statement-of-reasons';
import { queueNoticeEvents } from '../webhooks';

/** Every way a notice is closed without (or after) removing content: the decision and its record. */
export interface CloseNotice {
  event: Extract<NoticeEvent, 'approve' | 'reject' | 'spam' | 'withdraw' | 'expire'>;
  /** `notices.decision`: approved, partly_approved, rejected, spam, withdrawn, expired. */
  decision: string;
  /** Shown to the complainant (null keeps none). */
  reason: string | null;
  /** The moderator who decided; null for the complainant's or the system's own closing. */
  decidedBy: string | null;
  /** The DSA Art. 17 statement of reasons; decisions have one, a withdrawal or expiry does not. */
  statement?: StatementInput;
  audit: { actor: Actor; action: AuditAction; details?: Record<string, unknown>; context?: RequestContext };
  at: Date;
}

/**
 * Closes a notice inside the caller's transaction (the notice already locked): the transition
 * (a 409 when the table does not allow it), the decision fields and statement of reasons, the
 * save, every still-pending target marked `kept`, and the audit event with the status it left.
 * The one place a notice's decision is written; use cases add only what is their own (removal,
 * emails). Returns the status it left.
 */
export async function closeNotice(tx: EntityManager, deps: Pick<AppDeps, 'config'>, notice: Notice, c: CloseNotice): Promise<string> {
  const before = notice.status;
  notice.status = transition(before, c.event);
  notice.decision = c.decision;
  notice.decisionReason = c.reason;
  notice.decidedAt = c.at;
  notice.decidedBy = c.decidedBy;
  notice.dueAt = null;
  if (c.statement) notice.statementOfReasons = statementOfReasons(deps, notice, { ...c.statement, at: c.at });
  await tx.getRepository(Notice).save(notice);
  await keepPendingTargets(tx, notice.id);
  await record(tx, {
    actor: c.audit.actor,
    action: c.audit.action,
    subject: { type: 'notice', id: notice.reference },
    details: { before: { status: before }, after: { status: notice.status, decision: notice.decision }, ...c.audit.details },
    context: c.audit.context,
    at: c.at,
  });
  await queueNoticeEvents(tx, deps, notice, { from: before, at: c.at });
  return before;
}
