import 'reflect-metadata';
import { DataSource, EntityManager } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { Pool } from 'pg';
import { allMigrations } from '../../migrations';
import { entities } from './entities';

/** The one DataSource factory, used by the app, the CLI, the tests and the migrations. */
export function createDataSource(url: string, opts: { poolSize?: number; applicationName?: string } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations: allMigrations,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    uuidExtension: 'pgcrypto',
    poolSize: opts.poolSize ?? 20,
    applicationName: opts.applicationName ?? 'takedown-desk',
    extra: {
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      // A query may not hold a connection forever (a hung request must not starve the pool).
      statement_timeout: 30_000,
      // Our named statements (db/prepared.ts: the item page, the intake's reads and write) are
      // planned once per connection and then reused. With the default plan_cache_mode (auto),
      // PostgreSQL kept re-planning the intake's reads on every call, because a custom plan for a
      // one-element array always looks cheaper than the generic one (planning was 0.8 of their
      // 1.2 ms). Unnamed statements, everything else, are one-shot and always planned with their
      // values: this setting does not touch them.
      options: '-c plan_cache_mode=force_generic_plan',
    },
  });
}

/** The pg Pool behind the DataSource, shared with the session store and the rate limiter. */
export function poolOf(db: DataSource): Pool {
  return (db.driver as PostgresDriver).master as Pool;
}

export type Tx = EntityManager;
