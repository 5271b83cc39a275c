import { createHash } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { Actor, record, RequestContext } from '../audit';
import type { InboundEnvelope, InboundStatus, WayIn } from './inbound-email.entity';
import { storedHeaders } from './message-headers';

export interface StoredEmail {
  id: string;
  status: InboundStatus;
  noticeId: string | null;
  /** True when this message was already stored (same Message-ID, or same bytes): nothing was written. */
  duplicate: boolean;
}

/**
 * Step one of every way in (SMTP, IMAP, API): the raw message is written as it arrived, in the
 * caller's transaction, before anything is read out of it — the SMTP receiver answers 250 and the
 * IMAP poller moves the message only after this commits. The parse job takes it from there
 * (status `received`). The same Message-ID (or, without one, the same SHA-256) twice is one email:
 * the second is not stored and the first is returned.
 */
export async function storeInboundEmail(
  tx: EntityManager,
  raw: Buffer,
  wayIn: WayIn,
  opts: { envelope?: InboundEnvelope; at: Date; actor?: Actor; context?: RequestContext },
): Promise<StoredEmail> {
  const h = storedHeaders(raw);
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const envelope = opts.envelope ?? {};
  const to = envelope.rcptTo?.length ? envelope.rcptTo.map((a) => a.toLowerCase()).slice(0, 100) : h.to;
  const inserted: { id: string }[] = await tx.query(
    `INSERT INTO inbound_emails (message_id, from_address, from_name, "to", subject, received_at, way_in, raw, size, sha256, envelope, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $6)
     ON CONFLICT DO NOTHING
     RETURNING id`,
    [h.messageId, h.fromAddress, h.fromName, to, h.subject, opts.at, wayIn, raw, raw.length, sha256, JSON.stringify(envelope)],
  );
  if (!inserted.length) {
    const [first] = await tx.query(
      `SELECT id, status, notice_id FROM inbound_emails WHERE ($1::text IS NOT NULL AND message_id = $1) OR sha256 = $2 ORDER BY received_at LIMIT 1`,
      [h.messageId, sha256],
    );
    return { id: first.id, status: first.status, noticeId: first.notice_id, duplicate: true };
  }
  const id = inserted[0].id;
  await record(tx, {
    actor: opts.actor ?? { type: 'system', label: `inbound-${wayIn}` },
    action: 'inbound_email.received',
    subject: { type: 'inbound_email', id },
    details: { wayIn, messageId: h.messageId, size: raw.length, sha256 },
    context: opts.context,
    at: opts.at,
  });
  return { id, status: 'received', noticeId: null, duplicate: false };
}
