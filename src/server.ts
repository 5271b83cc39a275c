import 'reflect-metadata';
import type { Server } from 'node:http';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { createContainer } from './container';
import { createHttpServer, listen } from './shared/http-server';
import { startJobs } from './shared/jobs';
import { processBatches } from './modules/batches';
import { hashPendingImages } from './modules/images';
import { bootstrapAdmin } from './modules/auth';
import { sealAuditChain } from './modules/audit';
import { seedDemoIfEmpty } from './demo/seed-demo';
import { importDueSources } from './modules/feeds';
import { startPageCacheListener } from './modules/items';
import { createMailWorker } from './modules/mail';
import { createPurgeWorker, pruneEdgePurges } from './modules/edge';
import { createWebhookWorker, pruneWebhookDeliveries } from './modules/webhooks';
import { restoreDueCounterNotices } from './modules/counter-notices';
import {
  expireIncompleteNotices,
  expireUnverifiedNotices,
  purgeIdempotencyKeys,
  redactExpiredPersonalData,
  sendModeratorDigest,
} from './modules/notices';
import { createInboundWorker, ImapPoller, SmtpReceiver, startImapPoller, startSmtpReceiver } from './modules/inbound';
import { withTransaction } from './db/transaction';
import { seedDemoNotices } from './demo/seed-demo-notices';
import { seedDemoImages } from './demo/seed-demo-images';
import { processBulkJobs, rejectUnansweredNotices } from './modules/review';
import type { LiveHub } from './modules/live';

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
    if (seeded) {
      logger.info(seeded, 'empty database: demo sources and items created');
      // …and a few notices in different states, so the queue and the registry show a living desk.
      const notices = await seedDemoNotices(container).catch((err) => logger.warn({ err: String(err) }, 'demo notices not created'));
      if (notices) logger.info(notices, 'demo notices created (pending, in review, approved, countered)');
      if (notices) {
        const images = await seedDemoImages(container).catch((err) => logger.warn({ err: String(err) }, 'demo images not created'));
        if (images) logger.info(images, 'demo photo removed by a notice (article stays up) and its recompressed copy removed at import');
      }
    }
  }

  // Item pages are cached in memory; this connection LISTENs for changes from every instance.
  const cacheListener = startPageCacheListener(container);
  const app = createApp(container);
  // /readyz answers 503 until every listener and worker below has started.
  app.locals.starting = true;
  // Header, request and keep-alive timeouts and a per-address connection cap (HTTP_* settings).
  const server: Server = await listen(createHttpServer(app, config.http), config.port, config.host);
  // The outbox worker: every instance runs one; SKIP LOCKED claims under this process's lease
  // (container.leases, heartbeat in PostgreSQL) keep each email to one sender.
  const mail = createMailWorker(container);
  logger.info({ transport: mail.transport.kind, via: mail.transport.description }, 'mail worker started');
  // Edge purges (SPEC §16): woken by NOTIFY at the commit of a change, polled every second besides.
  const purge = createPurgeWorker(container);
  await purge.listen();
  if (purge.targets.length) logger.info({ targets: purge.targets }, 'edge purge worker started');
  // Webhooks (SPEC §14): signed deliveries from their outbox, claimed under this process's lease;
  // woken by NOTIFY at the commit that queues a delivery, polled every second besides.
  const webhooks = createWebhookWorker(container);
  await webhooks.listen();
  // The mailbox (SPEC §12): stored messages are read by the parse job (SKIP LOCKED, any instance);
  // the SMTP receiver runs when INBOUND_SMTP_PORT is set, and kicks the job after each commit.
  const inbound = createInboundWorker(container);
  let smtp: SmtpReceiver | undefined;
  if (config.inbound.smtpPort !== undefined) {
    smtp = await startSmtpReceiver(container, inbound);
    logger.info(
      { port: smtp.port, host: smtp.host, addresses: config.inbound.addresses, tls: !!config.inbound.smtpTls },
      'inbound SMTP receiver listening',
    );
  }
  let imap: ImapPoller | undefined;
  if (config.inbound.imapUrl) {
    imap = startImapPoller(container, inbound);
    logger.info({ doneFolder: config.inbound.imapDoneFolder }, 'IMAP polling started');
  }
  let stopping = false;
  const jobs = startJobs(
    [
      { name: 'audit-seal', everyMs: 250, run: () => sealAuditChain(container.db) },
      { name: 'mail', everyMs: 1_000, run: () => mail.drain() },
      { name: 'edge-purge', everyMs: 1_000, run: () => purge.drain() },
      {
        name: 'edge-purge-prune',
        everyMs: 60 * 60_000,
        run: () => pruneEdgePurges(container.db, new Date(container.clock.now().getTime() - 7 * 86_400_000)),
      },
      { name: 'webhooks', everyMs: 1_000, run: () => webhooks.drain() },
      {
        name: 'webhook-prune',
        everyMs: 60 * 60_000,
        run: () => pruneWebhookDeliveries(container.db, new Date(container.clock.now().getTime() - 30 * 86_400_000)),
      },
      { name: 'inbound', everyMs: 2_000, run: () => inbound.drain() },
      // Emailed notices left incomplete past INCOMPLETE_DAYS end withdrawn.
      { name: 'incomplete-expiry', everyMs: 15 * 60_000, run: () => expireIncompleteNotices(container) },
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
      // Bulk decisions over BULK_INLINE_MAX notices: claimed with the shared leases, resumed after a crash.
      { name: 'bulk-jobs', everyMs: 1_000, run: () => processBulkJobs(container) },
      // Images (SPEC §19): imported images fetched (SSRF-guarded), hashed, and checked against the image bank.
      { name: 'images', everyMs: 2_000, run: () => hashPendingImages(container) },
      { name: 'idempotency-purge', everyMs: 60 * 60_000, run: () => purgeIdempotencyKeys(container) },
      // Retention: personal data of rejected/spam/withdrawn notices is redacted after PERSONAL_DATA_RETENTION_DAYS.
      { name: 'personal-data-retention', everyMs: 60 * 60_000, run: () => redactExpiredPersonalData(container) },
    ],
    logger,
  );
  app.locals.starting = false;
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
    // Live streams never end by themselves: end them (browsers reconnect to another instance).
    await (app.locals.liveHub as LiveHub).close();
    await smtp?.close();
    await imap?.close();
    inbound.stop();
    mail.stop(); // finish the sends in progress, hand back the rest, claim no more
    await jobs.stop();
    await inbound.idle();
    await mail.close();
    await purge.stop();
    await webhooks.stop(); // lets the deliveries in flight finish (WEBHOOK_TIMEOUT_SECONDS at most), claims no more
    // Every claim of this process goes back now, so another instance takes it at once (no lease wait).
    await container.leases.stop();
    await cacheListener.stop();
    await sealAuditChain(container.db).catch(() => undefined);
    await container.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`Takedown Desk could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
