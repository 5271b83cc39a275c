import request from 'supertest';
import type { MailWorker } from '../../src/modules/mail';
import { Item, Source } from '../../src/modules/items';
import { restoreDueCounterNotices } from '../../src/modules/counter-notices';
import { ManualClock, systemClock } from '../../src/shared/clock';
import { approvedNotice, COMPLAINANT, submitNoticeFor } from '../support/approve-fixture';
import type { TestContext } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createMailingContext, MailingContext } from '../support/mailing';
import type { SmtpSink } from '../support/smtp-sink';
import { createStaff, csrfOf, signedInAgent, tokenFor } from '../support/staff';

const BASE = 'http://localhost:3000';
/** The Wednesday before Thanksgiving 2026 (Thursday 26 November), mid-afternoon UTC. */
const WEDNESDAY_BEFORE_THANKSGIVING = new Date('2026-11-25T15:00:00Z');

const counter = (reference: string, urls: string[], over: Record<string, unknown> = {}) => ({
  notice: reference,
  name: 'Grace Hopper',
  email: 'grace@harbourgazette.example',
  phone: '+1 202 555 0142',
  address: '1 Harbour Street, Annapolis, MD 21401',
  country: 'US',
  removedUrls: urls,
  explanation: 'I wrote this article myself; the notice names the wrong work.',
  mistake: true,
  consent: true,
  signature: 'Grace Hopper',
  ...over,
});

/** The same counter-notice as the HTML form sends it. */
const form = (reference: string, urls: string[], over: Record<string, unknown> = {}) => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(counter(reference, urls, over))) {
    if (k === 'mistake' || k === 'consent') {
      if (v === true) out[k] = 'true';
    } else if (Array.isArray(v)) out[k] = v.join('\n');
    else if (v !== undefined) out[k] = String(v);
  }
  return out;
};

