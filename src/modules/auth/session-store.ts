import connectPgSimple from 'connect-pg-simple';
import session, { SessionData } from 'express-session';
import type { Pool } from 'pg';
import { sessionHandle } from './staff-sessions';

const PgStore = connectPgSimple(session);

/**
 * The staff session store: connect-pg-simple on the `sessions` table, with one rule added to its
 * writes. Ending a session (`endSessionsOf`, `endSessionByHandle`) turns its row into a marker
 * (`endedFor`); a request of that session already running at that moment still holds the signed-in
 * session object, and express-session saves it when the request ends. connect-pg-simple's upsert
 * would write it over the marker and the ended (maybe stolen) session would be alive again.
 *
 * So a save may replace a marker only with a session that grants nothing (no `userId`, no
 * `pendingUserId`: the guard clearing the marker after telling the visitor why it ended); any other
 * save onto a marker is dropped, in the same statement (no read-then-write race). A fresh sign-in is
 * not affected: it regenerates the session id (`completeSignIn`). `touch` (rolling cookies) does not
 * extend a marker either, so it goes when the session would have expired.
 *
 * The SQL is connect-pg-simple 10's `set`/`touch` (same parameters, same expiry rule) plus the
 * conditions; its other methods (`get`, `destroy`) are used as they are.
 */
export class StaffSessionStore extends PgStore {
  private readonly sessionPool: Pool;
  private readonly onDropped: (handle: string) => void;

  constructor(pool: Pool, onDropped: (handle: string) => void = () => undefined) {
    super({ pool, tableName: 'sessions', createTableIfMissing: false, pruneSessionInterval: false });
    this.sessionPool = pool;
    this.onDropped = onDropped;
  }

  override set(sid: string, sess: SessionData, callback?: (err?: unknown) => void): void {
    const saved = this.sessionPool
      .query(
        `INSERT INTO sessions (sess, expire, sid) VALUES ($1, to_timestamp($2), $3)
         ON CONFLICT (sid) DO UPDATE SET sess = EXCLUDED.sess, expire = EXCLUDED.expire
         WHERE sessions.sess->>'endedFor' IS NULL
            OR (EXCLUDED.sess->>'userId' IS NULL AND EXCLUDED.sess->>'pendingUserId' IS NULL)
         RETURNING sid`,
        [JSON.stringify(sess), expireTime(sess), sid],
      )
      .then((res) => {
        if (res.rowCount === 0) this.onDropped(sessionHandle(sid));
      });
    settle(saved, callback);
  }

  override touch(sid: string, sess: SessionData, callback?: (err?: unknown) => void): void {
    const touched = this.sessionPool.query(`UPDATE sessions SET expire = to_timestamp($1) WHERE sid = $2 AND sess->>'endedFor' IS NULL`, [
      expireTime(sess),
      sid,
    ]);
    settle(touched, callback);
  }
}

/** Hands the outcome to express-session's callback outside the promise chain, as connect-pg-simple does. */
function settle(p: Promise<unknown>, callback?: (err?: unknown) => void): void {
  p.then(
    () => process.nextTick(() => callback?.()),
    (err: unknown) => process.nextTick(() => (callback ? callback(err ?? new Error('session store query failed')) : undefined)),
  );
}

/** connect-pg-simple's rule: the cookie's expiry, else a day from now; unix seconds. */
function expireTime(sess: SessionData): number {
  const expires = sess.cookie?.expires;
  return Math.ceil((expires ? new Date(expires).getTime() : Date.now() + 86_400_000) / 1000);
}
