import { Writable } from 'node:stream';
import { openCopy, streamCopy } from '../../src/db/copy-stream';
import { poolOf } from '../../src/db/data-source';
import { createTestDatabase } from '../support/context';

/**
 * db/copy-stream.ts: a COPY … TO STDOUT on a connection of its own. Read to the end, it commits and
 * the connection goes back to the pool; stopped early (a client that goes away), the connection is
 * closed, which ends the COPY on the server, and the pool goes on serving.
 */
describe('COPY streams', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.drop());

  const ROWS = 200_000;
  const COPY = `COPY (SELECT g, repeat('x', 200) FROM generate_series(1, ${ROWS}) g) TO STDOUT`;
  const copiesRunning = async () =>
    (await t.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT g, repeat%' AND state <> 'idle'`))[0]
      .n as number;

  it('when the writer takes everything, then every row arrives and the connection is back in the pool, its transaction over', async () => {
    let lines = 0;
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const b of chunk) if (b === 0x0a) lines++;
        done();
      },
    });
    expect(await streamCopy(poolOf(t.db), COPY, out)).toEqual({ aborted: false });
    expect(lines).toBe(ROWS);
    const pool = poolOf(t.db);
    expect(pool.idleCount).toBeGreaterThan(0);
    const [state] = await t.db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    expect(state.n).toBe(0);
  });

  it('when the writer goes away after its first chunk, then the answer is aborted, the COPY ends on the server and the pool still serves', async () => {
    const out = new Writable({
      write(_chunk, _enc, done) {
        done();
        out.destroy(); // as an HTTP response does when its client hangs up
      },
    });
    expect(await streamCopy(poolOf(t.db), COPY, out)).toEqual({ aborted: true });
    for (let i = 0; i < 50 && (await copiesRunning()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await copiesRunning()).toBe(0);
    expect((await t.db.query(`SELECT 1 AS ok`))[0].ok).toBe(1);
  });

  it('when a reader releases an open COPY early, then its connection is closed rather than reused, and releasing twice is harmless', async () => {
    const pool = poolOf(t.db);
    const copy = await openCopy(pool, COPY, '1min');
    for await (const chunk of copy.source) {
      expect((chunk as Buffer).length).toBeGreaterThan(0);
      break;
    }
    const before = pool.totalCount;
    copy.release();
    copy.release();
    expect(pool.totalCount).toBe(before - 1);
    for (let i = 0; i < 50 && (await copiesRunning()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await copiesRunning()).toBe(0);
  });
});
