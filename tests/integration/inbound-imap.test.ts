import { ImapFlow } from 'imapflow';
import { Item } from '../../src/modules/items';
import { createInboundWorker, ImapPoller, InboundWorker, startImapPoller } from '../../src/modules/inbound';
import { createLogger } from '../../src/shared/logger';
import { Dovecot, startDovecot } from '../support/dovecot';
import { makeItem, makeSource } from '../support/factories';
import { AGENT, completeLetter, rawEmail } from '../support/inbound-mail';
import { createMailingContext, MailingContext } from '../support/mailing';

const ADA = 'ada@analytical.example';

describe('IMAP polling against a real Dovecot (Debian dovecot-imapd, started by the test)', () => {
  let dovecot: Dovecot;
  let m: MailingContext;
  let worker: InboundWorker;
  let poller: ImapPoller;
  let item: Item;
  let client: ImapFlow;

  beforeAll(async () => {
    dovecot = await startDovecot();
    m = await createMailingContext({
      env: { INBOUND_AUTH_DNS: 'off', DMCA_AGENT_EMAIL: AGENT, INBOUND_IMAP_URL: dovecot.url(), INBOUND_IMAP_DONE_FOLDER: 'Processed' },
    });
    worker = createInboundWorker({ ...m.t, logger: createLogger('silent') });
    client = new ImapFlow({
      host: '127.0.0.1',
      port: dovecot.port,
      secure: false,
      auth: { user: dovecot.user, pass: dovecot.password },
      logger: false,
    });
    await client.connect();
    await client.mailboxCreate('Processed').catch(() => undefined);
  });
  afterAll(async () => {
    await poller?.close();
    await client?.logout().catch(() => undefined);
    await worker?.idle();
    await m?.close();
    await dovecot?.stop();
  });

  const count = async (box: string) => ((await client.status(box, { messages: true })) as { messages: number }).messages;

  it('when a notice lands in the mailbox, then it is stored, moved to the done folder only after the commit, and becomes a notice with a threaded acknowledgement', async () => {
    item = await makeItem(m.t.db, await makeSource(m.t.db));
    const raw = rawEmail({ messageId: '<imap-1@analytical.example>', body: completeLetter([`http://localhost:3000/items/${item.slug}`]) });
    await client.append('INBOX', raw);
    await client.append('INBOX', raw); // the same message twice: one email
    expect(await count('INBOX')).toBe(2);

    poller = startImapPoller({ ...m.t, logger: createLogger(process.env.DEBUG_IMAP ? 'debug' : 'silent') }, worker, { pollMs: 60_000 });
    await poller.pollNow();
    expect(await count('INBOX')).toBe(0);
    expect(await count('Processed')).toBe(2);
    const stored = await m.t.db.query(`SELECT id, way_in, message_id FROM inbound_emails`);
    expect(stored).toEqual([expect.objectContaining({ way_in: 'imap', message_id: '<imap-1@analytical.example>' })]);

    await worker.idle();
    await worker.drain();
    const [email] = await m.t.db.query(`SELECT status, notice_id FROM inbound_emails`);
    expect(email.status).toBe('notice_created');
    await m.worker.drain();
    const [ack] = m.sink.to(ADA);
    expect(ack.parsed.inReplyTo).toBe('<imap-1@analytical.example>');
  });

  it('when the database refuses the message, then it stays in the mailbox (not moved) to be taken on the next poll', async () => {
    const raw = rawEmail({ messageId: '<imap-2@analytical.example>', body: completeLetter([`http://localhost:3000/items/${item.slug}`]) });
    await client.append('INBOX', raw);
    await m.t.db.query(`ALTER TABLE inbound_emails ADD CONSTRAINT test_refuse CHECK (message_id <> '<imap-2@analytical.example>')`);
    try {
      await poller.pollNow();
      expect(await count('INBOX')).toBe(1);
      expect(
        (await m.t.db.query(`SELECT count(*)::int AS n FROM inbound_emails WHERE message_id = '<imap-2@analytical.example>'`))[0].n,
      ).toBe(0);
    } finally {
      await m.t.db.query(`ALTER TABLE inbound_emails DROP CONSTRAINT test_refuse`);
    }
    await poller.pollNow();
    expect(await count('INBOX')).toBe(0);
    expect(
      (await m.t.db.query(`SELECT count(*)::int AS n FROM inbound_emails WHERE message_id = '<imap-2@analytical.example>'`))[0].n,
    ).toBe(1);
  });
});
