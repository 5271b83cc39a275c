import path from 'node:path';
import type { Config } from './config';
import { createDataSource } from './db/data-source';
import { EmbeddedDatabase, readOrCreateSecret, startEmbeddedPostgres } from './db/embedded';
import { Clock, systemClock } from './shared/clock';
import { createLogger, Logger } from './shared/logger';
import { createMetricsRegistry } from './shared/metrics';
import type { AppDeps } from './deps';

export type { AppDeps } from './deps';

export interface Container extends AppDeps {
  embedded?: EmbeddedDatabase;
  close(): Promise<void>;
}

export interface ContainerOptions {
  /** Run pending migrations after connecting (server start does; the app never does on its own). */
  migrate?: boolean;
  clock?: Clock;
  logger?: Logger;
  poolSize?: number;
}

export async function createContainer(config: Config, opts: ContainerOptions = {}): Promise<Container> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (!url) {
    logger.info({ dataDir: path.resolve(config.dataDir) }, 'no DATABASE_URL: starting the embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, database: 'takedown', log: (l) => logger.warn(l) });
    url = embedded.url;
  }
  const sessionSecret = config.sessionSecret ?? readOrCreateSecret(path.join(config.dataDir, 'session-secret'), 48);
  const db = createDataSource(url, { poolSize: opts.poolSize });
  try {
    await db.initialize();
    if (opts.migrate) {
      const ran = await db.runMigrations({ transaction: 'each' });
      if (ran.length) logger.info({ migrations: ran.map((m) => m.name) }, 'migrations applied');
    }
  } catch (e) {
    await db.destroy().catch(() => undefined);
    await embedded?.stop();
    throw e;
  }
  // A broken idle connection (e.g. PostgreSQL restarted) must not crash the process.
  (db.driver as unknown as { master: { on(e: string, f: (err: Error) => void): void } }).master.on('error', (err) =>
    logger.warn({ err: err.message }, 'database connection lost; the pool will reconnect'),
  );
  const metrics = createMetricsRegistry();
  return {
    config,
    logger,
    db,
    clock: opts.clock ?? systemClock,
    metrics,
    sessionSecret,
    embedded,
    async close() {
      await db.destroy().catch((e) => logger.warn({ err: String(e) }, 'closing the database pool failed'));
      await embedded?.stop();
    },
  };
}
