import { EntityManager } from 'typeorm';
import type { Config } from '../../config';
import type { QueuedEmail } from '../mail';
import type { Notice } from '../notices';
import type { Complaint } from './complaint.entity';

const WHAT: Record<Complaint['complainantKind'], string> = {
  notifier: 'the rejection of the notice',
  source: 'the removal of the content',
};

/**
 * On receipt of a complaint: `complaint-received` to the complainant, and `complaint-new` to every
 * active staff member except the notice's decider (who may not decide it), in the same transaction.
 */
export function receivedEmails(
  config: Pick<Config, 'odsBodies' | 'publicBaseUrl'>,
  complaint: Complaint,
  notice: Notice,
  staff: { email: string; isDecider: boolean }[],
): QueuedEmail[] {
  const opts = (to: string, template: string) => ({ noticeId: notice.id, dedupeKey: `${template}:${complaint.id}:${to}` });
  const receipt: QueuedEmail = {
    template: 'complaint-received',
    to: complaint.email,
    data: {
      reference: notice.reference,
      name: complaint.name,
      what: WHAT[complaint.complainantKind],
      grounds: complaint.grounds,
      submittedAt: complaint.submittedAt.toISOString(),
      odsBodies: config.odsBodies,
    },
    opts: opts(complaint.email, 'complaint-received'),
  };
  const alert = {
    reference: notice.reference,
    who: complaint.complainantKind === 'notifier' ? 'the notifier' : 'the source of the removed content',
    what: WHAT[complaint.complainantKind],
    deciderEmail: staff.find((s) => s.isDecider)?.email ?? null,
    complaintUrl: `${config.publicBaseUrl}/complaints/${complaint.id}`,
    queueUrl: `${config.publicBaseUrl}/complaints`,
  };
  const alerts = staff
    .filter((s) => !s.isDecider)
    .map((s) => ({ template: 'complaint-new', to: s.email, data: alert, opts: opts(s.email, 'complaint-new') }));
  return [receipt, ...alerts];
}

/**
 * The `complaint-decided` emails: the complainant, and the other party of the decision when that
 * party was told of it — the notifier when a source complained about a removal. A notifier's
 * complaint about a rejection has no second recipient: the source was never told of the rejected
 * notice, and a reversal only reopens it (a removal that follows sends the source the usual
 * `content-removed` email, with its own complaint link). Each lists the out-of-court dispute
 * settlement bodies.
 */
export async function outcomeEmails(
  tx: EntityManager,
  config: Pick<Config, 'odsBodies' | 'publicBaseUrl'>,
  complaint: Complaint,
  notice: Notice,
) {
  const base = {
    reference: notice.reference,
    reversed: complaint.status === 'reversed',
    reason: complaint.outcomeReason,
    reopened: complaint.status === 'reversed' && complaint.complainantKind === 'notifier',
    restored: complaint.status === 'reversed' && complaint.complainantKind === 'source',
    odsBodies: config.odsBodies,
    odsListUrl: 'https://digital-strategy.ec.europa.eu/en/policies/dsa-out-court-dispute-settlement',
  };
  const mails = [{ to: complaint.email, data: { ...base, name: complaint.name, isComplainant: true } }];
  if (complaint.complainantKind === 'source' && notice.email && !notice.personalDataRedactedAt) {
    mails.push({ to: notice.email, data: { ...base, name: notice.name, isComplainant: false } });
  }
  return mails.filter((m, i) => mails.findIndex((x) => x.to.toLowerCase() === m.to.toLowerCase()) === i);
}
