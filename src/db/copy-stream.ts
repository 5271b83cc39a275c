import { Readable, Transform, TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { escapeLiteral, Pool } from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/**
 * A whole export is one statement, so it gets a bound of its own instead of the pool's 30 s:
 * long enough for tens of millions of rows, short enough that a client that stops reading does
 * not hold a snapshot (and a connection) for ever.
 */
const EXPORT_TIMEOUT = '15min';

/**
 * Streams `COPY (<select>) TO STDOUT …` into `out`: PostgreSQL formats every row and the process
 * only forwards its buffers, with back-pressure, so memory stays flat and the rate is PostgreSQL's.
 * One statement is one snapshot. When the client goes away the connection is closed (a COPY cannot
 * be stopped half-way and the connection reused), which ends the COPY on the server.
 */
export async function streamCopy(pool: Pool, copySql: string, out: Writable, transform?: Transform): Promise<{ aborted: boolean }> {
  const copy = await openCopy(pool, copySql, EXPORT_TIMEOUT);
  try {
    await (transform ? pipeline(copy.source, transform, out) : pipeline(copy.source, out));
  } catch (e) {
    copy.release(e);
    if (out.destroyed && !out.writableFinished) return { aborted: true };
    throw e;
  }
  await copy.finish();
  return { aborted: false };
}

/** A COPY … TO STDOUT under way on a connection of its own (see `openCopy`). */
export interface OpenCopy {
  /** PostgreSQL's buffers, as they come. */
  source: Readable;
  /** Read to the end: commits and gives the connection back. */
  finish(): Promise<void>;
  /** Stopped early or failed: closes the connection (its COPY cannot be stopped half-way). Idempotent. */
  release(err?: unknown): void;
}

/**
 * Starts `copySql` on a connection of the pool, in a read-only repeatable-read transaction (one
 * snapshot) with its own statement timeout (a COPY is one statement, often longer than the pool's
 * bound). The caller reads `source`, then calls `finish()`, or `release(err)` if it stops early or
 * fails. Used by the exports (`streamCopy`) and by the inbound parse job's raw message stream.
 */
export async function openCopy(pool: Pool, copySql: string, timeout: string): Promise<OpenCopy> {
  const client = await pool.connect();
  let released = false;
  const release = (err?: unknown) => {
    if (released) return;
    released = true;
    client.release(err === undefined ? undefined : err instanceof Error ? err : new Error(String(err)));
  };
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${escapeLiteral(timeout)}`);
    const source = client.query(copyTo(copySql));
    return {
      source,
      async finish() {
        try {
          await client.query('COMMIT');
        } catch (e) {
          release(e);
          throw e;
        }
        release();
      },
      release: (err) => release(err ?? new Error('the COPY was stopped before its end')),
    };
  } catch (e) {
    release(e);
    throw e;
  }
}

/**
 * COPY takes no bind parameters, so each `$n` of `sql` is replaced by `params[n-1]` as an escaped
 * literal (`pg`'s own `escapeLiteral`: quotes doubled, an `E''` string when backslashes occur),
 * typed so the comparison means what it did with a parameter. Only the value types the filters
 * use are accepted; anything else is a programming error.
 */
export function inlineParams(sql: string, params: readonly unknown[]): string {
  return sql.replace(/\$(\d+)\b/g, (_, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= params.length) throw new Error(`inlineParams: no value for $${n}`);
    return literal(params[i]);
  });
}

function literal(v: unknown): string {
  if (typeof v === 'string') return `${escapeLiteral(v)}::text`;
  if (v instanceof Date) return `${escapeLiteral(v.toISOString())}::timestamptz`;
  if (typeof v === 'number' && Number.isFinite(v)) return Number.isInteger(v) ? `${v}::bigint` : `${v}::double precision`;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return `ARRAY[${v.map((x) => escapeLiteral(x)).join(', ')}]::text[]`;
  throw new Error(`inlineParams: unsupported value of type ${typeof v}`);
}

/**
 * PostgreSQL's CSV ends each row with LF; RFC 4180 wants CRLF. Turns every LF that ends a row
 * (outside a quoted field) into CRLF and leaves line breaks inside quoted fields as they are. The
 * quote state carries over from one chunk to the next.
 */
export class CsvLineEndings extends Transform {
  private inQuotes = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let extra = 0;
    let q = this.inQuotes;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === 0x22) q = !q;
      else if (c === 0x0a && !q) extra++;
    }
    if (extra === 0) {
      this.inQuotes = q;
      return done(null, chunk);
    }
    const outBuf = Buffer.allocUnsafe(chunk.length + extra);
    let o = 0;
    q = this.inQuotes;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === 0x22) q = !q;
      else if (c === 0x0a && !q) outBuf[o++] = 0x0d;
      outBuf[o++] = c;
    }
    this.inQuotes = q;
    done(null, outBuf);
  }
}
