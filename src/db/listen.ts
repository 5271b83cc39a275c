import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';

/**
 * A worker's wake-up connection: a dedicated pg client (not one of the pool's) that LISTENs on
 * `channel` and calls `onWake` for each NOTIFY on it, and once each time it (re)connects, for
 * anything committed while it was not listening. A lost connection is logged and reconnected with
 * back-off (250 ms doubling to 10 s); the worker's poll covers the gap. The edge purge worker and
 * the webhook delivery worker use it (NOTIFY at the commit that queues their rows).
 */
export interface Listener {
  /** Connects and LISTENs (resolves also when that failed: it retries by itself). */
  start(): Promise<void>;
  /** Closes the connection; no reconnecting after this. */
  stop(): Promise<void>;
}

export function createListener(
  db: DataSource,
  opts: { channel: string; applicationName: string; what: string; logger: Logger; onWake: () => void },
): Listener {
  let client: Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  let delay = 250;
  let stopped = false;

  async function start(): Promise<void> {
    const url = (db.options as { url?: string }).url;
    if (!url || stopped) return;
    const c = new Client({ connectionString: url, application_name: opts.applicationName, keepAlive: true });
    client = c;
    const lost = (err?: Error) => {
      if (client !== c) return;
      client = null;
      c.end().catch(() => undefined);
      if (stopped) return;
      opts.logger.warn({ err: err?.message }, `${opts.what}: LISTEN connection lost; polling until it is back`);
      retry = setTimeout(() => void start(), delay);
      retry.unref();
      delay = Math.min(delay * 2, 10_000);
    };
    c.on('notification', (msg) => {
      if (msg.channel === opts.channel) opts.onWake();
    });
    c.on('error', lost);
    c.on('end', () => lost());
    try {
      await c.connect();
      await c.query(`LISTEN ${opts.channel}`);
      delay = 250;
      opts.onWake(); // anything committed while we were not listening
    } catch (err) {
      lost(err as Error);
    }
  }

  return {
    start,
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      if (c) await c.end().catch(() => undefined);
    },
  };
}
