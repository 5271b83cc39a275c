import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { PUBLIC, record, RequestContext } from '../audit';
import { findByReference, findForComplainant, Notice } from '../notices';
import { enqueueMany } from '../mail';
import { complaintDeadline, sourceLinkValid } from './complaint-links';
import { receivedEmails } from './complaint-emails';
import { complaintStaff, hasOpenComplaint } from './complaints.queries';
import { Complaint, ComplainantKind } from './complaint.entity';

export type ComplaintDeps = Pick<AppDeps, 'db' | 'clock' | 'config' | 'sessionSecret'>;

/** Who complains, and the credential that proves it: the notice's status token, or the source's signed link. */
export type ComplaintCredential =
  | { kind: 'notifier'; reference: string; token: unknown }
  /**
   * For server-side callers that have already proved the caller is the notice's sender (the rights
   * holders' portal: its signed-in account owns the notice). Never build this from request input.
   */
  | { kind: 'notifier'; reference: string; verifiedBy: 'portal' }
  | { kind: 'source'; reference: string; sourceId: unknown; sig: unknown };

/** The decision each party may complain about. */
const COMPLAINABLE: Record<ComplainantKind, { status: Notice['status']; what: string }> = {
  notifier: { status: 'rejected', what: 'the rejection of your notice' },
  source: { status: 'approved', what: 'the removal of your content' },
};

/**
 * The notice a credential opens, or a 404 that says which link to use (never whether the notice
 * exists). Exported for the rights holders' portal, which checks its own session instead.
 */
export async function noticeForComplaint(deps: ComplaintDeps, cred: ComplaintCredential): Promise<Notice> {
  if (cred.kind === 'notifier' && 'verifiedBy' in cred) {
    const notice = await findByReference(deps.db.manager, cred.reference);
    if (!notice) throw new AppError('COMPLAINT.LINK_INVALID', 'No such notice.', 404);
    return notice;
  }
  if (cred.kind === 'notifier') {
    try {
      return await findForComplainant(deps.db.manager, cred.reference, cred.token);
    } catch {
      throw new AppError(
        'COMPLAINT.LINK_INVALID',
        "This link does not open a notice. Use the complaint link on your notice's status page (the private link we emailed you).",
        404,
      );
    }
  }
  const notice = await findByReference(deps.db.manager, cred.reference);
  if (!notice || !sourceLinkValid(deps.sessionSecret, notice.reference, cred.sourceId, cred.sig)) {
    throw new AppError(
      'COMPLAINT.LINK_INVALID',
      'This link is not valid. Use the complaint link in the email that told you your content was removed.',
      404,
    );
  }
  return notice;
}

/** Whether a complaint can be made now, and until when; a message when it cannot. */
export function complaintWindow(
  notice: Notice,
  kind: ComplainantKind,
  now: Date,
): { open: boolean; deadline: Date | null; problem?: string } {
  const rule = COMPLAINABLE[kind];
  if (notice.status !== rule.status || !notice.decidedAt) {
    return {
      open: false,
      deadline: null,
      problem: `Notice ${notice.reference} has no decision you can complain about here (only ${rule.what}).`,
    };
  }
  const deadline = complaintDeadline(notice.decidedAt);
  if (now > deadline) {
    return {
      open: false,
      deadline,
      problem: `The six months for a complaint about notice ${notice.reference} ended on ${deadline.toISOString().slice(0, 10)}.`,
    };
  }
  return { open: true, deadline };
}

/**
 * A complaint against a decision (SPEC §18). Refused when the credential is wrong, the decision is
 * not one this party can complain about, the six months are over (audited: `complaint.refused`),
 * or the same party already has an open complaint on the notice. Audited as `complaint.submitted`;
 * the complainant gets a receipt and the staff (but the decider) an alert, in the same transaction.
 */
export async function submitComplaint(
  deps: ComplaintDeps,
  cmd: { credential: ComplaintCredential; name: string; email: string; grounds: string; context?: RequestContext },
): Promise<Complaint> {
  const notice = await noticeForComplaint(deps, cmd.credential);
  const kind = cmd.credential.kind;
  const sourceId = cmd.credential.kind === 'source' ? String(cmd.credential.sourceId) : null;
  const now = deps.clock.now();
  return withTransaction(deps.db, async (tx) => {
    const window = complaintWindow(notice, kind, now);
    if (!window.open) {
      if (window.deadline) {
        await record(tx, {
          actor: PUBLIC,
          action: 'complaint.refused',
          subject: { type: 'notice', id: notice.reference },
          details: { kind, sourceId, reason: 'too_late', deadline: window.deadline.toISOString() },
          context: cmd.context,
          at: now,
        });
        return { refused: new AppError('COMPLAINT.TOO_LATE', window.problem!, 422) };
      }
      return { refused: AppError.conflict('COMPLAINT.NOT_COMPLAINABLE', window.problem!) };
    }
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`complaint:${notice.id}:${kind}:${sourceId ?? ''}`]);
    if (await hasOpenComplaint(tx, notice.id, kind, sourceId))
      return {
        refused: AppError.conflict(
          'COMPLAINT.ALREADY_OPEN',
          `A complaint about notice ${notice.reference} is already open; you will be emailed its outcome.`,
        ),
      };
    const repo = tx.getRepository(Complaint);
    const complaint = await repo.save(
      repo.create({
        noticeId: notice.id,
        complainantKind: kind,
        sourceId,
        name: cmd.name,
        email: cmd.email.toLowerCase(),
        grounds: cmd.grounds,
        status: 'open',
        decisionComplained: notice.decision ?? notice.status,
        decisionDecidedBy: notice.decidedBy,
        submittedAt: now,
      }),
    );
    await record(tx, {
      actor: PUBLIC,
      action: 'complaint.submitted',
      subject: { type: 'notice', id: notice.reference },
      details: { complaintId: complaint.id, kind, sourceId, decision: complaint.decisionComplained },
      context: cmd.context,
      at: now,
    });
    await enqueueMany(tx, receivedEmails(deps.config, complaint, notice, await complaintStaff(tx, notice.decidedBy)));
    return { complaint };
  }).then((r) => {
    if ('refused' in r) throw r.refused;
    return r.complaint;
  });
}
