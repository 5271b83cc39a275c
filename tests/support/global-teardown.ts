import { withTimeout } from '../../src/db/embedded';
import { stopTestServer, TestServer } from './pg-server';

export default async function globalTeardown() {
  const server = (globalThis as Record<string, unknown>).__TD_PG__ as TestServer | undefined;
  if (server) await withTimeout(stopTestServer(server), 30_000, 'test PostgreSQL stop');
}
