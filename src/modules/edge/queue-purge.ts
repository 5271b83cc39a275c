import type { EntityManager } from 'typeorm';

/** The channel the purge workers LISTEN on: a committed purge is sent at once, not at the next poll. */
export const PURGE_CHANNEL = 'td_edge_purge';

/** A surrogate key: printable ASCII without spaces or commas (both are separators in the headers). */
const KEY = /^[\x21-\x2b\x2d-\x7e]{1,200}$/;

/**
 * Queues a purge of these surrogate keys at every configured edge, in the caller's transaction:
 * the purge commits (and rolls back) with the change that made the pages stale. Every change that
 * alters a public page calls it: removal, restoration, withdrawal, held, feed update, rename.
 * No network call here: the purge worker sends it after commit (woken by NOTIFY at commit).
 */
export async function queuePurge(tx: EntityManager, keys: readonly string[], at: Date): Promise<void> {
  const unique = [...new Set(keys)];
  const bad = unique.filter((k) => !KEY.test(k));
  if (bad.length) throw new Error(`not a surrogate key: ${JSON.stringify(bad[0])}`);
  if (!unique.length) return;
  // One row per 256 keys (Fastly's batch limit; a row is one request per target).
  for (let i = 0; i < unique.length; i += 256) {
    await tx.query(`INSERT INTO edge_purges (keys, created_at, next_attempt_at) VALUES ($1::text[], $2, $2)`, [
      unique.slice(i, i + 256),
      at,
    ]);
  }
  await tx.query('SELECT pg_notify($1, $2)', [PURGE_CHANNEL, '']);
}
