import { DataSource, EntityManager, type EntityTarget, type ObjectLiteral } from 'typeorm';
import { PREPARED_MAX_PARAMS, queryPrepared } from './prepared';

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

/**
 * Runs the parts as one statement (one round trip). Through TypeORM (a DataSource or a
 * transaction's manager) and of a fixed shape, it runs as a named prepared statement
 * (`queryPrepared`: planned once per connection); anything else runs unnamed.
 */
export async function runAsOneStatement(q: Queryable | EntityManager | DataSource, parts: WritePart[]): Promise<void> {
  const { sql, params } = composeParts(parts);
  if (params.length <= PREPARED_MAX_PARAMS && isTypeorm(q)) await queryPrepared(q, sql, params);
  else await q.query(sql, params);
}

function isTypeorm(q: Queryable | EntityManager | DataSource): q is EntityManager | DataSource {
  return q instanceof EntityManager || q instanceof DataSource;
}

/**
 * An entity's INSERT as a part, built from TypeORM's column metadata (the column mapping stays in
 * the entity) but without its query builder: on the intake bench the builder was a twentieth of
 * the server's CPU per notice (aliases, a regular expression over the query, parameter objects).
 * Values go through the driver as the builder's do (json stringified, dates formatted); an
 * undefined value is left to the column's default, a version column starts at 1 as TypeORM's own.
 */
export function entityInsertPart<T extends ObjectLiteral>(q: EntityManager, target: EntityTarget<T>, values: Partial<T>): WritePart {
  const meta = q.connection.getMetadata(target);
  const driver = q.connection.driver;
  const columns: string[] = [];
  const bound: unknown[] = [];
  for (const c of meta.columns) {
    if (c.isVirtual || !c.isInsert) continue;
    const value: unknown = c.isVersion ? 1 : c.getEntityValue(values);
    if (value === undefined) continue;
    columns.push(driver.escape(c.databaseName));
    bound.push(driver.preparePersistentValue(value, c));
  }
  const table = driver.escape(meta.tablePath);
  return (p) => `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${bound.map((v) => p(v)).join(', ')})`;
}
