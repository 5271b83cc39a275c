import path from 'node:path';
import { DataSource } from 'typeorm';
import { withTransaction } from '../../src/db/transaction';
import { createLogger } from '../../src/shared/logger';
import { AppError } from '../../src/shared/errors';
import { sealAuditChain } from '../../src/modules/audit';
import {
  createEmailRenderer,
  createMailWorker,
  emailTemplatesDir,
  enqueue,
  EnqueueOptions,
  MailWorker,
  MailWorkerOptions,
} from '../../src/modules/mail';
import { ShiftedClock } from '../support/clock';
import { createTestDatabase, testConfig, truncateAll } from '../support/context';
import { SmtpSink, startSmtpSink } from '../support/smtp-sink';

const FIXTURES = path.resolve(__dirname, '../fixtures/emails');
const HOUR = 60 * 60_000;

describe('mail outbox: worker delivering to a real SMTP server', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: DataSource;
  let sink: SmtpSink;
  let clock: ShiftedClock;
  const workers: MailWorker[] = [];
  const config = (env: Record<string, string> = {}) =>
    testConfig({ MAIL_FROM: 'Takedown Desk <desk@takedown.test>', MAIL_MAX_ATTEMPTS: '3', SMTP_URL: sink.url, ...env });
  const renderer = createEmailRenderer({ baseUrl: 'http://localhost:3000', dirs: [emailTemplatesDir, FIXTURES], cache: true });

  const worker = (opts: MailWorkerOptions = {}, env: Record<string, string> = {}) => {
    const w = createMailWorker(
      { db, config: config(env), logger: createLogger('silent'), clock, renderer },
      { random: () => 0.5, ...opts },
    );
    workers.push(w);
    return w;
  };
  const queue = (to: string, data: Record<string, unknown> = {}, opts: EnqueueOptions = {}, template = 'sample-notice') =>
    withTransaction(db, (tx) => enqueue(tx, template, to, { name: 'Ada Lovelace', work: 'Notes on the Engine', ...data }, opts));
  const row = async (id: string) => (await db.query('SELECT * FROM outbound_emails WHERE id = $1', [id]))[0];
  const events = (action: string) => db.query('SELECT * FROM audit_events WHERE action = $1 ORDER BY id', [action]);

  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.stop();
    await t.drop();
  });
  beforeEach(async () => {
    await truncateAll(db);
    if (!sink.running) await sink.start();
    sink.clear();
    sink.rejectRecipients([]);
    clock = new ShiftedClock();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });

  it('when an email is enqueued, then it arrives once with both parts and the right headers, marked sent and audited', async () => {
    const noticeId = '7f1c5f0e-5d43-4a8e-9f57-2b1f8f7e6a01';
    const id = (await queue(
      'ada@example.org',
      { reference: 'TD-000042', statusUrl: 'http://localhost:3000/takedown/TD-000042?token=abc' },
      {
        replyTo: 'agent@rights.example',
        noticeId,
      },
    ))!;
    const w = worker();
    expect(await w.drain()).toMatchObject({ claimed: 1, sent: 1, retried: 0, failed: 0, lost: 0 });

    expect(sink.messages).toHaveLength(1);
    const [{ parsed, envelope }] = sink.messages;
    expect(envelope).toEqual({ from: 'desk@takedown.test', to: ['ada@example.org'] });
    expect(parsed.messageId).toBe(`<outbox-${id}@takedown.test>`);
    expect(parsed.from?.value).toEqual([{ name: 'Takedown Desk', address: 'desk@takedown.test' }]);
    expect(parsed.replyTo?.value[0].address).toBe('agent@rights.example');
    expect(parsed.subject).toBe('[TD-000042] Your notice about Notes on the Engine');
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(parsed.text).toContain('We received your notice about "Notes on the Engine".');
    expect(parsed.text).toContain('Follow it here: http://localhost:3000/takedown/TD-000042?token=abc');
    expect(parsed.html).toContain('<p>Hello Ada Lovelace,</p>');
    expect(parsed.html).toContain('href="http://localhost:3000/takedown/TD-000042?token&#x3D;abc"');

    const r = await row(id);
    expect(r).toMatchObject({ status: 'sent', attempts: 1, last_error: null, provider_message_id: 'sink-1', notice_id: noticeId });
    expect(r.sent_at).toBeInstanceOf(Date);
    const sent = await events('email.sent');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ actor_type: 'system', actor_label: 'mail-worker', subject_type: 'email', subject_id: id });
    expect(sent[0].details).toMatchObject({
      template: 'sample-notice',
      to: 'ada@example.org',
      noticeId,
      messageId: `<outbox-${id}@takedown.test>`,
    });

    // Nothing is due any more: a second round sends nothing.
    expect(await w.drain()).toMatchObject({ claimed: 0 });
    expect(sink.messages).toHaveLength(1);
  });

  it('when the SMTP server is down, then emails stay queued and retry later, and once it is back each arrives exactly once', async () => {
    await sink.stop();
    const ids = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => queue(`${n}@example.org`)));
    const w = worker();
    expect(await w.drain()).toMatchObject({ claimed: 5, sent: 0, retried: 5, failed: 0 });
    for (const id of ids) {
      const r = await row(id!);
      expect(r).toMatchObject({ status: 'queued', attempts: 1 });
      expect(r.last_error).toMatch(/ECONNECTION|ESOCKET|ECONNREFUSED/);
      // back-off: 1 minute × jitter 0.5..1 (pinned at 0.75 here)
      expect(new Date(r.next_attempt_at).getTime()).toBeGreaterThan(clock.now().getTime() + 30_000);
    }
    // Not due yet: the next round leaves them alone.
    expect(await w.drain()).toMatchObject({ claimed: 0 });

    await sink.start();
    clock.advance(HOUR);
    expect(await w.drain()).toMatchObject({ claimed: 5, sent: 5, retried: 0 });
    expect(sink.messages).toHaveLength(5);
    for (const id of ids) {
      expect(sink.byMessageId(`<outbox-${id}@takedown.test>`)).toHaveLength(1);
      expect(await row(id!)).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
    }
    clock.advance(24 * HOUR);
    expect(await w.drain()).toMatchObject({ claimed: 0 });
    expect(sink.messages).toHaveLength(5);
  });

  it('when the server stays down for MAIL_MAX_ATTEMPTS attempts, then the email is failed and audited', async () => {
    await sink.stop();
    const id = (await queue('patient@example.org'))!;
    const w = worker();
    expect(await w.drain()).toMatchObject({ retried: 1 });
    clock.advance(HOUR);
    expect(await w.drain()).toMatchObject({ retried: 1 });
    clock.advance(HOUR);
    expect(await w.drain()).toMatchObject({ failed: 1 });
    expect(await row(id)).toMatchObject({ status: 'failed', attempts: 3 });
    const failed = await events('email.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0].details).toMatchObject({ to: 'patient@example.org', attempts: 3, permanent: false });
    clock.advance(24 * HOUR);
    expect(await w.drain()).toMatchObject({ claimed: 0 });
  });

  it('when the server rejects a recipient permanently (550), then that email fails at once, audited, and the others are delivered', async () => {
    sink.rejectRecipients(['gone@example.org']);
    const gone = (await queue('gone@example.org'))!;
    const others = await Promise.all(['x', 'y', 'z'].map((n) => queue(`${n}@example.org`)));
    expect(await worker().drain()).toMatchObject({ claimed: 4, sent: 3, failed: 1, retried: 0 });

    const r = await row(gone);
    expect(r).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.last_error).toMatch(/550/);
    expect(sink.to('gone@example.org')).toHaveLength(0);
    for (const id of others) expect(await row(id!)).toMatchObject({ status: 'sent' });
    expect(sink.messages).toHaveLength(3);
    const failed = await events('email.failed');
    expect(failed.map((e: { subject_id: string }) => e.subject_id)).toEqual([gone]);
    expect(failed[0].details).toMatchObject({ permanent: true, attempts: 1 });
    await sealAuditChain(db);
  });

  it('when two workers drain the same outbox at once, then each email is sent exactly once', async () => {
    const n = 120;
    await withTransaction(db, async (tx) => {
      for (let i = 0; i < n; i++) await enqueue(tx, 'sample-notice', `reader${i}@example.org`, { name: `Reader ${i}`, work: 'W' });
    });
    const [a, b] = [worker({ batchSize: 10, concurrency: 4 }), worker({ batchSize: 10, concurrency: 4 })];
    const [ra, rb] = await Promise.all([a.drain(), b.drain()]);
    expect(ra.sent + rb.sent).toBe(n);
    expect(ra.lost + rb.lost).toBe(0);
    expect(ra.sent).toBeGreaterThan(0);
    expect(rb.sent).toBeGreaterThan(0);
    expect(sink.messages).toHaveLength(n);
    expect(new Set(sink.messages.map((m) => m.parsed.messageId)).size).toBe(n);
    const [{ sent, once }] = await db.query(
      `SELECT count(*) FILTER (WHERE status = 'sent')::int AS sent, count(*) FILTER (WHERE attempts = 1)::int AS once FROM outbound_emails`,
    );
    expect({ sent, once }).toEqual({ sent: n, once: n });
    expect(await events('email.sent')).toHaveLength(n);
  });

  it('when the enqueuing transaction rolls back, then nothing is queued and nothing is sent', async () => {
    await expect(
      withTransaction(db, async (tx) => {
        await enqueue(tx, 'sample-notice', 'never@example.org', { name: 'N', work: 'W' });
        throw new Error('the use case failed after queueing its email');
      }),
    ).rejects.toThrow('the use case failed');
    expect(await db.query('SELECT * FROM outbound_emails')).toHaveLength(0);
    expect(await worker().drain()).toMatchObject({ claimed: 0 });
    expect(sink.messages).toHaveLength(0);
  });

  it('when the same dedupe key is enqueued twice, then the second is a no-op and one email is sent', async () => {
    const first = await queue('once@example.org', {}, { dedupeKey: 'notice-received:TD-000001' });
    const second = await queue('once@example.org', {}, { dedupeKey: 'notice-received:TD-000001' });
    expect(first).toEqual(expect.any(String));
    expect(second).toBeNull();
    await worker().drain();
    expect(sink.messages).toHaveLength(1);
  });

  it('when an address carries CR/LF, a list, or a display name, then enqueue refuses it and nothing is queued', async () => {
    const bad = [
      'victim@example.org\r\nBcc: everyone@example.org',
      'victim@example.org\nBcc: everyone@example.org',
      'a@example.org, b@example.org',
      'Ada <ada@example.org>',
      'not-an-address',
      '',
    ];
    for (const to of bad) {
      const err = await queue(to).catch((e) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: 'MAIL.INVALID', status: 422 });
    }
    await expect(queue('ok@example.org', {}, { replyTo: 'x@example.org\r\nBcc: y@example.org' })).rejects.toMatchObject({
      code: 'MAIL.INVALID',
    });
    await expect(queue('ok@example.org', {}, {}, '../../layouts/main')).rejects.toMatchObject({ code: 'MAIL.INVALID' });
    expect(await db.query('SELECT * FROM outbound_emails')).toHaveLength(0);
    // The database refuses it too, should anything bypass enqueue.
    await expect(
      db.query(`INSERT INTO outbound_emails ("to", template) VALUES ($1, 'sample-notice')`, ['a@example.org\r\nBcc: b@example.org']),
    ).rejects.toThrow(/outbound_emails_to_check/);
  });

  it('when data carries markup and header-injection attempts, then the HTML escapes it, the subject stays one line, and no header is added', async () => {
    const id = (await queue('target@example.org', {
      name: '<script>alert(1)</script>',
      work: 'Evil\r\nBcc: victim@example.org\r\nX-Injected: yes',
      reference: 'TD-1\r\nBcc: ref@example.org',
      statusUrl: 'javascript:alert(document.cookie)',
    }))!;
    expect(await worker().drain()).toMatchObject({ sent: 1 });
    expect(sink.messages).toHaveLength(1);
    const [{ parsed, envelope, raw }] = sink.messages;
    expect(envelope.to).toEqual(['target@example.org']);
    expect(parsed.headers.has('bcc')).toBe(false);
    expect(parsed.headers.has('x-injected')).toBe(false);
    const head = raw.split(/\r?\n\r?\n/)[0];
    expect(head).not.toMatch(/^Bcc:/im);
    expect(head).not.toMatch(/^X-Injected:/im);
    expect(parsed.subject).toBe('[TD-1 Bcc: ref@example.org] Your notice about Evil Bcc: victim@example.org X-Injected: yes');
    expect(parsed.html).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;,');
    expect(parsed.html).not.toContain('<script>');
    expect(parsed.html).not.toContain('javascript:');
    // The text part is plain text, not HTML: the value is shown as typed.
    expect(parsed.text).toContain('Hello <script>alert(1)</script>,');
    expect(await row(id)).toMatchObject({ status: 'sent' });
  });

  it('when a template does not exist, then the email fails at once (audited) instead of retrying for hours', async () => {
    const id = (await queue('someone@example.org', {}, {}, 'no-such-template'))!;
    expect(await worker().drain()).toMatchObject({ failed: 1 });
    const r = await row(id);
    expect(r).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r.last_error).toMatch(/no-such-template/);
    expect((await events('email.failed'))[0].details).toMatchObject({ permanent: true });
  });

  it('when no SMTP_URL is set, then emails are marked delivered to the local store and nothing leaves the machine', async () => {
    const id = (await queue('local@example.org'))!;
    const w = worker({}, { SMTP_URL: '' });
    expect(w.transport.kind).toBe('local-store');
    expect(await w.drain()).toMatchObject({ sent: 1 });
    expect(await row(id)).toMatchObject({ status: 'sent', provider_message_id: 'local-store', attempts: 1 });
    expect((await events('email.sent'))[0].details).toMatchObject({ transport: 'local-store' });
    expect(sink.messages).toHaveLength(0);
  });

  it('when a worker still holds a row (its lease has not ended), then another worker does not take it', async () => {
    const id = (await queue('leased@example.org'))!;
    // A worker claimed it a moment ago and is sending it (its lease runs five minutes).
    await db.query(`UPDATE outbound_emails SET attempts = 1, next_attempt_at = $2 WHERE id = $1`, [
      id,
      new Date(clock.now().getTime() + 5 * 60_000),
    ]);
    expect(await worker().drain()).toMatchObject({ claimed: 0 });
    // The first worker died: after the lease the row is due again and goes out, with the same Message-ID.
    clock.advance(6 * 60_000);
    expect(await worker().drain()).toMatchObject({ claimed: 1, sent: 1 });
    expect(sink.byMessageId(`<outbox-${id}@takedown.test>`)).toHaveLength(1);
    expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
  });
});
