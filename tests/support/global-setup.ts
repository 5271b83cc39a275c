import 'reflect-metadata';
import { createDataSource } from '../../src/db/data-source';
import { withTimeout } from '../../src/db/embedded';
import { startTestServer } from './pg-server';

export const TEMPLATE_DB = 'takedown_template_test';

/** Starts the run's PostgreSQL and migrates a template database that each test file copies. */
export default async function globalSetup() {
  const server = await withTimeout(startTestServer(TEMPLATE_DB), 90_000, 'test PostgreSQL start');
  (globalThis as Record<string, unknown>).__TD_PG__ = server;
  const db = createDataSource(server.url, { poolSize: 2 });
  try {
    await withTimeout(db.initialize(), 20_000, 'connect to the test PostgreSQL');
    await withTimeout(db.runMigrations({ transaction: 'each' }), 60_000, 'migrations');
  } finally {
    await db.destroy().catch(() => undefined);
  }
  process.env.TD_TEST_PG_URL = server.url;
}
