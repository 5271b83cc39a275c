import { escapeLiteral, type Pool } from 'pg';
import { EntityManager } from 'typeorm';
import { openCopy } from '../../db/copy-stream';
import type { LeaseHolder } from '../../db/leases';
import type { InboundEmail, InboundEnvelope, InboundStatus, SenderAuth } from './inbound-email.entity';

/** A row the parse job holds (claimed through the shared leases, `src/db/leases.ts`). */
export interface ClaimedInbound {
  id: string;
  /** The raw message's length in bytes: the bytes themselves are streamed when the row's turn comes (`rawStream`). */
  size: number;
  envelope: InboundEnvelope;
  attempts: number;
  way_in: string;
  received_at: Date;
  /** The registration of the process that claimed it (the fence of the outcome). */
  claimed_by: string;
}

/** A row still claimed in the old way (before claimed_by) stays untouched this long. */
const LEGACY_LEASE_MS = 120_000;

/**
 * The parse job's claim (one short statement through the shared leases, committed at once): up to
 * `limit` due `received` rows, `FOR UPDATE SKIP LOCKED`, `claimed_by` = this process, `attempts + 1`.
 * Due: its time has come, or a claimant (now dead: leases.ts checks) holds it whatever its time.
 * `next_attempt_at` is still pushed ahead, so an instance of the previous version running during a
 * rolling deploy does not take the row. `onlyId` claims one row (the API processes the message it
 * just stored at once, when no worker has it yet).
 */
export function claimInbound(leases: LeaseHolder, q: { now: Date; limit: number; onlyId?: string }): Promise<ClaimedInbound[]> {
  return leases.claim<ClaimedInbound>({
    table: 'inbound_emails',
    where: `t.status = 'received' AND (t.next_attempt_at <= $1 OR t.claimed_by IS NOT NULL) AND ($3::uuid IS NULL OR t.id = $3)`,
    params: [q.now, new Date(q.now.getTime() + LEGACY_LEASE_MS), q.onlyId ?? null],
    orderBy: 't.next_attempt_at',
    limit: q.limit,
    set: 'attempts = t.attempts + 1, next_attempt_at = $2',
    returning: 't.id, octet_length(t.raw) AS size, t.envelope, t.attempts, t.way_in, t.received_at',
  });
}

/** A COPY of one message is one statement: it may last as long as the parse that reads it. */
const RAW_COPY_TIMEOUT = '10min';
/** `COPY … (FORMAT binary)`: an 11-byte signature, 4 bytes of flags, 4 of header extension; then a row: 2 bytes of field count, 4 of length. */
const COPY_BINARY_HEAD = 19 + 2 + 4;

/**
 * A stored message's bytes as PostgreSQL sends them, with back-pressure, for the parse job (issue 18):
 * `COPY (SELECT raw …) TO STDOUT (FORMAT binary)` gives the bytes themselves, where a `SELECT` of
 * a bytea gives hex text (twice the bytes on the wire, then as a string, then the bytes again; read
 * 1 MiB at a time that was still ~80 MiB of garbage for a 24 MiB message before V8 collected it).
 * Holds a connection of the pool while read; stopped early (the reader gives up), the connection is
 * closed (a COPY cannot be stopped half-way and the connection reused).
 */
export async function* rawStream(pool: Pool, id: string, size: number): AsyncGenerator<Buffer> {
  const copy = await openCopy(
    pool,
    `COPY (SELECT raw FROM inbound_emails WHERE id = ${escapeLiteral(id)}::uuid) TO STDOUT (FORMAT binary)`,
    RAW_COPY_TIMEOUT,
  );
  let finished = false;
  try {
    let head = Buffer.alloc(0);
    let left = size;
    for await (const chunk of copy.source as AsyncIterable<Buffer>) {
      let body = chunk;
      if (head.length < COPY_BINARY_HEAD) {
        head = Buffer.concat([head, chunk]);
        if (head.length < COPY_BINARY_HEAD) continue;
        if (head.readInt16BE(19) !== 1 || head.readInt32BE(21) !== size)
          throw new Error(`inbound email ${id}: its raw bytes changed while read`);
        body = head.subarray(COPY_BINARY_HEAD);
      }
      if (!left || !body.length) continue; // the trailer (-1)
      const piece = body.subarray(0, left);
      left -= piece.length;
      yield piece;
    }
    if (left || head.length < COPY_BINARY_HEAD) throw new Error(`inbound email ${id}: its raw bytes changed while read`);
    await copy.finish();
    finished = true;
  } finally {
    // Failed, or the reader stopped before the end of the message.
    if (!finished) copy.release();
  }
}

/** Locks a claimed row for its outcome; false when the claim is no longer ours (the fence). */
export async function lockClaimed(tx: EntityManager, row: Pick<ClaimedInbound, 'id' | 'attempts' | 'claimed_by'>): Promise<boolean> {
  const [r] = await tx.query(`SELECT status, attempts, claimed_by FROM inbound_emails WHERE id = $1 FOR UPDATE`, [row.id]);
  return !!r && r.status === 'received' && r.attempts === row.attempts && r.claimed_by === row.claimed_by;
}

