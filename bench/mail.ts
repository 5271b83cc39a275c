import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../src/config';
import { createDataSource } from '../src/db/data-source';
import { freePort } from '../src/db/embedded';
import { withTransaction } from '../src/db/transaction';
import { systemClock } from '../src/shared/clock';
import { createLogger } from '../src/shared/logger';
import { createMailWorker, enqueue } from '../src/modules/mail';
import type { BenchRow, BenchSuite } from './lib';

const EMAILS = 10_000;
const GOAL_PER_SECOND = 200;

/** A local SMTP sink in the bench process: accepts everything, counts messages, keeps nothing. */
async function startSink(): Promise<{ url: string; count(): number; stop(): Promise<void> }> {
  let received = 0;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    closeTimeout: 100,
    onData(stream, _session, callback) {
      stream.on('end', () => {
        received++;
        callback(null, `Ok: queued as bench-${received}`);
      });
      stream.resume();
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `smtp://127.0.0.1:${port}`, count: () => received, stop: () => new Promise((r) => server.close(() => r())) };
}

/**
 * Outbox throughput (issue 3): 10,000 emails queued through `enqueue` (100 per transaction, as use
 * cases would), then drained by one mail worker with the production settings (pooled SMTP, batches
 * of 100, 16 in flight) into a local SMTP sink. Each email is rendered, sent, marked sent and
 * audited in its own transaction, exactly as in production.
 */
export const mailSuite: BenchSuite = {
  name: 'mail',
  async run(ctx) {
    const sink = await startSink();
    const config = loadConfig({
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      SMTP_URL: sink.url,
      MAIL_FROM: 'Takedown Desk <desk@bench.test>',
    });
    const db = createDataSource(ctx.databaseUrl, { poolSize: 20 });
    await db.initialize();
    const rows: BenchRow[] = [];
    try {
      await db.query('DELETE FROM outbound_emails');
      const q0 = Date.now();
      for (let b = 0; b < EMAILS / 100; b++) {
        await withTransaction(db, async (tx) => {
          for (let i = 0; i < 100; i++) {
            const n = b * 100 + i;
            await enqueue(tx, 'staff-account-created', `reader${n}@bench.test`, {
              name: `Reader ${n}`,
              email: `reader${n}@bench.test`,
              role: 'moderator',
            });
          }
        });
      }
      const enqueueSeconds = (Date.now() - q0) / 1000;
      ctx.log(`queued ${EMAILS} emails in ${enqueueSeconds.toFixed(1)} s`);

      const worker = createMailWorker({ db, config, logger: createLogger('silent'), clock: systemClock });
      const t0 = Date.now();
      const result = await worker.drain();
      const seconds = (Date.now() - t0) / 1000;
      await worker.close();
      const [{ sent }] = await db.query(`SELECT count(*)::int AS sent FROM outbound_emails WHERE status = 'sent'`);
      const delivered = sink.count();
      ctx.log(`drained in ${seconds.toFixed(1)} s: ${JSON.stringify(result)}; sink received ${delivered}; rows sent ${sent}`);
      const complete = delivered === EMAILS && sent === EMAILS;
      const rate = EMAILS / seconds;
      rows.push(
        {
          name: 'mail: emails delivered per second (1 worker → local SMTP sink, rendered, audited)',
          value: Math.round(rate),
          unit: 'emails/s',
          goal: `≥ ${GOAL_PER_SECOND}/s`,
          ok: complete && rate >= GOAL_PER_SECOND,
          note: complete ? undefined : `only ${delivered} received, ${sent} marked sent`,
        },
        {
          name: `mail: drain time for ${EMAILS.toLocaleString('en-US')} queued emails`,
          value: Number(seconds.toFixed(1)),
          unit: 's',
          goal: `≤ ${EMAILS / GOAL_PER_SECOND} s`,
          ok: complete && seconds <= EMAILS / GOAL_PER_SECOND,
        },
        { name: 'mail: enqueue (100 emails per transaction)', value: Math.round(EMAILS / enqueueSeconds), unit: 'emails/s' },
      );
      await db.query('DELETE FROM outbound_emails');
    } finally {
      await db.destroy();
      await sink.stop();
    }
    return rows;
  },
};