describe('counter-notices and restoration', () => {
  const clock = new ManualClock(WEDNESDAY_BEFORE_THANKSGIVING);
  let t: TestContext;
  let sink: SmtpSink;
  let worker: MailWorker;
  let source: Source;
  let item: Item;
  let pageUrl: string;

  const noticeRow = async (reference: string) => (await t.db.query(`SELECT id, status FROM notices WHERE reference = $1`, [reference]))[0];
  const count = async (sql: string, params: unknown[] = []) =>
    (await t.db.query(`SELECT count(*)::int AS n FROM ${sql}`, params))[0].n as number;
  const textOf = (to: string, subject: RegExp) => {
    const m = sink.to(to).find((x) => subject.test(x.parsed.subject ?? ''));
    if (!m)
      throw new Error(
        `no email "${subject}" to ${to}; got: ${sink.messages.map((x) => `${x.envelope.to} ${x.parsed.subject}`).join(' | ')}`,
      );
    return m.parsed.text ?? '';
  };

  let mailing: MailingContext;
  beforeAll(async () => {
    // Outbox rows are due by the database's clock: the worker runs on real time.
    mailing = await createMailingContext({
      clock,
      workerClock: systemClock,
      env: { INTAKE_PER_HOUR: '1000', DMCA_AGENT_EMAIL: 'dmca@desk.example' },
    });
    ({ t, sink, worker } = mailing);
  });
  afterAll(() => mailing.close());
  beforeEach(async () => {
    await mailing.reset();
    clock.set(WEDNESDAY_BEFORE_THANKSGIVING);
    source = await makeSource(t.db, {
      name: 'Harbour Gazette',
      domains: ['harbourgazette.example'],
      contactEmail: 'editor@harbourgazette.example',
    });
    item = await makeItem(t.db, source, { title: 'Tides', originalUrl: 'https://harbourgazette.example/2026/05/tides' });
    pageUrl = `${BASE}/items/${item.slug}`;
    await createStaff(t.db, { role: 'moderator', email: 'mod@desk.example' });
  });

  describe('intake', () => {
    it('when a counter-notice is received the Wednesday before Thanksgiving, then in one go the notice is countered, the restore date skips the holiday and weekends, and every party is emailed', async () => {
      const { reference, statusUrl } = await approvedNotice(t.app, t.db, [pageUrl], clock.now());
      await request(t.app).get(`/items/${item.slug}`).expect(451);

      const res = await request(t.app)
        .post('/api/v1/counter-notices')
        .send(counter(reference, [pageUrl]))
        .expect(201);
      // Thu 26 Nov (Thanksgiving) and the weekends are skipped: Fri 27 is day 1, Thu 10 Dec day 10.
      expect(res.body).toMatchObject({
        notice: reference,
        status: 'received',
        restoreAfter: '2026-12-10T00:00:00.000Z',
        items: [{ itemId: item.id, url: pageUrl }],
      });

      expect((await noticeRow(reference)).status).toBe('countered');
      const [row] = await t.db.query(
        `SELECT status, item_ids, consent_statement, mistake_statement, restore_after, received_at FROM counter_notices`,
      );
      expect(row).toMatchObject({ status: 'received', item_ids: [item.id] });
      expect(row.consent_statement).toContain('Federal District Court for the judicial district in which my address is located');
      expect(row.mistake_statement).toContain('under penalty of perjury');
      expect(row.received_at.toISOString()).toBe(WEDNESDAY_BEFORE_THANKSGIVING.toISOString());
      const actions = (
        await t.db.query(`SELECT action FROM audit_events WHERE action IN ('counter_notice.received', 'notice.countered') ORDER BY id`)
      ).map((r: { action: string }) => r.action);
      expect(actions).toEqual(['counter_notice.received', 'notice.countered']);
      // The item stays removed until the date.
      await request(t.app).get(`/items/${item.slug}`).expect(451);

      await worker.drain();
      const copy = textOf(COMPLAINANT.email, /Counter-notice received against your notice/);
      expect(copy).toContain('2026-12-10');
      expect(copy).toContain('court');
      expect(copy).toContain('Grace Hopper');
      expect(copy).toContain('+1 202 555 0142');
      expect(copy).toContain('dmca@desk.example');
      expect(sink.to(COMPLAINANT.email).find((m) => /Counter-notice/.test(m.parsed.subject ?? ''))!.parsed.replyTo?.text).toContain(
        'dmca@desk.example',
      );
      expect(textOf('grace@harbourgazette.example', /We received your counter-notice/)).toContain('2026-12-10');
      expect(textOf('mod@desk.example', new RegExp(`Counter-notice against ${reference}`))).toContain(`${BASE}/counter-notices`);

      // The complainant's status page tells the story.
      const status = await request(t.app).get(statusUrl.slice(BASE.length)).expect(200);
      expect(status.text).toContain('A counter-notice was received.');
    });

    it.each([
      ['a Thursday before the observed Independence Day', '2026-07-02T12:00:00Z', '2026-07-17T00:00:00.000Z'],
      ['a Friday before Christmas and New Year', '2026-12-18T23:30:00Z', '2027-01-05T00:00:00.000Z'],
      ['a Saturday before Memorial Day', '2026-05-16T09:00:00Z', '2026-06-01T00:00:00.000Z'],
    ])('when a counter-notice is received on %s, then the restore date is 10 US business days later', async (_when, at, expected) => {
      clock.set(new Date(at));
      const { reference } = await approvedNotice(t.app, t.db, [pageUrl], clock.now());
      const res = await request(t.app)
        .post('/api/v1/counter-notices')
        .send(counter(reference, [pageUrl]))
        .expect(201);
      expect(res.body.restoreAfter).toBe(expected);
    });

    it('when the counter-notifier lives outside the US, then the consent names any district where the service provider may be found', async () => {
      const { reference } = await approvedNotice(t.app, t.db, [pageUrl], clock.now());
      await request(t.app)
        .post('/api/v1/counter-notices')
        .send(counter(reference, [pageUrl], { country: 'DE', address: 'Hafenstraße 1, 20457 Hamburg' }))
        .expect(201);
      const [row] = await t.db.query(`SELECT consent_statement FROM counter_notices`);
      expect(row.consent_statement).toContain('any judicial district in which Takedown Desk may be found');
    });

    it('when the form is opened from a notice, then its removed URLs are pre-filled and every element of § 512(g)(3) is asked for', async () => {
      const { reference } = await approvedNotice(t.app, t.db, ['https://harbourgazette.example/2026/05/tides'], clock.now());
      const removedPage = await request(t.app).get(`/items/${item.slug}`).expect(451);
      expect(removedPage.text).toContain(`href="/counter-notice?notice=${reference}"`);
      const page = await request(t.app).get(`/counter-notice?notice=${reference}`).expect(200);
      expect(page.text).toContain(`${pageUrl}</textarea>`);
      for (const field of ['notice', 'name', 'email', 'phone', 'address', 'country', 'removedUrls', 'mistake', 'consent', 'signature']) {
        expect(page.text).toContain(`name="${field}"`);
      }
      expect(page.text).toContain('under penalty of perjury');
      expect(page.text).toContain('outside the United States');
    });

    it('when the form is valid, then 303 to a page naming the restore date', async () => {
      const { reference } = await approvedNotice(t.app, t.db, [pageUrl], clock.now());
      const res = await request(t.app)
        .post('/counter-notice')
        .type('form')
        .send(form(reference, [pageUrl]))
        .expect(303);
      const page = await request(t.app).get(res.headers.location).expect(200);
      expect(page.text).toContain('2026-12-10');
      expect((await noticeRow(reference)).status).toBe('countered');
    });

    const missing: [string, Record<string, unknown>, string][] = [
      ['notice', { notice: '' }, 'reference of the takedown notice'],
      ['name', { name: '' }, 'full name'],
      ['email', { email: 'grace-at-example' }, 'email address'],
      ['phone', { phone: '' }, 'telephone'],
      ['address', { address: '' }, 'postal address'],
      ['country', { country: 'Atlantis' }, 'ISO 3166'],
      ['removedUrls', { removedUrls: [] }, 'at least one URL'],
      ['removedUrls', { removedUrls: ['javascript:alert(1)'] }, 'must start with http'],
      ['mistake', { mistake: false }, 'mistake or misidentification'],
      ['consent', { consent: false }, 'consent to the jurisdiction'],
      ['signature', { signature: '' }, 'Type your full name'],
      ['signature', { signature: 'Someone Else' }, 'exactly as in the name field'],
    ];

    it.each(missing)(
      'when %s is missing or malformed on the form, then 422 with the error next to it, the values kept, and nothing changed',
      async (field, over, message) => {
        const { reference } = await approvedNotice(t.app, t.db, [pageUrl], clock.now());
        const res = await request(t.app)
          .post('/counter-notice')
          .type('form')
          .send(form(reference, [pageUrl], { explanation: 'Kept <value> & "quoted"', ...over }));
        expect(res.status).toBe(422);
        expect(res.text).toMatch(new RegExp(`<p class="field-error" id="${field}-error">[^<]*${message}`));
        expect(res.text).toContain(`aria-describedby="${field}-error`);
        expect(res.text).toContain('Kept &lt;value&gt; &amp; &quot;quoted&quot;');
        expect((await noticeRow(reference)).status).toBe('approved');
        expect(await count('counter_notices')).toBe(0);
      },
    );

    it('when the form comes back with an error, then it still lists what was removed under the notice, as when it was opened', async () => {
      const { reference } = await approvedNotice(t.app, t.db, [pageUrl], clock.now());
      const opened = await request(t.app).get(`/counter-notice?notice=${reference}`).expect(200);
      const listed = /<p>Removed under this notice:<\/p>\s*<ul>[\s\S]*?<\/ul>/.exec(opened.text)![0];
      expect(listed).toContain('Tides');
      const res = await request(t.app)
        .post('/counter-notice')
        .type('form')
        .send(form(reference, [pageUrl], { signature: 'Someone Else' }))
        .expect(422);
      expect(res.text).toContain(listed);
      // A reference that names no counterable notice lists nothing.
      const unknown = await request(t.app)
        .post('/counter-notice')
        .type('form')
        .send(form('TD-999999', [pageUrl]))
        .expect(422);
      expect(unknown.text).not.toContain('Removed under this notice');
    });

    it.each(missing)(
      'when %s is missing or malformed in the API, then 422 with errors[] naming it and nothing changed',
      async (field, over) => {
        const { reference } = await approvedNotice(t.app, t.db, [pageUrl], clock.now());
        const res = await request(t.app)
          .post('/api/v1/counter-notices')
          .send(counter(reference, [pageUrl], over))
          .expect(422);
        expect(res.body.errors.some((e: { field: string }) => e.field === field)).toBe(true);
        expect((await noticeRow(reference)).status).toBe('approved');
        expect(await count('counter_notices')).toBe(0);
      },
    );

    it('when the notice is unknown, then a clear error on the notice field and nothing stored', async () => {
      const api = await request(t.app)
        .post('/api/v1/counter-notices')
        .send(counter('TD-999999', [pageUrl]))
        .expect(422);
      expect(api.body.errors).toEqual([{ field: 'notice', message: expect.stringContaining('There is no takedown notice TD-999999') }]);
      const page = await request(t.app)
        .post('/counter-notice')
        .type('form')
        .send(form('TD-999999', [pageUrl]))
        .expect(422);
      expect(page.text).toMatch(/id="notice-error">There is no takedown notice TD-999999/);
      await request(t.app).get('/counter-notice?notice=TD-999999').expect(404);
      expect(await count('counter_notices')).toBe(0);
    });

    it('when the notice is not approved, then 409 saying why, and nothing changed', async () => {
      const { reference } = await submitNoticeFor(t.app, [pageUrl]);
      const api = await request(t.app)
        .post('/api/v1/counter-notices')
        .send(counter(reference, [pageUrl]))
        .expect(409);
      expect(api.body.errors[0]).toEqual({ field: 'notice', message: expect.stringContaining('has not been decided yet') });
      const page = await request(t.app)
        .post('/counter-notice')
        .type('form')
        .send(form(reference, [pageUrl]))
        .expect(409);
      expect(page.text).toContain('has not been decided yet');
      expect((await noticeRow(reference)).status).toBe('pending');
      expect(await count('counter_notices')).toBe(0);
      expect(await count(`audit_events WHERE action LIKE 'counter_notice.%'`)).toBe(0);
    });

    it('when a notice was already countered, then a second counter-notice is refused with 409', async () => {
      const { reference } = await approvedNotice(t.app, t.db, [pageUrl], clock.now());
      await request(t.app)
        .post('/api/v1/counter-notices')
        .send(counter(reference, [pageUrl]))
        .expect(201);
      const again = await request(t.app)
        .post('/api/v1/counter-notices')
        .send(counter(reference, [pageUrl]))
        .expect(409);
      expect(again.body.errors[0].message).toContain('already been received');
      expect(await count('counter_notices')).toBe(1);
    });

    it('when a URL was not removed by that notice, then 422 on removedUrls naming it, and nothing changed', async () => {
      const other = await makeItem(t.db, source, { title: 'Currents' });
      const { reference } = await approvedNotice(t.app, t.db, [pageUrl], clock.now());
      const res = await request(t.app)
        .post('/api/v1/counter-notices')
        .send(counter(reference, [pageUrl, `${BASE}/items/${other.slug}`]))
        .expect(422);
      expect(res.body.errors).toEqual([
        { field: 'removedUrls', message: expect.stringContaining(`${BASE}/items/${other.slug} was not removed under notice ${reference}`) },
      ]);
      expect((await noticeRow(reference)).status).toBe('approved');
    });
  });

  describe('restoration', () => {
    it('when the restore date comes with no court action, then the job restores the item (200, feed, sitemap), closes the notice and emails the complainant and the source; before it, nothing', async () => {
      const { reference } = await approvedNotice(t.app, t.db, [pageUrl], clock.now());
      await request(t.app)
        .post('/api/v1/counter-notices')
        .send(counter(reference, [pageUrl], { email: 'grace@elsewhere.example' }))
        .expect(201);
      await worker.drain();
      sink.clear();

      clock.set(new Date('2026-12-09T23:59:59Z'));
      expect(await restoreDueCounterNotices(t)).toBe(0);
      await request(t.app).get(`/items/${item.slug}`).expect(451);
      expect((await noticeRow(reference)).status).toBe('countered');

      clock.set(new Date('2026-12-10T00:00:00Z'));
      // Two instances at once: exactly one restores it.
      const runs = await Promise.all([restoreDueCounterNotices(t), restoreDueCounterNotices(t)]);
      expect(runs[0] + runs[1]).toBe(1);

      await request(t.app).get(`/items/${item.slug}`).expect(200);
      expect((await request(t.app).get('/feed.xml').expect(200)).text).toContain(item.slug);
      expect((await request(t.app).get('/sitemap.xml').expect(200)).text).toContain(item.slug);
      expect((await noticeRow(reference)).status).toBe('restored');
      const targets = await t.db.query(`SELECT outcome FROM notice_targets`);
      expect(targets).toEqual([{ outcome: 'restored' }]);
      expect((await t.db.query(`SELECT status FROM counter_notices`))[0].status).toBe('restored');
      expect(await count(`audit_events WHERE action = 'notice.restored'`)).toBe(1);
      expect(await count(`audit_events WHERE action = 'item.restored'`)).toBe(1);

      await worker.drain();
      expect(textOf(COMPLAINANT.email, /Material restored/)).toContain(pageUrl);
      expect(textOf('editor@harbourgazette.example', /Material restored/)).toContain(pageUrl);
      expect(textOf('grace@elsewhere.example', /Material restored/)).toContain(pageUrl);
      expect(await restoreDueCounterNotices(t)).toBe(0);
    });

    it('when a moderator records a court action before the date, then the removal is upheld, nothing is restored, and every party is emailed', async () => {
      const { reference, statusUrl } = await approvedNotice(t.app, t.db, [pageUrl], clock.now());
      await request(t.app)
        .post('/api/v1/counter-notices')
        .send(counter(reference, [pageUrl]))
        .expect(201);
      await worker.drain();
      sink.clear();
      const [{ id }] = await t.db.query(`SELECT id FROM counter_notices`);

      const agent = await signedInAgent(t.app, 'mod@desk.example');
      const list = await agent.get('/counter-notices').expect(200);
      expect(list.text).toContain(reference);
      expect(list.text).toContain('2026-12-10');
      const csrf = await csrfOf(agent, '/counter-notices');
      // No description: refused, nothing changed.
      await agent.post(`/counter-notices/${id}/court-action`).type('form').send({ _csrf: csrf, note: '' }).expect(422);
      expect((await noticeRow(reference)).status).toBe('countered');

      await agent
        .post(`/counter-notices/${id}/court-action`)
        .type('form')
        .send({ _csrf: csrf, note: 'Complaint filed 2026-12-01, D. Md., case 1:26-cv-01234' })
        .expect(303);
      expect((await noticeRow(reference)).status).toBe('upheld');
      const [cn] = await t.db.query(`SELECT status, court_action FROM counter_notices`);
      expect(cn).toMatchObject({
        status: 'upheld',
        court_action: { note: expect.stringContaining('1:26-cv-01234'), recordedBy: 'mod@desk.example' },
      });
      const [event] = await t.db.query(`SELECT actor_type, actor_label FROM audit_events WHERE action = 'notice.upheld'`);
      expect(event).toEqual({ actor_type: 'user', actor_label: 'mod@desk.example' });

      clock.set(new Date('2026-12-11T00:00:00Z'));
      expect(await restoreDueCounterNotices(t)).toBe(0);
      await request(t.app).get(`/items/${item.slug}`).expect(451);

      await worker.drain();
      for (const to of [COMPLAINANT.email, 'grace@harbourgazette.example', 'editor@harbourgazette.example']) {
        expect(textOf(to, /Removal upheld/)).toContain('1:26-cv-01234');
      }
      expect((await request(t.app).get(statusUrl.slice(BASE.length)).expect(200)).text).toContain(
        'The removal was upheld after a court action.',
      );

      // A second record, by the API twin: 409, nothing changes.
      const mod = (await t.db.query(`SELECT * FROM users WHERE email = 'mod@desk.example'`))[0];
      const token = await tokenFor(t.db, mod);
      const again = await request(t.app)
        .post(`/api/v1/counter-notices/${id}/court-action`)
        .set('Authorization', `Bearer ${token}`)
        .send({ note: 'Another filing' })
        .expect(409);
      expect(again.body.errors[0].message).toContain('already recorded');
    });

    it('when the court-action API is called without a token, then 401', async () => {
      await request(t.app)
        .post('/api/v1/counter-notices/00000000-0000-0000-0000-000000000000/court-action')
        .send({ note: 'x' })
        .expect(401);
    });
  });
});
