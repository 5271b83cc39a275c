import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { Express } from 'express';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app';
import { Config, loadConfig } from '../../src/config';
import type { AppDeps } from '../../src/container';
import { createDataSource } from '../../src/db/data-source';
import { closeGenericPlanPool } from '../../src/db/prepared';
import { Clock, ManualClock, systemClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import { createMetricsRegistry } from '../../src/shared/metrics';

const TEMPLATE_DB = 'takedown_template_test';

function serverUrl(database: string): string {
  const base = process.env.TD_TEST_PG_URL;
  if (!base) throw new Error('TD_TEST_PG_URL is not set: run the tests through jest (global setup starts PostgreSQL)');
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh database for one test file, copied from the migrated template. */
export async function createTestDatabase(): Promise<{ db: DataSource; name: string; url: string; drop(): Promise<void> }> {
  const name = `td_${randomBytes(6).toString('hex')}_test`;
  const admin = new Client({ connectionString: serverUrl('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DB}"`);
  } finally {
    await admin.end();
  }
  const url = serverUrl(name);
  const db = createDataSource(url, { poolSize: 10 });
  await db.initialize();
  return {
    db,
    name,
    url,
    async drop() {
      await db.destroy().catch(() => undefined);
      await closeGenericPlanPool(db);
      const c = new Client({ connectionString: serverUrl('postgres') });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      await c.end();
    },
  };
}

/**
 * Empties every table between tests. Refuses any database whose name does not end in `_test`.
 * The audit table's append-only trigger is bypassed here only, as the database owner.
 */
export async function truncateAll(db: DataSource): Promise<void> {
  const [{ current_database: name }] = await db.query('SELECT current_database()');
  if (!String(name).endsWith('_test')) throw new Error(`refusing to truncate ${name}: not a _test database`);
  const tables: { tablename: string }[] = await db.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'typeorm_migrations'`,
  );
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query(`TRUNCATE ${tables.map((t) => `"${t.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
  });
}

export interface TestContext extends AppDeps {
  app: Express;
  clock: Clock;
  dbName: string;
  dbUrl: string;
  close(): Promise<void>;
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PUBLIC_BASE_URL: 'http://localhost:3000',
    SESSION_SECRET: 'test-session-secret-that-is-long-enough-0123456789',
    ALLOW_PRIVATE_FEEDS: 'true',
    ...overrides,
  });
}

/** The real app on a fresh real database. Call `close()` in afterAll. */
export async function createTestContext(opts: { env?: Record<string, string>; clock?: Clock | ManualClock } = {}): Promise<TestContext> {
  const config = testConfig(opts.env);
  const { db, name, url, drop } = await createTestDatabase();
  const deps: AppDeps = {
    config,
    logger: createLogger('silent'),
    db,
    clock: opts.clock ?? systemClock,
    metrics: createMetricsRegistry(),
    sessionSecret: config.sessionSecret!,
  };
  const app = createApp(deps);
  return { ...deps, app, dbName: name, dbUrl: url, close: drop };
}
