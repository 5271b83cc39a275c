import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EntityManager } from 'typeorm';
import { Actor, record, RequestContext } from '../audit';
import type { InboundEnvelope, InboundStatus, WayIn } from './inbound-email.entity';
import { MAX_HEADER_BLOCK, storedHeaders } from './message-headers';
import { messageInMemory, MessageSpool, type RawMessage } from './message-spool';

/** Larger messages are copied to PostgreSQL chunk by chunk (`stageRaw`), issue 18. */
export const PIECE = 1024 * 1024;

/** `COPY … (FORMAT binary)`'s signature, flags and header extension length (PostgreSQL docs, "Binary Format"). */
const COPY_SIGNATURE = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);

/**
 * A large message goes to PostgreSQL as it is, chunk after chunk with back-pressure: `COPY … FROM
 * STDIN (FORMAT binary)` into a temporary table of the transaction's connection (`ON COMMIT DELETE
 * ROWS`), from which the row's `raw` is taken. A bytea parameter is sent in one Bind message built
 * in a buffer that grows by copying: the whole message held once or twice more (issue 18).
 */
async function stageRaw(tx: EntityManager, msg: RawMessage): Promise<void> {
  const [exists] = await tx.query(`SELECT to_regclass('pg_temp.inbound_raw') IS NOT NULL AS ok`);
  if (!exists?.ok) await tx.query(`CREATE TEMPORARY TABLE inbound_raw (raw bytea NOT NULL) ON COMMIT DELETE ROWS`);
  const client = (await tx.queryRunner!.connect()) as PoolClient;
  const tuple = Buffer.alloc(6);
  tuple.writeInt16BE(1, 0);
  tuple.writeInt32BE(msg.size, 2);
  const trailer = Buffer.from([0xff, 0xff]);
  await pipeline(
    Readable.from(
      (async function* () {
        yield Buffer.concat([COPY_SIGNATURE, tuple]);
        for await (const piece of msg.pieces()) yield piece;
        yield trailer;
      })(),
      { objectMode: false },
    ),
    client.query(copyFrom(`COPY pg_temp.inbound_raw (raw) FROM STDIN (FORMAT binary)`)),
  );
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
  raw: Buffer | readonly Buffer[] | MessageSpool,
  wayIn: WayIn,
  opts: { envelope?: InboundEnvelope; at: Date; actor?: Actor; context?: RequestContext },
): Promise<StoredEmail> {
  const msg = raw instanceof MessageSpool ? raw : messageInMemory(raw);
  const { size, sha256 } = msg;
  const h = storedHeaders(msg.head(MAX_HEADER_BLOCK));
  const envelope = opts.envelope ?? {};
  const to = envelope.rcptTo?.length ? envelope.rcptTo.map((a) => a.toLowerCase()).slice(0, 100) : h.to;
  const small = size <= PIECE;
  const whole: Buffer[] = [];
  if (small) for await (const piece of msg.pieces()) whole.push(piece);
  else await stageRaw(tx, msg);
  const rawValue = small ? '$11' : `(SELECT raw FROM pg_temp.inbound_raw)`;
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
      ...(small ? [whole.length === 1 ? whole[0] : Buffer.concat(whole)] : []),
    ],
  );
  if (!small) await tx.query(`DELETE FROM pg_temp.inbound_raw`);
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
