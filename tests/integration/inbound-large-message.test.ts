import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import nodemailer from 'nodemailer';
import { poolOf } from '../../src/db/data-source';
import { createInboundWorker, InboundWorker, SmtpReceiver, startSmtpReceiver } from '../../src/modules/inbound';
import { rawStream } from '../../src/modules/inbound/inbound.queries';
import { findMessageUrls, parseNoticeEmail, readMessage } from '../../src/modules/inbound/parse';
import { createLogger } from '../../src/shared/logger';
import { makeItem, makeSource } from '../support/factories';
import { openSpoolFiles } from '../support/spool-files';
import { AGENT, completeLetter } from '../support/inbound-mail';
import { createMailingContext, MailingContext } from '../support/mailing';

/**
 * Issue 18 (memory): a message over 1 MiB is copied to PostgreSQL chunk by chunk (binary COPY) and
 * the parse job reads it back as a stream, never as one buffer. What is stored, what is read and
 * what the mailbox offers must be what they were.
 */
const BASE = 'http://localhost:3000';
const ADA = 'ada@analytical.example';

describe('when a message of several MiB arrives over SMTP', () => {
  let m: MailingContext;
  let worker: InboundWorker;
  let receiver: SmtpReceiver;

  beforeAll(async () => {
    m = await createMailingContext({
      env: {
        DMCA_AGENT_EMAIL: AGENT,
        INBOUND_ADDRESSES: AGENT,
        INBOUND_MAX_BYTES: String(25 * 1024 * 1024),
        INBOUND_SMTP_HOST: '127.0.0.1',
        INTAKE_PER_HOUR: '1000',
      },
    });
    worker = createInboundWorker({ ...m.t, logger: createLogger('silent') });
    receiver = await startSmtpReceiver(m.t, worker, { port: 0 });
  });
  afterAll(async () => {
    await receiver.close();
    worker.stop();
    await worker.idle();
    await m.close();
  });

  it('then its bytes are stored exactly, it is read as one buffer would be read, and the attachment the parser skips keeps its bytes in the stored message', async () => {
    const item = await makeItem(m.t.db, await makeSource(m.t.db));
    const pdf = randomBytes(3 * 1024 * 1024);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: receiver.port, secure: false, ignoreTLS: true });
    const info = await transport.sendMail({
      from: `Ada Lovelace <${ADA}>`,
      to: AGENT,
      subject: 'DMCA notice with evidence',
      text: `${completeLetter([`${BASE}/items/${item.slug}`])}\n${'> an earlier message quoted at length\n'.repeat(40_000)}`,
      attachments: [{ filename: 'evidence.pdf', content: pdf, contentType: 'application/pdf' }],
    });
    transport.close();
    const id = /stored as ([0-9a-f-]{36})/.exec(info.response)![1];
    const [stored] = await m.t.db.query(
      `SELECT raw, size, sha256, encode(sha256(raw), 'hex') AS actual FROM inbound_emails WHERE id = $1`,
      [id],
    );
    expect(stored.size).toBeGreaterThan(4 * 1024 * 1024);
    expect(stored.actual).toBe(stored.sha256);
    // It came through a spool file (over 1 MiB), whose descriptor is closed once the 250 is sent.
    expect(openSpoolFiles()).toEqual([]);
    expect(createHash('sha256').update(stored.raw).digest('hex')).toBe(stored.sha256);

    await worker.idle();
    await worker.drain();
    const [email] = await m.t.db.query(`SELECT status, extracted FROM inbound_emails WHERE id = $1`, [id]);
    expect(email.status).toBe('notice_created');
    const whole = await readMessage(stored.raw, { maxAttachmentBytes: 25 * 1024 * 1024 });
    const ctx = { publicBaseUrl: BASE, isItemOriginalUrl: () => false };
    const ex = parseNoticeEmail(whole, ctx);
    expect(email.extracted.infringingUrls).toEqual(ex.infringingUrls);
    expect(email.extracted.body).toBe(ex.body.slice(0, 20_000));
    expect(findMessageUrls(whole)).toContain(`${BASE}/items/${item.slug}`);
    expect(whole.attachments.find((a) => a.filename === 'evidence.pdf')!.content.equals(pdf)).toBe(true);

    const streamed = await readMessage(() => rawStream(poolOf(m.t.db), id, stored.size), { onlyReadAttachments: true, size: stored.size });
    expect(streamed.text).toBe(whole.text);
    expect(streamed.attachments.map((a) => [a.filename, a.size, a.content.length])).toEqual([['evidence.pdf', pdf.length, 0]]);
  });

  it('then a reader that stops after its first piece gives its connection back closed, and the pool still serves', async () => {
    const [row] = await m.t.db.query(`SELECT id, size FROM inbound_emails ORDER BY received_at DESC LIMIT 1`);
    const pool = poolOf(m.t.db);
    for (let i = 0; i < 3; i++) {
      for await (const piece of rawStream(pool, row.id, row.size)) {
        expect(piece.length).toBeGreaterThan(0);
        break;
      }
    }
    const [active] = await m.t.db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query ILIKE 'COPY (SELECT raw%' AND state <> 'idle'`,
    );
    expect(active.n).toBe(0);
    const [one] = await m.t.db.query(`SELECT 1 AS ok`);
    expect(one.ok).toBe(1);
  });

  it('then a sender that goes away in the middle of DATA leaves nothing stored and no spool file open', async () => {
    const [before] = await m.t.db.query(`SELECT count(*)::int AS n FROM inbound_emails`);
    const socket = connect(receiver.port, '127.0.0.1');
    const lines: string[] = [];
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => lines.push(...d.split('\r\n').filter(Boolean)));
    const reply = async (code: string) => {
      for (let i = 0; i < 200 && !lines.some((l) => l.startsWith(code)); i++) await new Promise((r) => setTimeout(r, 25));
      expect(lines.some((l) => l.startsWith(code))).toBe(true);
      lines.length = 0;
    };
    await reply('220');
    socket.write('EHLO sender.example\r\n');
    await reply('250 ');
    socket.write(`MAIL FROM:<${ADA}>\r\n`);
    await reply('250');
    socket.write(`RCPT TO:<${AGENT}>\r\n`);
    await reply('250');
    socket.write('DATA\r\n');
    await reply('354');
    const line = 'x'.repeat(998) + '\r\n';
    socket.write(`From: ${ADA}\r\nSubject: cut short\r\n\r\n${line.repeat(3 * 1024)}`);
    // Over 1 MiB has reached the receiver: the spool has gone to a file.
    for (let i = 0; i < 200 && openSpoolFiles().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(openSpoolFiles()).toHaveLength(1);
    socket.destroy();
    for (let i = 0; i < 200 && openSpoolFiles().length > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(openSpoolFiles()).toEqual([]);
    const [after] = await m.t.db.query(`SELECT count(*)::int AS n FROM inbound_emails`);
    expect(after.n).toBe(before.n);
  });
});
