import type { DataSource } from 'typeorm';
import { runAsOneStatement } from '../../src/db/one-statement';
import { closeGenericPlanPool, PREPARED_MAX_PARAMS, queryPrepared } from '../../src/db/prepared';
import { withTransaction } from '../../src/db/transaction';
import { createTestDatabase } from '../support/context';

/**
 * db/prepared.ts (issue 18): the intake's statements run named, with generic plans, on a pool of
 * their own; nothing else of the app may be planned that way.
 */
describe('named statements with generic plans', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: DataSource;

  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
    await db.query('CREATE TABLE prepared_probe (id int PRIMARY KEY, note text)');
  });
  afterAll(() => t.drop());

  const backendOf = async (run: (sql: string) => Promise<{ pid: number; mode: string }[]>) =>
    (await run(`SELECT pg_backend_pid() AS pid, current_setting('plan_cache_mode') AS mode`))[0];

  test('when a statement runs outside a transaction, then it runs named on a connection with generic plans, and the main pool keeps planning for the values', async () => {
    const own = await backendOf((sql) => queryPrepared(db, sql, []));
    expect(own.mode).toBe('force_generic_plan');
    const main = await backendOf((sql) => db.query(sql));
    expect(main.mode).toBe('auto');
    // Named: the statement is in that connection's prepared statements, under a name of ours.
    const text = `SELECT name, statement FROM pg_prepared_statements WHERE statement LIKE '%prepared_probe_marker%'`;
    const seen = await queryPrepared<{ name: string; statement: string }>(db, `${text} AND $1::int = 1 -- prepared_probe_marker`, [1]);
    expect(seen.some((r) => r.name.startsWith('td_'))).toBe(true);
  });

  test('when a statement runs inside a transaction, then it runs on the transaction connection and sees its uncommitted rows', async () => {
    await expect(
      withTransaction(db, async (tx) => {
        await tx.query(`INSERT INTO prepared_probe (id, note) VALUES (1, 'uncommitted')`);
        const rows = await queryPrepared<{ note: string }>(tx, 'SELECT note FROM prepared_probe WHERE id = $1', [1]);
        expect(rows).toEqual([{ note: 'uncommitted' }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await queryPrepared(db, 'SELECT note FROM prepared_probe WHERE id = $1', [1])).toEqual([]);
  });

  test('when parts are written as one statement, then a failing part writes nothing, named or not', async () => {
    const twoRows = (a: number, b: number) => [
      (p: (v: unknown) => string) => `INSERT INTO prepared_probe (id, note) VALUES (${p(a)}, 'first')`,
      (p: (v: unknown) => string) => `INSERT INTO prepared_probe (id, note) VALUES (${p(b)}, 'second')`,
    ];
    await runAsOneStatement(db, twoRows(10, 11));
    await expect(runAsOneStatement(db, twoRows(12, 10))).rejects.toThrow(/duplicate key/);
    const many = Array.from({ length: PREPARED_MAX_PARAMS + 1 }, (_, i) => 100 + i);
    await runAsOneStatement(db, [
      (p) => `INSERT INTO prepared_probe (id) SELECT unnest(ARRAY[${many.map((v) => p(v)).join(', ')}]::int[])`,
    ]);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM prepared_probe WHERE id IN (10, 11, 12) OR id >= 100`);
    expect(n).toBe(2 + many.length);
  });

  test('when the pool is closed, then its connections are gone, and a later statement opens a new pool', async () => {
    const { pid } = await backendOf((sql) => queryPrepared(db, sql, []));
    await closeGenericPlanPool(db);
    const [{ alive }] = await db.query('SELECT count(*)::int AS alive FROM pg_stat_activity WHERE pid = $1', [pid]);
    expect(alive).toBe(0);
    expect((await backendOf((sql) => queryPrepared(db, sql, []))).mode).toBe('force_generic_plan');
  });
});
