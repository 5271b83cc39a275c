import type { QueuedEmail } from '../mail';
import type { Notice } from './notice.entity';

/** The complainant's links: the status page (the token is the credential) and, when required, the email check. */
export function statusLinks(
  baseUrl: string,
  reference: string,
  token: string,
  verify: boolean,
): { statusUrl: string; verifyUrl: string | null } {
  return {
    statusUrl: `${baseUrl}/takedown/${reference}?token=${token}`,
    verifyUrl: verify ? `${baseUrl}/takedown/${reference}/verify?token=${token}` : null,
  };
}

/** `notice-received` → the complainant: what we received, which URLs are ours, the statements they made, the status link. */
export function acknowledgement(
  notice: Notice,
  links: { statusUrl: string; verifyUrl: string | null },
  targets: { url: string; matched: boolean }[],
  at: Date,
): QueuedEmail {
  return {
    template: 'notice-received',
    to: notice.email,
    data: {
      reference: notice.reference,
      name: notice.name,
      statusUrl: links.statusUrl,
      verifyUrl: links.verifyUrl,
      claimType: notice.claimType,
      targets: targets.map((t) => ({ url: t.url, matched: t.matched })),
      noneOnSite: !targets.some((t) => t.matched),
      goodFaithStatement: notice.goodFaithStatement,
      accuracyStatement: notice.accuracyStatement,
      statementsFromStanding: notice.statementsSource === 'standing' ? notice.statementsAt.toISOString() : null,
      signature: notice.signature,
      submittedAt: at.toISOString(),
    },
    opts: { noticeId: notice.id, dedupeKey: `notice-received:${notice.id}` },
  };
}
