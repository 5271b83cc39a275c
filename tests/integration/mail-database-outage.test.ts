import { Client } from 'pg';
import { SMTPServer } from 'smtp-server';
import { DataSource } from 'typeorm';
import { freePort } from '../../src/db/embedded';
import { withTransaction } from '../../src/db/transaction';
import { createMailWorker, enqueue, MailWorker } from '../../src/modules/mail';
import { createLogger } from '../../src/shared/logger';
import { ShiftedClock } from '../support/clock';
import { createTestDatabase, testConfig } from '../support/context';

/**
 * The database goes away (a PostgreSQL restart, a failover) after the SMTP server accepted an email
 * and before the worker recorded it as sent. The worker must keep trying to record the outcome
 * while its lease on the row lasts: giving up leaves the row queued, and it is sent a second time
 * when the lease ends — a duplicate the recipient sees.
 */
describe('when the database is unreachable while the worker records a delivered email', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: DataSource;
  let smtp: SMTPServer;
  let port: number;
  let worker: MailWorker | undefined;
  const received: string[] = [];
  let dataArrived: () => void = () => undefined;
  let releaseAnswer: () => void = () => undefined;

  const admin = async (sql: string) => {
    const u = new URL(t.url);
    u.pathname = '/postgres';
    const c = new Client({ connectionString: u.toString() });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
    port = await freePort();
    // A real SMTP server that holds its "250 queued" until the test lets it go.
    smtp = new SMTPServer({
      secure: false,
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      closeTimeout: 50,
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const id = /^Message-ID:\s*(\S+)/im.exec(Buffer.concat(chunks).toString('utf8'))?.[1] ?? '?';
          received.push(id);
          const answer = new Promise<void>((r) => (releaseAnswer = r));
          dataArrived();
          void answer.then(() => callback(null, 'Ok: queued'));
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(port, '127.0.0.1', () => r()));
  });

  afterAll(async () => {
    await admin(`ALTER DATABASE "${t.name}" WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
    await worker?.close();
    await new Promise<void>((r) => smtp.close(() => r()));
    await t.drop();
  });

  it('then the outcome is recorded once it is back, and the email is not sent again', async () => {
    const clock = new ShiftedClock();
    const config = testConfig({ SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_FROM: 'Takedown Desk <desk@takedown.test>' });
    worker = createMailWorker({ db, config, logger: createLogger('silent'), clock });
    await withTransaction(db, (tx) =>
      enqueue(tx, 'staff-account-created', 'ada@example.org', { name: 'Ada', role: 'moderator', email: 'ada@example.org' }),
    );

    const arrived = new Promise<void>((r) => (dataArrived = r));
    const run = worker.runOnce();
    await arrived;
    // The database goes away for longer than a blip, then comes back.
    await admin(`ALTER DATABASE "${t.name}" WITH ALLOW_CONNECTIONS false`);
    await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${t.name}'`);
    releaseAnswer();
    await new Promise((r) => setTimeout(r, 4_000));
    await admin(`ALTER DATABASE "${t.name}" WITH ALLOW_CONNECTIONS true`);

    const result = await run;
    expect(result).toMatchObject({ claimed: 1, sent: 1, lost: 0 });
    const [row] = await db.query(`SELECT status, attempts FROM outbound_emails`);
    expect(row).toEqual({ status: 'sent', attempts: 1 });

    // Long after the lease would have ended, nothing is sent again.
    clock.advance(60 * 60_000);
    expect((await worker.runOnce()).claimed).toBe(0);
    expect(received).toHaveLength(1);
  }, 60_000);
});
