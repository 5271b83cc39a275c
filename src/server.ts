import 'reflect-metadata';
import type { Server } from 'node:http';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { createContainer } from './container';
import { startJobs } from './shared/jobs';
import { processBatches } from './modules/batches';
import { bootstrapAdmin } from './modules/auth';
import { sealAuditChain } from './modules/audit';
import { seedDemoIfEmpty } from './demo/seed-demo';
import { importDueSources } from './modules/feeds';
import { startPageCacheListener } from './modules/items';
import { createMailWorker } from './modules/mail';
import { restoreDueCounterNotices } from './modules/counter-notices';
import { expireUnverifiedNotices, purgeIdempotencyKeys, redactExpiredPersonalData, sendModeratorDigest } from './modules/notices';
import { withTransaction } from './db/transaction';
import { rejectUnansweredNotices } from './modules/review';

/** Start: config → database (embedded or DATABASE_URL) → migrations → app → listen → workers. */
async function main() {
  const startedAt = Date.now();
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\nSee .env.example for every setting.\n`);
      process.exit(78);
    }
    throw e;
  }
  const container = await createContainer(config, { migrate: true });
  const { logger } = container;

  const admin = await bootstrapAdmin(container);
  if (admin) {
    // Straight to the console, once: the logger never sees secrets.
    process.stdout.write(
      `\n  First start: an admin account was created.\n    email:    ${admin.email}\n    password: ${admin.password}\n` +
        `  This password is shown only now; you will set a new one at first sign-in (${config.publicBaseUrl}/login).\n\n`,
    );
  }

  // A newcomer sees a real-looking site; production databases are never filled with demo content.
  if (config.env !== 'production') {
    const seeded = await seedDemoIfEmpty(container);
    if (seeded) logger.info(seeded, 'empty database: demo sources and items created');
  }

  // Item pages are cached in memory; this connection LISTENs for changes from every instance.
  const cacheListener = startPageCacheListener(container);
  const app = createApp(container);
  const server: Server = await new Promise((resolve, reject) => {
    const s = config.host ? app.listen(config.port, config.host, () => resolve(s)) : app.listen(config.port, () => resolve(s));
    s.on('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  // The outbox worker: every instance runs one; SKIP LOCKED claims keep each email to one sender.
  const mail = createMailWorker(container);
  logger.info({ transport: mail.transport.kind, via: mail.transport.description }, 'mail worker started');
  let stopping = false;
  const jobs = startJobs(
    [
      { name: 'audit-seal', everyMs: 250, run: () => sealAuditChain(container.db) },
      { name: 'mail', everyMs: 1_000, run: () => mail.drain() },
      // Every minute, import the sources that are due (each every FEED_INTERVAL_MINUTES), one at a time.
      { name: 'feed-import', everyMs: 60_000, run: () => importDueSources(container, { shouldStop: () => stopping }) },
      // Notices: unconfirmed ones expire after 7 days; moderators' digest when configured; old idempotency keys go.
      { name: 'notice-expiry', everyMs: 15 * 60_000, run: () => expireUnverifiedNotices(container) },
      { name: 'moderator-digest', everyMs: 60_000, run: () => withTransaction(container.db, (tx) => sendModeratorDigest(tx, container)) },
      // Review: needs_info notices unanswered past NEEDS_INFO_DAYS are rejected (SKIP LOCKED: one instance per notice).
      { name: 'needs-info-expiry', everyMs: 5 * 60_000, run: () => rejectUnansweredNotices(container) },
      // Counter-notices whose waiting period ended without a court action: restore (SKIP LOCKED, any instance).
      { name: 'counter-notice-restore', everyMs: 60_000, run: () => restoreDueCounterNotices(container) },
      // Bulk batches: one notice per work; SKIP LOCKED claims with a lease, resumed after a crash.
      { name: 'batches', everyMs: 2_000, run: () => processBatches(container) },
      { name: 'idempotency-purge', everyMs: 60 * 60_000, run: () => purgeIdempotencyKeys(container) },
      // Retention: personal data of rejected/spam/withdrawn notices is redacted after PERSONAL_DATA_RETENTION_DAYS.
      { name: 'personal-data-retention', everyMs: 60 * 60_000, run: () => redactExpiredPersonalData(container) },
    ],
    logger,
  );
  logger.info({ port: config.port, url: config.publicBaseUrl, ms: Date.now() - startedAt }, 'Takedown Desk is listening');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 25_000);
    force.unref();
    stopping = true;
    server.close();
    server.closeIdleConnections();
    mail.stop(); // finish the round in progress, claim no more
    await jobs.stop();
    await mail.close();
    await cacheListener.stop();
    await sealAuditChain(container.db).catch(() => undefined);
    await container.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`Takedown Desk could not start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
