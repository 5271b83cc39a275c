import { createMailWorker, MailWorker } from '../../src/modules/mail';
import type { Clock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import { createTestContext, TestContext, truncateAll } from './context';
import { SmtpSink, startSmtpSink } from './smtp-sink';

/** The real app on a fresh database, a real SMTP server it sends to, and a mail worker to drain the outbox. */
export interface MailingContext {
  t: TestContext;
  sink: SmtpSink;
  worker: MailWorker;
  /** Between tests: empty every table and forget received mail. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function createMailingContext(
  opts: { env?: Record<string, string>; clock?: Clock; workerClock?: Clock } = {},
): Promise<MailingContext> {
  const sink = await startSmtpSink();
  const t = await createTestContext({ clock: opts.clock, env: { SMTP_URL: sink.url, ...opts.env } });
  const worker = createMailWorker({
    db: t.db,
    config: t.config,
    logger: createLogger('silent'),
    clock: opts.workerClock ?? t.clock,
    sessionSecret: t.sessionSecret,
  });
  return {
    t,
    sink,
    worker,
    async reset() {
      await truncateAll(t.db);
      sink.clear();
    },
    async close() {
      await worker.close();
      await sink.stop();
      await t.close();
    },
  };
}
