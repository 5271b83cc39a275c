import { createHash } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { Actor, record, RequestContext } from '../audit';
import type { InboundEnvelope, InboundStatus, WayIn } from './inbound-email.entity';
import { MAX_HEADER_BLOCK, storedHeaders } from './message-headers';

/** Bytes sent in one statement (issue 18, memory). */
const PIECE = 1024 * 1024;

/** The first `n` bytes of a message given as chunks. */
function prefix(chunks: readonly Buffer[], n: number): Buffer {
  const out: Buffer[] = [];
  let len = 0;
  for (const c of chunks) {
    if (len >= n) break;
    out.push(c.subarray(0, n - len));
    len += Math.min(c.length, n - len);
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}

/**
 * A large message goes to PostgreSQL 1 MiB a statement, into a temporary table of the transaction's
 * connection (`ON COMMIT DELETE ROWS`), and the row's `raw` is put together there
 * (`string_agg`): one statement with the whole message as its parameter held it once more in the
 * protocol writer's buffer (and that buffer grows by copying), issue 18.
 */
async function stagePieces(tx: EntityManager, chunks: readonly Buffer[]): Promise<void> {
  const [exists] = await tx.query(`SELECT to_regclass('pg_temp.inbound_raw_pieces') IS NOT NULL AS ok`);
  if (!exists?.ok) await tx.query(`CREATE TEMPORARY TABLE inbound_raw_pieces (n int NOT NULL, piece bytea NOT NULL) ON COMMIT DELETE ROWS`);
  let n = 0;
  let batch: Buffer[] = [];
  let len = 0;
  const flush = async () => {
    if (!len) return;
    await tx.query(`INSERT INTO pg_temp.inbound_raw_pieces (n, piece) VALUES ($1, $2)`, [
      n++,
      batch.length === 1 ? batch[0] : Buffer.concat(batch, len),
    ]);
    batch = [];
    len = 0;
  };
  for (const c of chunks) {
    for (let at = 0; at < c.length;) {
      const take = Math.min(PIECE - len, c.length - at);
      batch.push(c.subarray(at, at + take));
      len += take;
      at += take;
      if (len >= PIECE) await flush();
    }
  }
  await flush();
}

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
  raw: Buffer | readonly Buffer[],
  wayIn: WayIn,
  opts: { envelope?: InboundEnvelope; at: Date; actor?: Actor; context?: RequestContext },
): Promise<StoredEmail> {
  const chunks = Buffer.isBuffer(raw) ? [raw] : raw;
  const size = chunks.reduce((n, c) => n + c.length, 0);
  const h = storedHeaders(prefix(chunks, MAX_HEADER_BLOCK));
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  const sha256 = hash.digest('hex');
  const envelope = opts.envelope ?? {};
  const to = envelope.rcptTo?.length ? envelope.rcptTo.map((a) => a.toLowerCase()).slice(0, 100) : h.to;
  const small = size <= PIECE;
  if (!small) await stagePieces(tx, chunks);
  const rawValue = small ? '$11' : `(SELECT string_agg(piece, ''::bytea ORDER BY n) FROM pg_temp.inbound_raw_pieces)`;
  const inserted: { id: string }[] = await tx.query(
    `INSERT INTO inbound_emails (message_id, from_address, from_name, "to", subject, received_at, way_in, raw, size, sha256, envelope, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, ${rawValue}, $8, $9, $10, $6)
     ON CONFLICT DO NOTHING
     RETURNING id`,
    [
      h.messageId,
      h.fromAddress,
      h.fromName,
      to,
      h.subject,
      opts.at,
      wayIn,
      size,
      sha256,
      JSON.stringify(envelope),
      ...(small ? [chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)] : []),
    ],
  );
  if (!small) await tx.query(`DELETE FROM pg_temp.inbound_raw_pieces`);
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
    details: { wayIn, messageId: h.messageId, size, sha256 },
    context: opts.context,
    at: opts.at,
  });
  return { id, status: 'received', noticeId: null, duplicate: false };
}
