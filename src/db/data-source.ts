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
    },
  });
}

/** The pg Pool behind the DataSource, shared with the session store and the rate limiter. */
export function poolOf(db: DataSource): Pool {
  return (db.driver as PostgresDriver).master as Pool;
}

export type Tx = EntityManager;
