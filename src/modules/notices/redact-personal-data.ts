import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { record, SYSTEM } from '../audit';
import { REDACTED_EMAIL, redactSentEmails } from '../mail';

/** What stands in for redacted text; the email placeholder still satisfies the outbox's address CHECK. */
export const REDACTED = '[redacted]';
export { REDACTED_EMAIL };

/** Closed notices whose complainant's personal data is kept only for the retention period. */
export const RETAINED_STATUSES = ['rejected', 'spam', 'withdrawn'] as const;
const REDACTED_FIELDS = ['name', 'email', 'phone', 'address', 'signature', 'submitterIp', 'infoRequest.answer', 'emails.to', 'emails.data'];
const BATCH = 100;

/**
 * Redacts in place the complainant's personal data of rejected, spam and withdrawn notices that
 * closed more than PERSONAL_DATA_RETENTION_DAYS ago: name, email, phone, address, signature,
 * submitter IP, their answer to a question, and the copies in the emails sent to them. The
 * organisation's name stays (not personal data). Each notice is one transaction with one
 * `notice.redacted` event; earlier audit events are never rewritten, so the chain still verifies.
 * Instances running at once each take other rows (SKIP LOCKED). Returns how many were redacted.
 */
export async function redactExpiredPersonalData(deps: Pick<AppDeps, 'db' | 'config' | 'clock'>): Promise<number> {
  const days = deps.config.policy.personalDataRetentionDays;
  let total = 0;
  for (;;) {
    const now = deps.clock.now();
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    const done = await withTransaction(deps.db, async (tx) => {
      const rows: { id: string; reference: string; status: string; closed_at: Date }[] = await tx.query(
        `SELECT id, reference, status, coalesce(decided_at, updated_at) AS closed_at FROM notices
          WHERE status = ANY($1) AND personal_data_redacted_at IS NULL AND coalesce(decided_at, updated_at) < $2
          ORDER BY coalesce(decided_at, updated_at), id
          LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        [RETAINED_STATUSES, cutoff],
      );
      if (!rows.length) return 0;
      const ids = rows.map((r) => r.id);
      // First the copies in the emails sent to the complainant (matched by their address before it goes).
      await redactSentEmails(tx, { noticeIds: ids, toNoticeEmail: true, placeholder: REDACTED_EMAIL });
      await tx.query(
        `UPDATE notices SET name = $2::varchar, email = $3, phone = NULL, address = $2::varchar, signature = $2::varchar, submitter_ip = NULL,
                info_request = CASE WHEN info_request ? 'answer' THEN jsonb_set(info_request, '{answer}', to_jsonb($2::varchar)) ELSE info_request END,
                personal_data_redacted_at = $4, version = version + 1, updated_at = $4
          WHERE id = ANY($1::uuid[])`,
        [ids, REDACTED, REDACTED_EMAIL, now],
      );
      for (const r of rows) {
        await record(tx, {
          actor: { ...SYSTEM, label: 'retention' },
          action: 'notice.redacted',
          subject: { type: 'notice', id: r.reference },
          details: { status: r.status, closedAt: new Date(r.closed_at).toISOString(), retentionDays: days, fields: REDACTED_FIELDS },
          at: now,
        });
      }
      return rows.length;
    });
    total += done;
    if (done < BATCH) return total;
  }
}