export async function setOutcome(
  tx: EntityManager,
  id: string,
  o: {
    status: InboundStatus;
    reason: string | null;
    noticeId: string | null;
    extracted: Record<string, unknown> | null;
    auth: SenderAuth | null;
    at: Date;
  },
): Promise<void> {
  await tx.query(
    `UPDATE inbound_emails SET status = $2, reason = $3, notice_id = $4, extracted = $5, auth = COALESCE($6, auth), processed_at = $7, last_error = NULL,
            claimed_by = NULL, claimed_at = NULL
      WHERE id = $1`,
    [
      id,
      o.status,
      o.reason?.slice(0, 2000) ?? null,
      o.noticeId,
      o.extracted ? JSON.stringify(o.extracted) : null,
      o.auth ? JSON.stringify(o.auth) : null,
      o.at,
    ],
  );
}

/** A failed attempt: retried after `retryAt`, or `failed` for good. */
export async function setAttemptFailed(
  tx: EntityManager,
  row: Pick<ClaimedInbound, 'id' | 'attempts' | 'claimed_by'>,
  error: string,
  retryAt: Date | null,
  at: Date,
): Promise<boolean> {
  const [, n] = (await tx.query(
    retryAt
      ? `UPDATE inbound_emails SET last_error = $3, next_attempt_at = $4, claimed_by = NULL, claimed_at = NULL
          WHERE id = $1 AND status = 'received' AND attempts = $2 AND claimed_by = $5`
      : `UPDATE inbound_emails SET last_error = $3, status = 'failed', reason = 'could not be processed', processed_at = $4, claimed_by = NULL, claimed_at = NULL
          WHERE id = $1 AND status = 'received' AND attempts = $2 AND claimed_by = $5`,
    [row.id, row.attempts, error.slice(0, 2000), retryAt ?? at, row.claimed_by],
  )) as [unknown, number];
  return n === 1;
}

/** Which of these normalised URLs are the original URL of one of our items (the parser's `isItemOriginalUrl`). */
export async function knownOriginalUrls(tx: EntityManager, normalised: string[]): Promise<Set<string>> {
  if (!normalised.length) return new Set();
  const rows: { u: string }[] = await tx.query(
    `SELECT original_url_normalised AS u FROM items WHERE original_url_normalised = ANY($1::text[])`,
    [normalised.slice(0, 10_000)],
  );
  return new Set(rows.map((r) => r.u));
}

// ---- reads for staff (API and /mailbox) ----

export interface InboundRow {
  id: string;
  message_id: string | null;
  from_address: string | null;
  from_name: string | null;
  to: string[];
  subject: string | null;
  received_at: Date;
  way_in: string;
  size: number;
  status: InboundStatus;
  reason: string | null;
  notice_id: string | null;
  notice_reference: string | null;
  auth: Partial<SenderAuth>;
  extracted: Record<string, unknown> | null;
  attempts: number;
  last_error: string | null;
}

const COLUMNS = `e.id, e.message_id, e.from_address, e.from_name, e."to", e.subject, e.received_at, e.way_in, e.size, e.status, e.reason,
  e.notice_id, n.reference AS notice_reference, e.auth, e.attempts, e.last_error`;

export interface InboundFilter {
  status?: string;
  sender?: string;
  /** YYYY-MM-DD, inclusive. */
  from?: string;
  to?: string;
  cursor?: string;
}

/** Newest first, keyset pages of `limit`. The cursor is `<received_at ISO>|<id>` (base64url). */
export async function listInbound(
  tx: EntityManager,
  f: InboundFilter,
  limit = 50,
): Promise<{ rows: InboundRow[]; nextCursor: string | null }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (f.status) where.push(`e.status = ${p(f.status)}`);
  if (f.sender) where.push(`e.from_address ILIKE ${p(`%${f.sender.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
  if (f.from) where.push(`e.received_at >= ${p(f.from)}::date`);
  if (f.to) where.push(`e.received_at < ${p(f.to)}::date + 1`);
  const c = decodeCursor(f.cursor);
  if (c) where.push(`(e.received_at, e.id) < (${p(c.at)}::timestamptz, ${p(c.id)}::uuid)`);
  const rows: InboundRow[] = await tx.query(
    `SELECT ${COLUMNS} FROM inbound_emails e LEFT JOIN notices n ON n.id = e.notice_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY e.received_at DESC, e.id DESC LIMIT ${p(limit + 1)}`,
    params,
  );
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    rows: page,
    nextCursor: more && last ? Buffer.from(`${new Date(last.received_at).toISOString()}|${last.id}`).toString('base64url') : null,
  };
}

function decodeCursor(cursor: string | undefined): { at: string; id: string } | null {
  if (!cursor) return null;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!at || Number.isNaN(Date.parse(at)) || !/^[0-9a-f-]{36}$/i.test(id ?? '')) return null;
  return { at, id };
}

export async function findInbound(tx: EntityManager, id: string, withRaw = false): Promise<(InboundRow & { raw?: Buffer }) | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
  const [row] = await tx.query(
    `SELECT ${COLUMNS}, e.extracted${withRaw ? ', e.raw' : ''} FROM inbound_emails e LEFT JOIN notices n ON n.id = e.notice_id WHERE e.id = $1`,
    [id],
  );
  return row ?? null;
}

/** Counts by status, for /metrics. */
export async function countByStatus(tx: EntityManager): Promise<Record<string, number>> {
  const rows: { status: string; n: number }[] = await tx.query(`SELECT status, count(*)::int AS n FROM inbound_emails GROUP BY status`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export type { InboundEmail };
