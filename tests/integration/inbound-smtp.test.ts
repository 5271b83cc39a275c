import { generateKeyPairSync } from 'node:crypto';
import nodemailer from 'nodemailer';
import { testConfig } from '../support/context';
import { Item } from '../../src/modules/items';
import { createInboundWorker, DnsResolver, InboundWorker, SmtpReceiver, startSmtpReceiver } from '../../src/modules/inbound';
import { createLogger } from '../../src/shared/logger';
import { makeItem, makeSource } from '../support/factories';
import { AGENT, completeLetter } from '../support/inbound-mail';
import { createMailingContext, MailingContext } from '../support/mailing';

const BASE = 'http://localhost:3000';
const ADA = 'ada@analytical.example';

/** The test key pair: the private half signs (nodemailer's DKIM option), the public half is "published" in our resolver. */
const published = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (k: typeof published) => k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const txt = (k: typeof published) => `v=DKIM1; k=rsa; p=${k.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;

/** DNS as the tests publish it: DKIM key, DMARC p=reject, SPF allowing only 192.0.2.1 (not us). */
const resolver: DnsResolver = async (name, rrtype) => {
  const records: Record<string, string[][]> = {
    'TXT sel._domainkey.analytical.example': [[txt(published)]],
    'TXT _dmarc.analytical.example': [['v=DMARC1; p=reject']],
    'TXT analytical.example': [['v=spf1 ip4:192.0.2.1 -all']],
  };
  const hit = records[`${rrtype} ${name.toLowerCase()}`];
  if (hit) return hit;
  throw Object.assign(new Error(`no ${rrtype} for ${name}`), { code: 'ENOTFOUND' });
};

describe('the SMTP receiver: notices arrive over real SMTP (nodemailer as the sender)', () => {
  let m: MailingContext;
  let worker: InboundWorker;
  let receiver: SmtpReceiver;
  let item: Item;

  beforeAll(async () => {
    m = await createMailingContext({
      env: {
        DMCA_AGENT_EMAIL: AGENT,
        INBOUND_ADDRESSES: `${AGENT}, abuse@desk.example`,
        INBOUND_MAX_BYTES: String(200 * 1024),
        INBOUND_SMTP_PER_MINUTE: '1000',
        INBOUND_SMTP_HOST: '127.0.0.1',
        INTAKE_PER_HOUR: '1000',
      },
    });
    worker = createInboundWorker({ ...m.t, logger: createLogger('silent') }, { resolver });
    receiver = await startSmtpReceiver(m.t, worker, { port: 0 });
  });
  afterAll(async () => {
    await receiver.close();
    worker.stop();
    await worker.idle();
    await m.close();
  });
  beforeEach(async () => {
    await worker.idle();
    await m.reset();
    item = await makeItem(m.t.db, await makeSource(m.t.db));
  });

  const sender = (port = receiver.port) =>
    nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, logger: false });
  const rows = (sql: string, params: unknown[] = []) => m.t.db.query(sql, params);
  const processed = async () => {
    await worker.idle();
    await worker.drain();
    await m.worker.drain();
  };
  const letter = (over: Record<string, unknown> = {}) => ({
    from: `Ada Lovelace <${ADA}>`,
    to: AGENT,
    subject: 'DMCA notice',
    messageId: `<${Math.random().toString(36).slice(2)}@analytical.example>`,
    text: completeLetter([`${BASE}/items/${item.slug}`]),
    ...over,
  });

  it('when a DKIM-signed complete notice is sent to the agent address, then 250 comes after the commit, SPF/DKIM/DMARC are recorded and it becomes a pending notice with a threaded acknowledgement', async () => {
    const info = await sender().sendMail(
      letter({
        messageId: '<smtp-1@analytical.example>',
        dkim: { domainName: 'analytical.example', keySelector: 'sel', privateKey: pem(published) },
      }),
    );
    expect(info.response).toMatch(/^250 .*stored as [0-9a-f-]{36}/);
    const id = /stored as ([0-9a-f-]{36})/.exec(info.response)![1];
    // Committed before the 250: the row is there the moment sendMail resolves.
    const [stored] = await rows(`SELECT way_in, envelope, message_id FROM inbound_emails WHERE id = $1`, [id]);
    expect(stored).toMatchObject({ way_in: 'smtp', message_id: '<smtp-1@analytical.example>' });
    expect(stored.envelope).toMatchObject({ mailFrom: ADA, rcptTo: [AGENT], remoteIp: expect.stringMatching(/127\.0\.0\.1/) });

    await processed();
    const [email] = await rows(`SELECT status, auth, notice_id FROM inbound_emails WHERE id = $1`, [id]);
    expect(email.status).toBe('notice_created');
    expect(email.auth).toMatchObject({ dkim: 'pass', dmarc: 'pass', spf: 'fail', domain: 'analytical.example' });
    const [notice] = await rows(`SELECT reference, status, channel, flags FROM notices WHERE id = $1`, [email.notice_id]);
    expect(notice).toMatchObject({ status: 'pending', channel: 'email' });
    expect(notice.flags.map((f: { code: string }) => f.code)).not.toContain('sender_unauthenticated');
    const [ack] = m.sink.to(ADA);
    expect(ack.parsed.inReplyTo).toBe('<smtp-1@analytical.example>');
    expect(ack.parsed.subject).toBe('Re: DMCA notice');
    expect(ack.parsed.text).toContain(notice.reference);
  });

  it('when the signature is made with a key the domain did not publish and SPF fails, then DMARC fails and the notice carries the flag sender_unauthenticated', async () => {
    const info = await sender().sendMail(
      letter({ dkim: { domainName: 'analytical.example', keySelector: 'sel', privateKey: pem(other) } }),
    );
    const id = /stored as ([0-9a-f-]{36})/.exec(info.response)![1];
    await processed();
    const [email] = await rows(`SELECT status, auth, notice_id FROM inbound_emails WHERE id = $1`, [id]);
    expect(email.auth).toMatchObject({ dkim: 'fail', dmarc: 'fail', spf: 'fail' });
    const [notice] = await rows(`SELECT flags FROM notices WHERE id = $1`, [email.notice_id]);
    expect(notice.flags.map((f: { code: string }) => f.code)).toContain('sender_unauthenticated');
    const trail = await rows(`SELECT details FROM audit_events WHERE action = 'notice.submitted'`);
    expect(trail[0].details.flags).toContain('sender_unauthenticated');
  });

  it('when RCPT TO names an address we do not take mail for, then 550 and nothing is stored', async () => {
    await expect(sender().sendMail(letter({ to: 'someone@desk.example' }))).rejects.toMatchObject({ responseCode: 550 });
    // One good and one bad recipient: only the good one is accepted.
    const info = await sender().sendMail(letter({ to: ['nobody@desk.example', 'abuse@desk.example'] }));
    expect(info.rejected).toEqual(['nobody@desk.example']);
    expect(info.accepted).toEqual(['abuse@desk.example']);
    const stored = await rows(`SELECT "to" FROM inbound_emails`);
    expect(stored).toEqual([{ to: ['abuse@desk.example'] }]);
  });

  it('when a message is larger than INBOUND_MAX_BYTES, then 552 and nothing is stored', async () => {
    await expect(
      sender().sendMail(letter({ attachments: [{ filename: 'big.bin', content: Buffer.alloc(300 * 1024, 1) }] })),
    ).rejects.toMatchObject({ responseCode: 552 });
    expect((await rows(`SELECT count(*)::int AS n FROM inbound_emails`))[0].n).toBe(0);
  });

  it('when the same message is delivered twice (a retry after a lost 250), then it is stored and answered once', async () => {
    const msg = letter({ messageId: '<retry@analytical.example>' });
    await sender().sendMail(msg);
    const again = await sender().sendMail(msg);
    expect(again.response).toMatch(/already have it/);
    await processed();
    expect((await rows(`SELECT count(*)::int AS n FROM inbound_emails`))[0].n).toBe(1);
    expect((await rows(`SELECT count(*)::int AS n FROM notices`))[0].n).toBe(1);
    expect(m.sink.to(ADA)).toHaveLength(1);
  });

  it('when one client sends more than INBOUND_SMTP_PER_MINUTE messages, then the next gets 421 (try later) and is not stored', async () => {
    const config = testConfig({ DMCA_AGENT_EMAIL: AGENT, INBOUND_SMTP_PER_MINUTE: '2', INBOUND_SMTP_HOST: '127.0.0.1' });
    const limited = await startSmtpReceiver({ ...m.t, config }, null, { port: 0 });
    try {
      const s = sender(limited.port);
      await s.sendMail(letter());
      await s.sendMail(letter());
      await expect(s.sendMail(letter())).rejects.toMatchObject({ responseCode: 421 });
      expect((await rows(`SELECT count(*)::int AS n FROM inbound_emails`))[0].n).toBe(2);
    } finally {
      await limited.close();
    }
  });
});
