import request from 'supertest';
import { Item } from '../../src/modules/items';
import { makeItem, makeSource } from '../support/factories';
import { AGENT, completeLetter, incompleteLetter, rawEmail } from '../support/inbound-mail';
import { createMailingContext, MailingContext } from '../support/mailing';
import { createStaff, csrfOf, signedInAgent, tokenFor } from '../support/staff';

const BASE = 'http://localhost:3000';
const ADA = 'ada@analytical.example';

describe('the staff mailbox (/mailbox)', () => {
  let m: MailingContext;
  let adminToken: string;
  let agent: Awaited<ReturnType<typeof signedInAgent>>;
  let item: Item;

  beforeAll(async () => {
    m = await createMailingContext({ env: { INBOUND_AUTH_DNS: 'off', DMCA_AGENT_EMAIL: AGENT, INTAKE_PER_HOUR: '1000' } });
  });
  afterAll(() => m.close());
  beforeEach(async () => {
    await m.reset();
    adminToken = await tokenFor(m.t.db, await createStaff(m.t.db, { role: 'admin', email: 'admin@desk.example' }));
    await createStaff(m.t.db, { role: 'moderator', email: 'mod@desk.example' });
    agent = await signedInAgent(m.t.app, 'mod@desk.example');
    item = await makeItem(m.t.db, await makeSource(m.t.db));
  });

  const post = (raw: Buffer) =>
    request(m.t.app)
      .post('/api/v1/inbound-emails')
      .set('Authorization', `Bearer ${adminToken}`)
      .set('Content-Type', 'message/rfc822')
      .send(raw)
      .expect(202);
  const rows = (sql: string, params: unknown[] = []) => m.t.db.query(sql, params);
  const pageUrl = (i: Item) => `${BASE}/items/${i.slug}`;

  it('when a moderator opens the mailbox, then every email is listed newest first and the status filter narrows it', async () => {
    const a = await post(rawEmail({ subject: 'First: a notice', body: completeLetter([pageUrl(item)]) }));
    const b = await post(rawEmail({ subject: 'Second: advertising', body: 'Do you sell ads?' }));
    const page = await agent.get('/mailbox').expect(200);
    expect(page.text.indexOf('Second: advertising')).toBeLessThan(page.text.indexOf('First: a notice'));
    expect(page.text).toContain(a.body.noticeReference);
    const ignored = await agent.get('/mailbox?status=ignored').expect(200);
    expect(ignored.text).toContain(`/mailbox/${b.body.id}`);
    expect(ignored.text).not.toContain(`/mailbox/${a.body.id}`);
    const bySender = await agent.get(`/mailbox?sender=analytical`).expect(200);
    expect(bySender.text).toContain(`/mailbox/${a.body.id}`);
    await request(m.t.app).get('/mailbox').expect(303);
  });

  it('when an HTML-only email with a script and an attachment is opened, then only its text is shown, never the HTML, and the attachment is a download', async () => {
    const boundary = 'BOUNDARY';
    const raw = Buffer.from(
      [
        `From: Mallory <mallory@evil.example>`,
        `To: ${AGENT}`,
        `Subject: look`,
        `Message-ID: <html@evil.example>`,
        'MIME-Version: 1.0',
        `Content-Type: multipart/mixed; boundary="${boundary}"`,
        '',
        `--${boundary}`,
        'Content-Type: text/html; charset=utf-8',
        '',
        `<p>Remove ${pageUrl(item)} now</p><script>alert('pwned')</script><img src=x onerror=alert(1)>`,
        `--${boundary}`,
        'Content-Type: text/html; name="evidence.html"',
        'Content-Disposition: attachment; filename="evidence.html"',
        '',
        '<script>alert(2)</script>',
        `--${boundary}--`,
        '',
      ].join('\r\n'),
    );
    const r = await post(raw);
    const page = await agent.get(`/mailbox/${r.body.id}`).expect(200);
    expect(page.text).toContain('Remove');
    expect(page.text).not.toContain("<script>alert('pwned')</script>");
    expect(page.text).not.toContain('onerror=alert(1)>');
    expect(page.text).toContain('evidence.html');
    const file = await agent.get(`/mailbox/${r.body.id}/attachments/0`).expect(200);
    expect(file.headers['content-disposition']).toBe('attachment; filename="evidence.html"');
    expect(file.headers['content-type']).toBe('application/octet-stream');
    expect(file.headers['x-content-type-options']).toBe('nosniff');
    await agent.get(`/mailbox/${r.body.id}/attachments/7`).expect(404);
  });

  it('when a moderator makes a notice from an ignored email with corrected fields, then it enters the queue linked to the email, audited', async () => {
    const r = await post(rawEmail({ subject: 'see this', body: 'Hi, one of the articles on your site is ours. Call me.' }));
    expect(r.body.status).toBe('ignored');
    const csrf = await csrfOf(agent, `/mailbox/${r.body.id}`);
    const form = {
      _csrf: csrf,
      claimType: 'copyright',
      name: 'Ada Lovelace',
      email: ADA,
      address: '12 Marylebone Road, London',
      country: 'GB',
      role: 'owner',
      workDescription: 'My article "Notes on the Engine".',
      infringingUrls: pageUrl(item),
      goodFaith: 'true',
      accuracy: 'true',
      signature: 'Ada Lovelace',
    };
    const bad = await agent
      .post(`/mailbox/${r.body.id}/notice`)
      .type('form')
      .send({ ...form, country: '' })
      .expect(422);
    expect(bad.text).toContain('Choose your country');
    const ok = await agent.post(`/mailbox/${r.body.id}/notice`).type('form').send(form).expect(303);
    const ref = ok.headers.location.split('/').pop();
    const [email] = await rows(
      `SELECT e.status, n.reference, n.status AS notice_status, n.channel FROM inbound_emails e JOIN notices n ON n.id = e.notice_id WHERE e.id = $1`,
      [r.body.id],
    );
    expect(email).toMatchObject({ status: 'notice_created', reference: ref, notice_status: 'pending', channel: 'email' });
    const trail = await rows(`SELECT action, actor_label FROM audit_events WHERE subject_id = $1 ORDER BY id`, [r.body.id]);
    expect(trail.map((e: { action: string }) => e.action)).toContain('inbound_email.read');
    expect(trail[trail.length - 1].actor_label).toBe('mod@desk.example');
  });

  it('when a moderator completes an incomplete emailed notice from its email, then it moves to pending with notice.completed by the moderator', async () => {
    const r = await post(rawEmail({ body: incompleteLetter([pageUrl(item)]) }));
    expect(r.body.status).toBe('incomplete');
    const page = await agent.get(`/mailbox/${r.body.id}`).expect(200);
    expect(page.text).toContain('Complete the notice');
    const csrf = await csrfOf(agent, `/mailbox/${r.body.id}`);
    await agent
      .post(`/mailbox/${r.body.id}/notice`)
      .type('form')
      .send({
        _csrf: csrf,
        claimType: 'copyright',
        name: 'Ada Lovelace',
        email: ADA,
        address: '12 Marylebone Road, London',
        country: 'GB',
        role: 'owner',
        workDescription: 'My article "Notes on the Engine".',
        infringingUrls: pageUrl(item),
        goodFaith: 'true',
        accuracy: 'true',
        signature: 'Ada Lovelace',
      })
      .expect(303);
    const [n] = await rows(`SELECT status FROM notices WHERE reference = $1`, [r.body.noticeReference]);
    expect(n.status).toBe('pending');
    const [ev] = await rows(`SELECT actor_label, details FROM audit_events WHERE action = 'notice.completed' AND subject_id = $1`, [
      r.body.noticeReference,
    ]);
    expect(ev).toMatchObject({ actor_label: 'mod@desk.example', details: expect.objectContaining({ by: 'staff' }) });
  });

  it('when a moderator attaches an email to a notice, or ignores one, then its status and the audit trail say so; without the CSRF token nothing changes', async () => {
    const n = await post(rawEmail({ body: completeLetter([pageUrl(item)]) }));
    const stray = await post(rawEmail({ subject: 'about my notice', body: 'Any news?' }));
    const other = await post(rawEmail({ subject: 'hello', body: 'Just saying hi.' }));
    await agent.post(`/mailbox/${stray.body.id}/attach`).type('form').send({ reference: n.body.noticeReference }).expect(403);
    const csrf = await csrfOf(agent, `/mailbox/${stray.body.id}`);
    await agent.post(`/mailbox/${stray.body.id}/attach`).type('form').send({ _csrf: csrf, reference: n.body.noticeReference }).expect(303);
    const [s] = await rows(`SELECT status, notice_id FROM inbound_emails WHERE id = $1`, [stray.body.id]);
    expect(s.status).toBe('reply_attached');
    const trail = await rows(`SELECT action FROM audit_events WHERE subject_id = $1 ORDER BY id`, [n.body.noticeReference]);
    expect(trail.map((e: { action: string }) => e.action)).toContain('notice.reply_received');
    // Already attached: it cannot be attached or ignored again.
    await agent.post(`/mailbox/${stray.body.id}/ignore`).type('form').send({ _csrf: csrf, reason: 'x' }).expect(409);
    await agent.post(`/mailbox/${other.body.id}/ignore`).type('form').send({ _csrf: csrf, reason: 'small talk' }).expect(303);
    const [o] = await rows(`SELECT status, reason FROM inbound_emails WHERE id = $1`, [other.body.id]);
    expect(o).toMatchObject({ status: 'ignored', reason: 'small talk' });
  });
});
