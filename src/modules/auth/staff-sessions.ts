import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { withTransaction } from '../../db/transaction';
import { PUBLIC, record, RequestContext } from '../audit';

/**
 * Staff sessions live in PostgreSQL (`sessions`, connect-pg-simple's table; `sess.userId` names the
 * signed-in user). Ending a session does not delete its row: the row keeps its expiry and becomes a
 * marker without a user (`endedFor`, `endedBecause`), so that when its cookie comes back (a stolen
 * one, or the member's other browser) it is refused with a message saying why, and audited once
 * (`refuseEndedSession`). The marker goes when the session would have expired anyway. A request of the
 * session still running when it ends cannot write it back when it saves: `StaffSessionStore`.
 */
export type SessionEndReason = 'revoked' | 'password_changed' | 'second_factor_reset' | 'deactivated';

const ENDED = `json_build_object('cookie', sess->'cookie', 'endedFor', sess->>'userId', 'endedBecause', $2::text)`;

/** Ends every session of a user (but `exceptSid`, the caller's own); returns how many. */
export async function endSessionsOf(tx: EntityManager, userId: string, reason: SessionEndReason, exceptSid?: string): Promise<number> {
  const [{ n }] = await tx.query(
    `WITH d AS (UPDATE sessions SET sess = ${ENDED} WHERE sess->>'userId' = $1 AND ($3::text IS NULL OR sid <> $3) RETURNING 1)
     SELECT count(*)::int AS n FROM d`,
    [userId, reason, exceptSid ?? null],
  );
  return n;
}

const ENDED_MESSAGES: Record<SessionEndReason, string> = {
  revoked: 'This session was signed out from the sessions page of your account. Sign in again.',
  password_changed: 'This session ended because the password of the account was changed. Sign in again.',
  second_factor_reset: 'This session ended because an admin reset the second factor of the account. Sign in again.',
  deactivated: 'This session ended because the account was deactivated.',
};

/**
 * The cookie of an ended session came back: audited once (`session.refused`, with the member it
 * belonged to and why it ended; the caller then clears the marker) and the message to show.
 */
export async function refuseEndedSession(
  deps: { db: DataSource },
  cmd: { userId: string; reason: unknown; method: string; path: string; context: RequestContext; at: Date },
): Promise<string> {
  const reason: SessionEndReason =
    typeof cmd.reason === 'string' && cmd.reason in ENDED_MESSAGES ? (cmd.reason as SessionEndReason) : 'revoked';
  await withTransaction(deps.db, (tx) =>
    record(tx, {
      actor: PUBLIC,
      action: 'session.refused',
      subject: { type: 'user', id: cmd.userId },
      details: { reason, method: cmd.method, path: cmd.path.slice(0, 200) },
      context: cmd.context,
      at: cmd.at,
    }),
  );
  return ENDED_MESSAGES[reason];
}

export interface SessionRow {
  /** A handle for forms and pages: never the session id itself (that is the cookie's secret). */
  handle: string;
  current: boolean;
  device: string;
  ip: string | null;
  createdAt: Date | null;
  lastSeenAt: Date | null;
  expiresAt: Date;
}

export const sessionHandle = (sid: string) => createHash('sha256').update(`session:${sid}`).digest('hex').slice(0, 24);

/** A user's live sessions, the most recently used first. */
export async function listSessionsOf(tx: EntityManager, userId: string, currentSid: string, now: Date): Promise<SessionRow[]> {
  const rows: { sid: string; sess: Record<string, unknown>; expire: Date }[] = await tx.query(
    `SELECT sid, sess, expire FROM sessions WHERE sess->>'userId' = $1 AND expire > $2`,
    [userId, now],
  );
  const ms = (v: unknown) => (typeof v === 'number' ? new Date(v) : null);
  return rows
    .map((r) => ({
      handle: sessionHandle(r.sid),
      current: r.sid === currentSid,
      device: describeUserAgent(typeof r.sess.userAgent === 'string' ? r.sess.userAgent : ''),
      ip: typeof r.sess.ip === 'string' ? r.sess.ip : null,
      createdAt: ms(r.sess.createdAt),
      lastSeenAt: ms(r.sess.lastSeenAt),
      expiresAt: new Date(r.expire),
    }))
    .sort((a, b) => Number(b.current) - Number(a.current) || (b.lastSeenAt?.getTime() ?? 0) - (a.lastSeenAt?.getTime() ?? 0));
}

/** Ends one of a user's sessions by its handle; returns whether there was one (never the caller's own). */
export async function endSessionByHandle(tx: EntityManager, userId: string, handle: string, currentSid: string): Promise<boolean> {
  const rows: { sid: string }[] = await tx.query(`SELECT sid FROM sessions WHERE sess->>'userId' = $1 FOR UPDATE`, [userId]);
  const target = rows.find((r) => sessionHandle(r.sid) === handle && r.sid !== currentSid);
  if (!target) return false;
  await tx.query(`UPDATE sessions SET sess = ${ENDED} WHERE sid = $1`, [target.sid, 'revoked' satisfies SessionEndReason]);
  return true;
}

/** "Firefox on Linux", "Chrome on Android", "curl": enough to recognise one's own devices. */
export function describeUserAgent(ua: string): string {
  if (!ua) return 'Unknown device';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /OPR\//.test(ua)
      ? 'Opera'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /(Chrome|Chromium|HeadlessChrome)\//.test(ua)
          ? 'Chrome'
          : /Safari\//.test(ua) && /Version\//.test(ua)
            ? 'Safari'
            : /^curl\//.test(ua)
              ? 'curl'
              : null;
  const os = /Android/.test(ua)
    ? 'Android'
    : /(iPhone|iPad|iPod)/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X|Macintosh/.test(ua)
          ? 'macOS'
          : /CrOS/.test(ua)
            ? 'ChromeOS'
            : /Linux/.test(ua)
              ? 'Linux'
              : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? ua.slice(0, 60);
}
