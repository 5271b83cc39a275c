import { createHash } from 'node:crypto';
import { EntityManager } from 'typeorm';

/**
 * Staff sessions live in PostgreSQL (`sessions`, connect-pg-simple's table; `sess.userId` names the
 * signed-in user). Ending a session deletes its row: its cookie then opens an empty session.
 */
export async function endSessionsOf(tx: EntityManager, userId: string, exceptSid?: string): Promise<number> {
  const [{ n }] = await tx.query(
    `WITH d AS (DELETE FROM sessions WHERE sess->>'userId' = $1 AND ($2::text IS NULL OR sid <> $2) RETURNING 1) SELECT count(*)::int AS n FROM d`,
    [userId, exceptSid ?? null],
  );
  return n;
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
  await tx.query(`DELETE FROM sessions WHERE sid = $1`, [target.sid]);
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
