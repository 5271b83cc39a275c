import { messageIdFor } from '../../src/modules/mail/transport';
import { createTestDatabase } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { startSmtpSink, SmtpSink } from '../support/smtp-sink';
import { createStaff, tokenFor } from '../support/staff';
import { AppProcess, startApp, waitFor } from './support/app-process';
import { call, noticeBody } from './support/http';

/**
 * Scenario 2: the SMTP server is down for the length of a burst of decisions (approve / reject
 * through the API), then comes back. Every email of the outbox arrives exactly once: one received
 * message per outbox row, by Message-ID, and no other.
 */
const NOTICES = 12;
const MAIL_FROM = 'Takedown Desk <desk@faults.test>';

describe('when the SMTP server is down during a burst of decisions', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let sink: SmtpSink;
  let app: AppProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    sink = await startSmtpSink();
  });

  afterAll(async () => {
    await app?.stop();
    await sink?.stop();
    await database?.drop();
  });

  const queued = async () =>
    (await database.db.query(`SELECT count(*)::int AS n FROM outbound_emails WHERE status = 'queued'`))[0].n as number;

  it('then every email arrives exactly once after it is back', async () => {
    const source = await makeSource(database.db);
    const items = [];
    for (let i = 0; i < NOTICES; i++) items.push(await makeItem(database.db, source));
    const moderator = await createStaff(database.db, { role: 'moderator' });
    const token = await tokenFor(database.db, moderator);
    app = await startApp({ DATABASE_URL: database.url, SMTP_URL: sink.url, MAIL_FROM, MAIL_RETRY_BASE_SECONDS: '2' });

    const references: string[] = [];
    for (let i = 0; i < NOTICES; i++) {
      const res = await call(app.url, 'POST', '/api/v1/notices', { body: noticeBody(`smtp${i}`, [items[i].originalUrl]) });
      expect(res.status).toBe(201);
      references.push(res.body.reference);
    }
    // The acknowledgements go out while the server is up.
    await waitFor('the acknowledgements to be sent', async () => (await queued()) === 0, 60_000);

    await sink.stop();
    const before: { n: number }[] = await database.db.query(`SELECT count(*)::int AS n FROM outbound_emails`);
    const decisions = await Promise.all(
      references.map(async (reference, i) => {
        const claim = await call(app.url, 'POST', `/api/v1/notices/${reference}/claim`, { token, body: {} });
        expect(claim.status).toBe(200);
        const action = i % 2 === 0 ? 'approve' : 'reject';
        const res = await call(app.url, 'POST', `/api/v1/notices/${reference}/decision`, {
          token,
          body: { action, reason: action === 'approve' ? 'The claim is valid.' : 'The URL does not show the claimed work.' },
        });
        return `${reference} ${action}: ${res.status}`;
      }),
    );
    expect(decisions).toEqual(references.map((r, i) => `${r} ${i % 2 === 0 ? 'approve' : 'reject'}: 200`));
    const after: { n: number }[] = await database.db.query(`SELECT count(*)::int AS n FROM outbound_emails`);
    expect(after[0].n).toBeGreaterThan(before[0].n);

    // The worker really met the outage: decision emails were tried and are waiting for a retry.
    await waitFor(
      'a failed delivery attempt during the outage',
      async () => {
        const [row] = await database.db.query(
          `SELECT count(*)::int AS n FROM outbound_emails WHERE status = 'queued' AND attempts >= 1 AND last_error IS NOT NULL`,
        );
        return row.n > 0;
      },
      60_000,
    );
    await sink.start();
    await waitFor('the outbox to drain after the outage', async () => (await queued()) === 0, 120_000, 250);

    const rows: { id: string; status: string; attempts: number }[] = await database.db.query(
      `SELECT id, status, attempts FROM outbound_emails`,
    );
    expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
    const expectedIds = rows.map((r) => messageIdFor(r.id, MAIL_FROM)).sort();
    const receivedIds = sink.messages.map((m) => m.parsed.messageId).sort();
    expect(receivedIds).toEqual(expectedIds); // each exactly once, nothing else
    const [{ n: sentEvents }] = await database.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'email.sent'`);
    expect(sentEvents).toBe(rows.length);
    process.stdout.write(
      `smtp-outage: ${rows.length} emails, ${after[0].n - before[0].n} queued during the outage, ` +
        `max attempts ${Math.max(...rows.map((r) => r.attempts))}\n`,
    );
  });
});
