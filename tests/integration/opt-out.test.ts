import request from 'supertest';
import type { MailWorker } from '../../src/modules/mail';
import { Item, Source } from '../../src/modules/items';
import { ManualClock, systemClock } from '../../src/shared/clock';
import type { TestContext } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createMailingContext, MailingContext } from '../support/mailing';
import type { SmtpSink } from '../support/smtp-sink';
import { createStaff } from '../support/staff';

const BASE = 'http://localhost:3000';

describe('publisher opt-out', () => {
  const clock = new ManualClock(new Date('2026-11-30T10:00:00Z'));
  let t: TestContext;
  let sink: SmtpSink;
  let worker: MailWorker;
  let source: Source;
  let items: Item[];
  let other: Item;

  const count = async (sql: string) => (await t.db.query(`SELECT count(*)::int AS n FROM ${sql}`))[0].n as number;

  /** Asks for the link through the form and returns the link's path, taken from the email received. */
  const requestLink = async (email = 'editor@harbourgazette.example', domain = 'https://www.harbourgazette.example/about') => {
    const res = await request(t.app).post('/opt-out').type('form').send({ domain, email }).expect(200);
    expect(res.text).toContain('Check your email');
    await worker.drain();
    const mails = sink.to(email);
    const text = mails[mails.length - 1].parsed.text ?? '';
    return new RegExp(`${BASE}(/opt-out/confirm\\?token=[\\w-]+)`).exec(text)![1];
  };
  const tokenOf = (path: string) => new URL(path, BASE).searchParams.get('token')!;

  let mailing: MailingContext;
  beforeAll(async () => {
    // Outbox rows are due by the database's clock: the worker runs on real time.
    mailing = await createMailingContext({ clock, workerClock: systemClock });
    ({ t, sink, worker } = mailing);
  });
  afterAll(() => mailing.close());
  beforeEach(async () => {
    await mailing.reset();
    clock.set(new Date('2026-11-30T10:00:00Z'));
    source = await makeSource(t.db, {
      name: 'Harbour Gazette',
      domains: ['harbourgazette.example'],
      contactEmail: 'tips@gazette-mail.example',
    });
    items = [await makeItem(t.db, source, { title: 'Tides' }), await makeItem(t.db, source, { title: 'Currents' })];
    other = await makeItem(t.db, await makeSource(t.db, { name: 'Other Times', domains: ['othertimes.example'] }), { title: 'Elsewhere' });
    await createStaff(t.db, { role: 'admin', email: 'admin@desk.example' });
    await createStaff(t.db, { role: 'moderator', email: 'mod@desk.example' });
  });

  it('when the publisher confirms through the emailed link, then every item of the source answers 410, the source is blocked without a strike, admins are told and it is audited', async () => {
    await request(t.app).get('/opt-out').expect(200);
    const link = await requestLink();
    expect(await count(`sources WHERE status = 'blocked'`)).toBe(0);
    // Only the hash of the token is stored.
    const [stored] = await t.db.query(`SELECT token_hash FROM opt_out_requests`);
    expect(stored.token_hash).not.toContain(tokenOf(link));

    const page = await request(t.app).get(link).expect(200);
    expect(page.text).toContain('Harbour Gazette');
    // Opening the link changes nothing; the button does.
    expect(await count(`items WHERE status = 'withdrawn'`)).toBe(0);
    const done = await request(t.app)
      .post('/opt-out/confirm')
      .type('form')
      .send({ token: tokenOf(link) })
      .expect(200);
    expect(done.text).toContain('2 articles were taken down');

    for (const item of items) {
      const res = await request(t.app).get(`/items/${item.slug}`).expect(410);
      expect(res.text).toContain(item.originalUrl);
    }
    await request(t.app).get(`/items/${other.slug}`).expect(200);
    const [s] = await t.db.query(`SELECT status, strike_count FROM sources WHERE id = $1`, [source.id]);
    expect(s).toEqual({ status: 'blocked', strike_count: 0 });
    const actions = (
      await t.db.query(`SELECT action FROM audit_events WHERE action LIKE 'opt_out.%' OR action = 'source.withdrawn' ORDER BY id`)
    ).map((r: { action: string }) => r.action);
    expect(actions).toEqual(['opt_out.requested', 'source.withdrawn', 'opt_out.confirmed']);

    await worker.drain();
    const told = (to: string) => sink.to(to).filter((m) => /opt-out/i.test(m.parsed.subject ?? ''));
    expect(told('admin@desk.example').map((m) => m.parsed.subject)).toEqual([
      expect.stringContaining('Publisher opt-out: harbourgazette.example'),
    ]);
    expect(told('mod@desk.example')).toHaveLength(0);
  });

  it('when the link is used a second time, then a clear message and nothing changes', async () => {
    const link = await requestLink();
    await request(t.app)
      .post('/opt-out/confirm')
      .type('form')
      .send({ token: tokenOf(link) })
      .expect(200);
    const events = await count('audit_events');
    const again = await request(t.app).get(link).expect(410);
    expect(again.text).toContain('already used');
    const post = await request(t.app)
      .post('/opt-out/confirm')
      .type('form')
      .send({ token: tokenOf(link) })
      .expect(410);
    expect(post.text).toContain('already used');
    expect(await count('audit_events')).toBe(events);
  });

  it('when the link is older than 48 hours, then it is refused and nothing changes', async () => {
    const link = await requestLink('tips@gazette-mail.example'); // the listed contact also proves control
    clock.advance(48 * 3_600_000 + 1000);
    expect((await request(t.app).get(link).expect(410)).text).toContain('expired');
    expect(
      (
        await request(t.app)
          .post('/opt-out/confirm')
          .type('form')
          .send({ token: tokenOf(link) })
          .expect(410)
      ).text,
    ).toContain('expired');
    expect(await count(`items WHERE status = 'withdrawn'`)).toBe(0);
    expect(await count(`sources WHERE status = 'blocked'`)).toBe(0);
  });

  it('when the link is made up, then 404 with a clear message', async () => {
    const res = await request(t.app).get('/opt-out/confirm?token=not-a-real-token-at-all-0123456789').expect(404);
    expect(res.text).toContain('not valid');
  });

  it('when the email is not at the domain nor the listed contact, then 422 on the email field and no email is sent', async () => {
    const res = await request(t.app)
      .post('/opt-out')
      .type('form')
      .send({ domain: 'harbourgazette.example', email: 'someone@gmail.example' })
      .expect(422);
    expect(res.text).toMatch(/id="email-error">Use an address at harbourgazette.example/);
    expect(res.text).toContain('value="someone@gmail.example"');
    expect(await count('opt_out_requests')).toBe(0);
    await worker.drain();
    expect(sink.to('someone@gmail.example')).toHaveLength(0);
  });

  it('when the domain is not a known source, then the page says so honestly and nothing is stored', async () => {
    const res = await request(t.app)
      .post('/opt-out')
      .type('form')
      .send({ domain: 'unknown.example', email: 'me@unknown.example' })
      .expect(404);
    expect(res.text).toContain('We do not republish anything from unknown.example');
    expect(await count('opt_out_requests')).toBe(0);
  });

  it('when fields are missing, then 422 next to each', async () => {
    const res = await request(t.app).post('/opt-out').type('form').send({ domain: '', email: '' }).expect(422);
    expect(res.text).toContain('id="domain-error"');
    expect(res.text).toContain('id="email-error"');
  });
});
