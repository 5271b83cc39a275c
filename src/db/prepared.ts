import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { Pool, PoolClient } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Runs a statement as a NAMED prepared statement on the connection that runs it (issue 18).
 *
 * Why: PostgreSQL parses and plans an unnamed statement on every call. For the notice intake's
 * statements that was most of their cost: measured with pg_stat_statements under the intake
 * bench, planning was 0.59 of 0.89 ms for the triage facts, 0.40 of 0.48 ms for the registry
 * match and 0.42 of 1.51 ms for the write. A named statement is parsed once per pooled connection;
 * after five executions PostgreSQL keeps a generic plan when it is no worse than the custom ones,
 * and then only binds and executes.
 *
 * The name is a hash of the text, so only SQL of a bounded number of shapes belongs here: a
 * connection keeps every statement it has prepared until it closes (idle connections close after
 * 30 s). Text built from data (e.g. one VALUES row per URL) must stay below `PREPARED_MAX_PARAMS`.
 *
 * `on` is the manager of a transaction (the statement runs on the transaction's connection) or
 * the DataSource / its default manager (a connection from the pool).
 */
export async function queryPrepared<T = Record<string, unknown>>(
  on: EntityManager | DataSource,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const config = { name: statementName(text), text, values };
  const manager = on instanceof EntityManager ? on : null;
  const runner = manager?.queryRunner;
  if (runner && !runner.isReleased) {
    const client = (await runner.connect()) as PoolClient;
    return (await client.query(config)).rows as T[];
  }
  const db = manager ? manager.connection : (on as DataSource);
  // The DataSource's pg Pool (as `poolOf` in data-source.ts, which this module must not import: its entities import modules that use this one).
  return (await ((db.driver as PostgresDriver).master as Pool).query(config)).rows as T[];
}

/** Above this many parameters a statement's text is data-shaped (e.g. a 1,000-URL notice): run it unnamed. */
export const PREPARED_MAX_PARAMS = 200;

const names = new Map<string, string>();

/** A stable name for `text` (PostgreSQL truncates names at 63 bytes). */
function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `td_${createHash('sha1').update(text).digest('base64url')}`;
    if (names.size < 200) names.set(text, name); // the hash is cheap; the map only saves it for the common shapes
  }
  return name;
}
