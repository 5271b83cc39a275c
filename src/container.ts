import path from 'node:path';
import type { Config } from './config';
import { closeGenericPlanPool } from './db/prepared';
import { createDataSource, poolOf } from './db/data-source';
import { trackConnections } from './db/pool-connections';
import { EmbeddedDatabase, readOrCreateSecret, startEmbeddedPostgres } from './db/embedded';
import { createLeaseHolder, LeaseHolder } from './db/leases';
import { Clock, systemClock } from './shared/clock';
import { createLogger, Logger } from './shared/logger';
import { createMetricsRegistry } from './shared/metrics';
import type { AppDeps } from './deps';

export type { AppDeps } from './deps';

export interface Container extends AppDeps {
  embedded?: EmbeddedDatabase;
  /** This process's claims (src/db/leases.ts), shared by every claim-based worker; registers on first claim. */
  leases: LeaseHolder;
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
  const pretty = Boolean(process.stdout.isTTY) && config.env !== 'production';
  const logger = opts.logger ?? createLogger(config.logLevel, undefined, { pretty });
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
  const connections = trackConnections(poolOf(db));
  const metrics = createMetricsRegistry();
  const leases = createLeaseHolder(db, { leaseMs: config.claimLeaseSeconds * 1000, logger, name: 'app' });
  return {
    config,
    logger,
    db,
    clock: opts.clock ?? systemClock,
    metrics,
    sessionSecret,
    embedded,
    leases,
    async close() {
      await leases.stop(); // hands this process's claims back at once (a no-op if it never claimed)
      await db.destroy().catch((e) => logger.warn({ err: String(e) }, 'closing the database pool failed'));
      await closeGenericPlanPool(db);
      await connections.allClosed(5_000);
      await embedded?.stop();
    },
  };
}
