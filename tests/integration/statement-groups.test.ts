import type { DataSource } from 'typeorm';
import type { WritePart } from '../../src/db/one-statement';
import { createStatementGroups } from '../../src/db/statement-groups';
import { createTestDatabase } from '../support/context';

/**
 * db/statement-groups.ts (issue 18): statements of one shape that arrive while others are in
 * flight go together as one statement, and each caller still gets its own outcome.
 */
describe('statement groups', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: DataSource;

  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
    await db.query('CREATE TABLE group_probe (id int PRIMARY KEY, note text NOT NULL)');
    await db.query('CREATE TABLE group_probe_log (probe_id int NOT NULL, line text NOT NULL)');
  });
  beforeEach(() => db.query('TRUNCATE group_probe, group_probe_log'));
  afterAll(() => t.drop());

  /** One caller's write: a probe row and a log line, as two parts (two tables, one statement). */
  const probe = (id: number, note = `note ${id}`): WritePart[] => [
    (p) => `INSERT INTO group_probe (id, note) VALUES (${p(id)}::int, ${p(note)}::text)`,
    (p) => `INSERT INTO group_probe_log (probe_id, line) VALUES (${p(id)}::int, ${p(`wrote ${id}`)}::text)`,
  ];
  const ids = async (table: string, column: string) =>
    (await db.query(`SELECT ${column} AS id FROM ${table} ORDER BY 1`)).map((r: { id: number }) => r.id);

  test('when one write arrives alone, then it goes at once as its own statement', async () => {
    const groups = createStatementGroups(db, { inFlight: 1, max: 8 });
    await groups.write(probe(1));
    expect(groups.sent).toEqual({ statements: 1, callers: 1 });
    expect(await ids('group_probe', 'id')).toEqual([1]);
  });

  test('when ten writes of one shape arrive while one is in flight, then the waiting ones go together, at most `max` to a statement, and every caller’s rows are committed', async () => {
    const groups = createStatementGroups(db, { inFlight: 1, max: 4 });
    const ten = Array.from({ length: 10 }, (_, i) => i + 1);
    await Promise.all(ten.map((id) => groups.write(probe(id))));
    // The first goes alone (nothing was in flight); the other nine waited for it: 4 + 4 + 1.
    expect(groups.sent).toEqual({ statements: 4, callers: 10 });
    expect(await ids('group_probe', 'id')).toEqual(ten);
    expect(await ids('group_probe_log', 'probe_id')).toEqual(ten);
  });

  test('when one write of a group fails, then only its caller gets the error, and the others are written once', async () => {
    await db.query(`INSERT INTO group_probe (id, note) VALUES (3, 'already here')`);
    const groups = createStatementGroups(db, { inFlight: 1, max: 8 });
    const outcomes = await Promise.allSettled([1, 2, 3, 4, 5].map((id) => groups.write(probe(id))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((outcomes[2] as PromiseRejectedResult).reason)).toMatch(/duplicate key/);
    expect(await ids('group_probe', 'id')).toEqual([1, 2, 3, 4, 5]);
    // The failed group (2–5) wrote nothing, so its retry wrote each log line once; 3 wrote none.
    expect(await ids('group_probe_log', 'probe_id')).toEqual([1, 2, 4, 5]);
  });

  test('when writes differ in shape, then they are not grouped with each other', async () => {
    const groups = createStatementGroups(db, { inFlight: 1, max: 8 });
    const other = (id: number): WritePart[] => [(p) => `INSERT INTO group_probe (id, note) VALUES (${p(id)}::int, 'other shape')`];
    await Promise.all([groups.write(probe(1)), groups.write(other(2)), groups.write(probe(3)), groups.write(other(4))]);
    // Each shape: the first alone, the second after it. Four statements, none of mixed shapes.
    expect(groups.sent).toEqual({ statements: 4, callers: 4 });
    expect(await ids('group_probe', 'id')).toEqual([1, 2, 3, 4]);
  });

  test('when reads of one shape are grouped, then each caller gets exactly its own rows, none or several', async () => {
    await db.query(`INSERT INTO group_probe (id, note) SELECT g, 'row ' || g FROM generate_series(1, 20) g`);
    const groups = createStatementGroups(db, { inFlight: 1, max: 8 });
    const between = (from: number, to: number) =>
      groups.read<{ id: number; note: string }>(
        (p) => `SELECT id, note FROM group_probe WHERE id BETWEEN ${p(from)}::int AND ${p(to)}::int`,
      );
    const [a, b, none, c] = await Promise.all([between(1, 2), between(5, 7), between(100, 200), between(20, 20)]);
    expect(groups.sent).toEqual({ statements: 2, callers: 4 });
    const sorted = (rows: { id: number; note: string }[]) => [...rows].sort((x, y) => x.id - y.id);
    expect(sorted(a)).toEqual([
      { id: 1, note: 'row 1' },
      { id: 2, note: 'row 2' },
    ]);
    expect(sorted(b).map((r) => r.id)).toEqual([5, 6, 7]);
    expect(none).toEqual([]);
    expect(c).toEqual([{ id: 20, note: 'row 20' }]);
  });

  test('when one read of a group fails, then only its caller gets the error', async () => {
    await db.query(`INSERT INTO group_probe (id, note) VALUES (1, 'one')`);
    const groups = createStatementGroups(db, { inFlight: 1, max: 8 });
    const divided = (by: number) => groups.read<{ q: number }>((p) => `SELECT 10 / ${p(by)}::int AS q FROM group_probe WHERE id = 1`);
    const outcomes = await Promise.allSettled([divided(1), divided(2), divided(0), divided(5)]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : String(o.reason)))).toEqual([
      [{ q: 10 }],
      [{ q: 5 }],
      expect.stringMatching(/division by zero/),
      [{ q: 2 }],
    ]);
  });
});
