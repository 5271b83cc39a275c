import request from 'supertest';
import { withTransaction } from '../../src/db/transaction';
import { createLogger } from '../../src/shared/logger';
import { createMailWorker, enqueue } from '../../src/modules/mail';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { createStaff, csrfFrom, signedInAgent } from '../support/staff';

describe('outbox page (/outbox) and the staff-account email', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext(); // no SMTP_URL: the embedded default, emails go to the local store
  });
  afterAll(() => t.close());
  beforeEach(() => truncateAll(t.db));

  const drain = async () => {
    const w = createMailWorker({ db: t.db, config: t.config, logger: createLogger('silent'), clock: t.clock });
    try {
      return await w.drain();
    } finally {
      await w.close();
    }
  };
  const emailTo = async (to: string) => (await t.db.query('SELECT * FROM outbound_emails WHERE "to" = $1', [to]))[0];
  const admin = async () => {
    const a = await createStaff(t.db, { role: 'admin' });
    return { user: a, agent: await signedInAgent(t.app, a.email) };
  };

  it('when a moderator opens the outbox or posts a retry, then 403', async () => {
    const mod = await createStaff(t.db, { role: 'moderator' });
    const agent = await signedInAgent(t.app, mod.email);
    await agent.get('/outbox').expect(403);
    const id = (await emailTo(mod.email)).id;
    await agent.get(`/outbox/${id}`).expect(403);
    await agent.get(`/outbox/${id}/html`).expect(403);
    const token = csrfFrom((await agent.get('/staff')).text);
    await agent.post(`/outbox/${id}/retry`).type('form').send({ _csrf: token }).expect(403);
    await request(t.app).get('/outbox').expect(303).expect('Location', '/login?next=%2Foutbox');
  });

  it('when an admin creates a staff account, then an email is queued in the same transaction and shows at /outbox, without the password', async () => {
    const { agent } = await admin();
    const form = await agent.get('/users').expect(200);
    const created = await agent
      .post('/users')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), email: 'new.member@example.org', name: 'New Member', role: 'moderator' });
    expect(created.status).toBe(303);
    const usersPage = await agent.get('/users').expect(200);
    const password = /<code class="secret">([^<]+)<\/code>/.exec(usersPage.text)![1];

    const row = await emailTo('new.member@example.org');
    expect(row).toMatchObject({ template: 'staff-account-created', status: 'queued', attempts: 0 });
    expect(JSON.stringify(row.data)).not.toContain(password);
    expect(await drain()).toMatchObject({ sent: expect.any(Number), failed: 0 });
    expect(await emailTo('new.member@example.org')).toMatchObject({ status: 'sent', provider_message_id: 'local-store' });

    const list = await agent.get('/outbox').expect(200);
    expect(list.text).toContain('new.member@example.org');
    expect(list.text).toContain('Your staff account at Takedown Desk');
    expect(list.text).toContain('local store');
    expect(list.text).toMatch(/<label for="outbox-status">Status<\/label>/);

    const page = await agent.get(`/outbox/${row.id}`).expect(200);
    expect(page.text).toContain(`&lt;outbox-${row.id}@localhost&gt;`);
    expect(page.text).toMatch(/<iframe class="email-frame" sandbox src="\/outbox\/[0-9a-f-]+\/html"/);
    expect(page.text).toMatch(/<pre class="email-text"[^>]*>Hello New Member,/);
    expect(page.text).toContain('Sign in at http://localhost:3000/login');
    expect(page.text).not.toContain(password);

    const html = await agent.get(`/outbox/${row.id}/html`).expect(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox",
    );
    expect(html.headers['x-content-type-options']).toBe('nosniff');
    expect(html.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(html.text).toContain('<p>Hello New Member,</p>');
    expect(html.text).not.toContain(password);

    await agent
      .get('/outbox?status=failed')
      .expect(200)
      .expect((r) => expect(r.text).not.toContain('new.member@example.org'));
    await agent.get('/outbox/00000000-0000-4000-8000-000000000000').expect(404);
    await agent.get('/outbox/not-a-uuid').expect(404);
  });

  it('when a value in an email carries markup, then the outbox page and the HTML part show it escaped', async () => {
    const { agent } = await admin();
    const form = await agent.get('/users').expect(200);
    await agent
      .post('/users')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), email: 'xss@example.org', name: '<script>alert(1)</script>', role: 'moderator' })
      .expect(303);
    const row = await emailTo('xss@example.org');
    const page = await agent.get(`/outbox/${row.id}`).expect(200);
    expect(page.text).not.toContain('<script>alert(1)</script>');
    expect(page.text).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;,');
    const html = await agent.get(`/outbox/${row.id}/html`).expect(200);
    expect(html.text).not.toContain('<script>');
    expect(html.text).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;,');
  });

  it('when an admin retries a failed email, then it is queued again with fresh attempts and audited; without the CSRF token it is refused', async () => {
    const { user, agent } = await admin();
    const id = (await withTransaction(t.db, (tx) => enqueue(tx, 'no-such-template', 'stuck@example.org', {})))!;
    expect(await drain()).toMatchObject({ failed: 1 });
    expect(await emailTo('stuck@example.org')).toMatchObject({ status: 'failed', attempts: 1 });

    const list = await agent.get('/outbox?status=failed').expect(200);
    expect(list.text).toContain('stuck@example.org');
    expect(list.text).toContain('Email template &quot;no-such-template&quot; not found');
    expect(list.text).toContain(`action="/outbox/${id}/retry"`);

    await agent.post(`/outbox/${id}/retry`).type('form').send({}).expect(403);
    await agent.post(`/outbox/${id}/retry`).type('form').send({ _csrf: 'forged.token' }).expect(403);
    expect(await emailTo('stuck@example.org')).toMatchObject({ status: 'failed' });

    const res = await agent
      .post(`/outbox/${id}/retry`)
      .type('form')
      .send({ _csrf: csrfFrom(list.text) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/outbox/${id}`);
    expect(await emailTo('stuck@example.org')).toMatchObject({ status: 'queued', attempts: 0 });
    const [event] = await t.db.query(`SELECT * FROM audit_events WHERE action = 'email.retried'`);
    expect(event).toMatchObject({ actor_type: 'user', actor_id: user.id, subject_type: 'email', subject_id: id });
    expect(event.details.before).toMatchObject({ status: 'failed', attempts: 1 });
    expect((await agent.get(`/outbox/${id}`)).text).toContain('queued again');

    // Only failed emails can be retried.
    const again = await agent
      .post(`/outbox/${id}/retry`)
      .type('form')
      .send({ _csrf: csrfFrom(list.text) });
    expect(again.status).toBe(409);
    expect(again.text).toContain('Only a failed email can be retried');
  });

  it('when an admin retries all failed emails, then each is queued again and audited once', async () => {
    const { agent } = await admin();
    await withTransaction(t.db, async (tx) => {
      for (const n of [1, 2, 3]) await enqueue(tx, 'no-such-template', `stuck${n}@example.org`, {});
    });
    expect(await drain()).toMatchObject({ failed: 3 });
    const list = await agent.get('/outbox').expect(200);
    expect(list.text).toContain('Retry all 3 failed');
    const res = await agent
      .post('/outbox/retry-failed')
      .type('form')
      .send({ _csrf: csrfFrom(list.text) });
    expect(res.status).toBe(303);
    const [{ queued }] = await t.db.query(
      `SELECT count(*) FILTER (WHERE status = 'queued' AND attempts = 0)::int AS queued FROM outbound_emails WHERE "to" LIKE 'stuck%'`,
    );
    expect(queued).toBe(3);
    const events = await t.db.query(`SELECT details FROM audit_events WHERE action = 'email.retried'`);
    expect(events).toHaveLength(3);
    expect(events[0].details).toMatchObject({ bulk: true, before: { status: 'failed', attempts: 1 } });
    expect((await agent.get('/outbox?status=queued')).text).toContain('3 failed emails are queued again.');
  });

  it('when /metrics is scraped, then it reports the outbox by status and the age of the oldest queued email', async () => {
    await withTransaction(t.db, async (tx) => {
      await enqueue(tx, 'staff-account-created', 'one@example.org', { name: 'One' });
      await enqueue(tx, 'staff-account-created', 'two@example.org', { name: 'Two' });
    });
    await t.db.query(`UPDATE outbound_emails SET created_at = now() - interval '90 seconds' WHERE "to" = 'one@example.org'`);
    const m = await request(t.app).get('/metrics').expect(200);
    expect(m.text).toContain('takedown_outbox_emails{status="queued"} 2');
    expect(m.text).toContain('takedown_outbox_emails{status="sent"} 0');
    expect(m.text).toContain('takedown_outbox_emails{status="failed"} 0');
    const age = Number(/^takedown_outbox_oldest_queued_age_seconds (\S+)$/m.exec(m.text)![1]);
    expect(age).toBeGreaterThanOrEqual(90);

    await drain();
    const after = await request(t.app).get('/metrics').expect(200);
    expect(after.text).toContain('takedown_outbox_emails{status="sent"} 2');
    expect(after.text).toContain('takedown_outbox_oldest_queued_age_seconds 0');
  });
});
