import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { Pool as PgPool, type Pool, type PoolClient, type PoolConfig } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { trackConnections } from './pool-connections';

/**
 * Runs a statement as a NAMED prepared statement, planned once per connection (issue 18).
 *
 * Why: PostgreSQL parses and plans an unnamed statement on every call. For the notice intake's
 * statements that was most of their cost: measured with pg_stat_statements under the intake
 * bench, planning was 0.59 of 0.89 ms for the triage facts, 0.40 of 0.48 ms for the registry
 * match and 0.42 of 1.51 ms for the write.
 *
 * Naming alone was not enough: with the default plan_cache_mode (auto) PostgreSQL kept planning
 * the reads on every call, because a custom plan for a one-element array always looks cheaper
 * than the generic one. So outside a transaction these statements run on a small pool of their
 * own whose connections use `plan_cache_mode = force_generic_plan` (`genericPlanPool`). Not on the
 * main pool: that setting also applies to unnamed statements, and every other query of the app is
 * planned for its values (tried: a TypeORM count by email went from an index scan to a 30 ms
 * sequential scan). Inside a transaction (`on` is its manager) the statement runs on the
 * transaction's connection, named but planned as PostgreSQL decides.
 *
 * Only SQL whose plan does not depend on its values belongs here (lookups by key, INSERTs), and
 * only of a bounded number of shapes: the name is a hash of the text, and a connection keeps every
 * statement it has prepared until it closes. Text built from data (e.g. one VALUES row per URL)
 * must stay below `PREPARED_MAX_PARAMS`.
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
  return (await genericPlanPool(manager ? manager.connection : (on as DataSource)).query(config)).rows as T[];
}

const genericPools = new WeakMap<DataSource, { pool: Pool; connections: ReturnType<typeof trackConnections> }>();

/**
 * The DataSource's second, smaller pool for `queryPrepared` (made on first use): the same server
 * and credentials as TypeORM's pool (its options), half its size, generic plans. Closed by
 * `closeGenericPlanPool` (the container's close); its idle connections never keep a process alive.
 */
function genericPlanPool(db: DataSource): Pool {
  let entry = genericPools.get(db);
  if (!entry) {
    const main = (db.driver as PostgresDriver).master as Pool & { options: PoolConfig };
    const pool = new PgPool({
      ...main.options,
      password: main.options.password, // pg-pool keeps it out of the enumerable options
      max: Math.max(2, Math.ceil((main.options.max ?? 20) / 2)),
      options: '-c plan_cache_mode=force_generic_plan',
      allowExitOnIdle: true,
    });
    // A broken idle connection (PostgreSQL restarted) is dropped and replaced on the next query; the
    // main pool's handler already logs the outage.
    pool.on('error', () => undefined);
    entry = { pool, connections: trackConnections(pool) };
    genericPools.set(db, entry);
  }
  return entry.pool;
}

/** Ends the generic-plan pool of `db` (if it was made) and waits, up to `timeoutMs`, until its connections are closed. */
export async function closeGenericPlanPool(db: DataSource, timeoutMs = 5_000): Promise<void> {
  const entry = genericPools.get(db);
  if (!entry) return;
  genericPools.delete(db);
  await entry.pool.end().catch(() => undefined);
  await entry.connections.allClosed(timeoutMs);
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
