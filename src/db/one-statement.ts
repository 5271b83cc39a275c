/**
 * Several writes as ONE statement (a data-modifying CTE), for a hot path whose cost is its round
 * trips (issue 18: the notice intake).
 *
 * Why: on a busy machine every statement costs a socket write and a wake-up on both sides, and a
 * transaction adds two more (BEGIN, COMMIT) while holding a connection idle in between. A single
 * statement is atomic by itself: every part commits or none does, and the parts' triggers and
 * foreign keys are checked at its end, as in a transaction.
 *
 * Each table's SQL stays with the module that owns the table: a module exports a `WritePart`
 * (its INSERT, with values bound through `p`) beside the function that runs it alone, and the use
 * case composes the parts. Rules of data-modifying CTEs that a part must respect: the parts run on
 * one snapshot, so a part cannot read another part's rows (pass values, e.g. an id made in
 * JavaScript, not a sub-select), and no row may be changed by two parts.
 *
 *   await runAsOneStatement(deps.db, [noticePart, auditPart, emailsPart]);   // own transaction
 *   await runAsOneStatement(tx, parts);                                      // inside a larger one
 */
export type WritePart = (p: (value: unknown) => string) => string;

/** What can run a statement: a DataSource, an EntityManager (transaction) or a pg pool. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** The parts as one statement: the first ones as CTEs, the last as the main statement. */
export function composeParts(parts: WritePart[]): { sql: string; params: unknown[] } {
  if (!parts.length) throw new Error('composeParts: nothing to write');
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const sqls = parts.map((part) => part(p));
  const last = sqls.pop()!;
  const sql = sqls.length ? `WITH ${sqls.map((s, i) => `w${i} AS (${s})`).join(',\n')}\n${last}` : last;
  return { sql, params };
}

/** Runs the parts as one statement (one round trip). */
export async function runAsOneStatement(q: Queryable, parts: WritePart[]): Promise<void> {
  const { sql, params } = composeParts(parts);
  await q.query(sql, params);
}

/**
 * A statement that another library built with `$1…$n` placeholders (TypeORM's query builder), as
 * a part: its placeholders are renumbered into the composed statement's.
 */
export function numberedPart(sql: string, params: unknown[]): WritePart {
  return (p) => sql.replace(/\$(\d+)\b/g, (_, n: string) => p(params[Number(n) - 1]));
}
