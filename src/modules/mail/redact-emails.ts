import { EntityManager } from 'typeorm';

/** What stands in for a redacted address; it still satisfies the outbox's address CHECK. */
export const REDACTED_EMAIL = 'redacted@redacted.invalid';

/**
 * Retention: blanks the address and the data of the emails about these notices that went to the
 * notice's complainant (matched by the notice's address, so call it before that address goes).
 * Never an email still queued: the worker owns those.
 */
export async function redactSentEmails(
  tx: EntityManager,
  q: { noticeIds: string[]; toNoticeEmail: true; placeholder?: string },
): Promise<void> {
  await tx.query(
    `UPDATE outbound_emails e SET "to" = $2, data = '{}'::jsonb
       FROM notices n
      WHERE n.id = ANY($1::uuid[]) AND e.notice_id = n.id AND lower(e."to") = lower(n.email) AND e.status <> 'queued'`,
    [q.noticeIds, q.placeholder ?? REDACTED_EMAIL],
  );
}
