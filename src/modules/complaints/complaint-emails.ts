import { EntityManager } from 'typeorm';
import type { Config } from '../../config';
import type { Notice } from '../notices';
import type { Complaint } from './complaint.entity';

/**
 * The `complaint-decided` emails: the complainant, and the other party of the decision (the
 * notifier when a source complained; the source's contact when a notifier complained about a
 * rejection and it was reversed). Each lists the out-of-court dispute settlement bodies.
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
