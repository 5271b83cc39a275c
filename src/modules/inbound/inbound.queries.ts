import { EntityManager } from 'typeorm';
import type { LeaseHolder } from '../../db/leases';
import type { InboundEmail, InboundEnvelope, InboundStatus, SenderAuth } from './inbound-email.entity';

/** A row the parse job holds (claimed through the shared leases, `src/db/leases.ts`). */
export interface ClaimedInbound {
  id: string;
  /** The raw message's length in bytes: the bytes themselves are read when the row's turn comes (`rawPieces`). */
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

/** Bytes read from a stored message a statement at a time (2 MiB of hex on the wire). */
const RAW_PIECE = 1024 * 1024;

/**
 * A stored message's bytes, a piece at a time (issue 18, memory): a bytea comes back as hex text, so
 * reading a 25 MiB message whole held 50 MiB of wire buffer and 50 MiB of hex string besides its
 * 25 MiB of bytes. The parse job hands the pieces to mailparser as they come and never joins them.
 */
export async function* rawPieces(
  db: { query(sql: string, params: unknown[]): Promise<any[]> },
  id: string,
  size: number,
): AsyncGenerator<Buffer> {
  for (let at = 0; at < size; at += RAW_PIECE) {
    const [row] = await db.query(`SELECT substring(raw FROM $2 FOR $3) AS piece FROM inbound_emails WHERE id = $1`, [
      id,
      at + 1,
      RAW_PIECE,
    ]);
    const piece: Buffer | undefined = row?.piece;
    if (!piece || piece.length !== Math.min(RAW_PIECE, size - at)) throw new Error(`inbound email ${id}: its raw bytes changed while read`);
    yield piece;
  }
}

/** A stored message's bytes in one buffer, read piece by piece (`rawPieces`). */
export async function readRaw(db: { query(sql: string, params: unknown[]): Promise<any[]> }, id: string, size: number): Promise<Buffer> {
  const raw = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for await (const piece of rawPieces(db, id, size)) {
    piece.copy(raw, at);
    at += piece.length;
  }
  return raw;
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
