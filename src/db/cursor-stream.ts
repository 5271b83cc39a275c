import type { Writable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';

const FETCH = 2_000;

/**
 * Runs `sql` as a server-side cursor in one read-only snapshot and hands each batch of rows to
 * `write`, waiting for the destination to drain between batches: memory stays at one batch however
 * many rows there are. Each FETCH is its own statement, so the pool's statement_timeout bounds a
 * batch, not the whole export. Stops (and releases the connection) when the client goes away.
 */
export async function streamCursor<R>(
  pool: Pool,
  sql: string,
  params: unknown[],
  out: Writable,
  write: (rows: R[]) => string,
  opts: { rowMode?: 'array' } = {},
): Promise<{ rows: number; aborted: boolean }> {
  const client: PoolClient = await pool.connect();
  let rows = 0;
  let aborted = false;
  let failed: unknown = null;
  const onClose = () => {
    aborted = true;
  };
  out.once('close', onClose);
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`DECLARE export_cursor NO SCROLL CURSOR FOR ${sql}`, params);
    for (;;) {
      if (aborted || out.destroyed) {
        aborted = true;
        break;
      }
      const text = `FETCH ${FETCH} FROM export_cursor`;
      const batch: { rows: unknown[] } = opts.rowMode ? await client.query({ text, rowMode: 'array' }) : await client.query(text);
      if (!batch.rows.length) break;
      rows += batch.rows.length;
      const chunk = write(batch.rows as R[]);
      if (!out.write(chunk)) await drained(out);
      if (batch.rows.length < FETCH) break;
    }
    await client.query(aborted ? 'ROLLBACK' : 'COMMIT');
  } catch (e) {
    failed = e;
    await client.query('ROLLBACK').catch(() => undefined);
  } finally {
    out.off('close', onClose);
    client.release(failed instanceof Error && /Connection terminated|connection/i.test(failed.message) ? failed : undefined);
  }
  if (failed && !aborted) throw failed;
  return { rows, aborted };
}

function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.once('drain', done);
    out.once('close', done);
  });
}
