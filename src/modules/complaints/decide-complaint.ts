import { EntityManager } from 'typeorm';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { Actor, record, RequestContext } from '../audit';
import { restoreSourceRemovals } from '../items';
import { enqueue } from '../mail';
import { Notice, reopenNotice, reverseRemoval } from '../notices';
import { Complaint } from './complaint.entity';
import { outcomeEmails } from './complaint-emails';
import type { ComplaintDeps } from './submit-complaint';

export interface DecideComplaint {
  complaintId: string;
  outcome: 'upheld' | 'reversed';
  reason: string;
  actor: { id: string; email: string; role: 'admin' | 'moderator' };
  context?: RequestContext;
}

/**
 * A moderator other than the notice's decider decides a complaint (DSA Art. 20(6)). `reversed`
 * undoes the decision: a rejected notice is reopened for a fresh decision; removed items of the
 * complaining source are restored through the items module's restoration path. Both parties are
 * emailed the outcome with the out-of-court dispute settlement bodies (ODS_BODIES, Art. 21).
 */
export async function decideComplaint(deps: ComplaintDeps, cmd: DecideComplaint): Promise<Complaint> {
  const now = deps.clock.now();
  const actor: Actor = { type: 'user', id: cmd.actor.id, label: cmd.actor.email, role: cmd.actor.role };
  const result = await withTransaction(deps.db, async (tx) => {
    const complaint = await tx.getRepository(Complaint).findOne({ where: { id: cmd.complaintId }, lock: { mode: 'pessimistic_write' } });
    if (!complaint) return { error: AppError.notFound('Complaint', 'COMPLAINT.NOT_FOUND') };
    const notice = await tx.getRepository(Notice).findOne({ where: { id: complaint.noticeId }, lock: { mode: 'pessimistic_write' } });
    if (!notice) return { error: AppError.notFound('Notice', 'NOTICE.NOT_FOUND') };
    if (complaint.decisionDecidedBy === cmd.actor.id) {
      await record(tx, {
        actor,
        action: 'complaint.decision_refused',
        subject: { type: 'notice', id: notice.reference },
        details: { complaintId: complaint.id, reason: 'same_decider' },
        context: cmd.context,
        at: now,
      });
      return {
        error: new AppError(
          'COMPLAINT.SAME_DECIDER',
          `You decided notice ${notice.reference}, so another moderator must decide this complaint about it.`,
          403,
        ),
      };
    }
    if (complaint.status !== 'open')
      return { error: AppError.conflict('COMPLAINT.ALREADY_DECIDED', `This complaint was already decided (${complaint.status}).`) };
    let restored: string[] = [];
    if (cmd.outcome === 'reversed') restored = await undoDecision(tx, deps, complaint, notice, actor, now, cmd.context);
    complaint.status = cmd.outcome;
    complaint.decidedAt = now;
    complaint.decidedBy = cmd.actor.id;
    complaint.outcomeReason = cmd.reason;
    await tx.getRepository(Complaint).save(complaint);
    await record(tx, {
      actor,
      action: `complaint.${cmd.outcome}`,
      subject: { type: 'notice', id: notice.reference },
      details: {
        complaintId: complaint.id,
        kind: complaint.complainantKind,
        reason: cmd.reason,
        restored,
        handlingHours: Math.round((now.getTime() - complaint.submittedAt.getTime()) / 36e5),
      },
      context: cmd.context,
      at: now,
    });
    for (const mail of await outcomeEmails(tx, deps.config, complaint, notice)) {
      await enqueue(tx, 'complaint-decided', mail.to, mail.data, {
        noticeId: notice.id,
        dedupeKey: `complaint-decided:${complaint.id}:${mail.to}`,
      });
    }
    return { complaint };
  });
  if ('error' in result) throw result.error;
  return result.complaint;
}

async function undoDecision(
  tx: EntityManager,
  deps: ComplaintDeps,
  complaint: Complaint,
  notice: Notice,
  actor: Actor,
  now: Date,
  context?: RequestContext,
): Promise<string[]> {
  if (complaint.complainantKind === 'notifier') {
    await reopenNotice(tx, notice, { actor, complaintId: complaint.id, slaHours: deps.config.policy.slaHours, at: now, context, deps });
    return [];
  }
  const restored = await restoreSourceRemovals(tx, {
    noticeId: notice.id,
    sourceId: complaint.sourceId,
    reason: `Complaint ${complaint.id} upheld for the source: removal reversed.`,
    actor,
    context,
    at: now,
  });
  await reverseRemoval(tx, notice, { actor, complaintId: complaint.id, restoredItemIds: restored, at: now, context, deps });
  return restored;
}
