import type { Pool } from 'pg';

/**
 * A pool's open connections, so shutdown can wait until each has really closed: `pool.end()`
 * returns once it has asked each connection to close, not once they are closed, and PostgreSQL
 * stopped at that moment would still end them itself ("database connection lost").
 */
export function trackConnections(pool: Pool) {
  const open = new Set<object>();
  pool.on('connect', (client) => {
    open.add(client);
    client.once('end', () => open.delete(client));
  });
  return {
    async allClosed(timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    },
  };
}
