import { Writable } from 'node:stream';
import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../src/app';
import { createMailWorker, MailWorker } from '../../src/modules/mail';
import { createMetricsRegistry } from '../../src/shared/metrics';
import { createLogger } from '../../src/shared/logger';
import { COMPLAINANT } from '../support/approve-fixture';
import { createTestContext, TestContext } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { createStaff, csrfFrom, PASSWORD, tokenFor } from '../support/staff';

/**
 * A private complainant with unmistakable personal data sends notices through the form and the
 * API; staff sign in, decide, export; the mail worker sends (one address bounces). Then every
 * public page is read, and everything the app logged (at debug level) is searched: the personal
 * data is on none of the public pages where SPEC §10 says it is redacted, and the logs hold no
 * email, phone, address, name, password, cookie, CSRF token, bearer token or status token.
 */
const PERSON = {
  name: 'Zebedee Quuxworth-Farquhar',
  email: 'zebedee.quux@private-mail.example',
  phone: '+44 7700 900123',
  address: '99 Nowhere Lane, Quuxtown QX1 2ZZ',
};
const PERSONAL = Object.values(PERSON);

describe('personal data: absent from public pages and from the logs', () => {
  let t: TestContext;
  let app: Express;
  let sink: SmtpSink;
  let worker: MailWorker;
  const logged: string[] = [];
  const secrets: string[] = [];
  let approvedRef: string;
  let otherStatusUrl: string;
  let removedSlug: string;
  let pendingRef: string;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestContext({ env: { SMTP_URL: sink.url, INTAKE_PER_HOUR: '1000' } });
    const capture = new Writable({
      write(chunk, _enc, done) {
        logged.push(String(chunk));
        done();
      },
    });
    const logger = createLogger('debug', capture);
    app = createApp({ ...t, logger, metrics: createMetricsRegistry() });
    worker = createMailWorker({ db: t.db, config: t.config, logger, clock: t.clock });

    const source = await makeSource(t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    const item = await makeItem(t.db, source);
    const other = await makeItem(t.db, source);
    removedSlug = item.slug;
    const pageUrl = (slug: string) => `http://localhost:3000/items/${slug}`;
    const common = {
      role: 'owner',
      country: 'GB',
      workDescription: 'My photograph of the harbour at dawn.',
      goodFaith: 'true',
      accuracy: 'true',
      signature: PERSON.name,
    };

    // Through the HTML form (as a browser sends it), and through the API.
    const form = await request(app)
      .post('/takedown')
      .type('form')
      .send({ ...PERSON, ...common, infringingUrls: pageUrl(item.slug) })
      .redirects(0);
    expect(form.status).toBe(303);
    const formStatusUrl = String(form.headers.location);
    approvedRef = /TD-\d+/.exec(formStatusUrl)![0];
    secrets.push(new URL(formStatusUrl, 'http://x').searchParams.get('token')!);
    const api = await request(app)
      .post('/api/v1/notices')
      .send({ ...PERSON, ...common, goodFaith: true, accuracy: true, infringingUrls: [pageUrl(other.slug)] })
      .expect(201);
    pendingRef = api.body.reference;
    secrets.push(new URL(api.body.statusUrl).searchParams.get('token')!);
    // Another complainant's notice, whose status page anyone holding its link may see.
    const another = await request(app)
      .post('/api/v1/notices')
      .send({ ...COMPLAINANT, infringingUrls: [pageUrl(other.slug)] })
      .expect(201);
    otherStatusUrl = new URL(another.body.statusUrl).pathname + new URL(another.body.statusUrl).search;
    secrets.push(new URL(another.body.statusUrl).searchParams.get('token')!);

    // Staff: sign in, claim, note, approve; an admin exports the full record; an API token is used.
    const mod = await createStaff(t.db, { role: 'moderator' });
    const admin = await createStaff(t.db, { role: 'admin' });
    const agent = request.agent(app);
    const login = await agent.get('/login').expect(200);
    const signIn = await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(login.text), email: mod.email, password: PASSWORD, next: '/staff' })
      .expect(303);
    secrets.push(
      ...([] as string[])
        .concat(signIn.headers['set-cookie'] ?? [])
        .map((c) => decodeURIComponent(c.split(';')[0].split('=').slice(1).join('='))),
    );
    const page = await agent.get(`/notices/${approvedRef}`).expect(200);
    const csrf = csrfFrom(page.text);
    secrets.push(csrf, PASSWORD);
    await agent.post(`/notices/${approvedRef}/claim`).type('form').send({ _csrf: csrf }).expect(303);
    await agent.post(`/notices/${approvedRef}/note`).type('form').send({ _csrf: csrf, text: 'Checked the photograph.' }).expect(303);
    const fresh = await agent.get(`/notices/${approvedRef}`).expect(200);
    const version = /name="version" value="(\d+)"/.exec(fresh.text)?.[1];
    await agent
      .post(`/notices/${approvedRef}/approve`)
      .type('form')
      .send({ _csrf: csrf, reason: 'The photograph is theirs.', ...(version ? { version } : {}) })
      .expect(303);
    // A wrong password once (the failed sign-in is logged and audited, the password must not be).
    const again = request.agent(app);
    const l2 = await again.get('/login').expect(200);
    await again
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(l2.text), email: admin.email, password: 'wrong-password-Sekr1t!' })
      .expect(401);
    secrets.push('wrong-password-Sekr1t!');
    const token = await tokenFor(t.db, admin);
    secrets.push(token);
    await request(app).get(`/api/v1/notices/${pendingRef}`).set('Authorization', `Bearer ${token}`).expect(200);
    await request(app).get('/api/v1/audit/exports/notices?full=true').set('Authorization', `Bearer ${token}`).expect(200);
    await request(app).get(`/api/v1/notices/${pendingRef}?token=${secrets[1]}`).expect(200);

    // Mail goes out; the complainant's address bounces once (its SMTP error names the address).
    sink.rejectRecipients([PERSON.email]);
    await worker.drain();
  });
  afterAll(async () => {
    await worker.close();
    await sink.stop();
    await t.close();
  });

  it('when the notices were decided, then the complainant was really emailed (the data went through the system)', () => {
    expect(sink.messages.length).toBeGreaterThan(0);
    expect(logged.length).toBeGreaterThan(10);
    // The bounce was logged (its SMTP reply names the address: the log line must not).
    expect(logged.some((l) => l.includes('email failed'))).toBe(true);
  });

  it("when every public page is read, then none shows the private complainant's name, email, phone or address", async () => {
    const pages = [
      `/items/${removedSlug}`,
      '/',
      '/feed.xml',
      '/sitemap.xml',
      '/transparency',
      `/transparency/notices/${approvedRef}`,
      `/transparency/notices/${pendingRef}`,
      '/dmca',
      '/takedown',
      `/takedown?url=${encodeURIComponent(`http://localhost:3000/items/${removedSlug}`)}`,
      otherStatusUrl,
      `/counter-notice?notice=${approvedRef}`,
      '/opt-out',
      '/api/v1/openapi.json',
    ];
    const problems: string[] = [];
    for (const path of pages) {
      for (const accept of ['text/html', 'application/json']) {
        const res = await request(app).get(path).set('Accept', accept);
        expect([path, res.status < 500]).toEqual([path, true]);
        for (const secret of PERSONAL) if (res.text.includes(secret)) problems.push(`${path} (${accept}, ${res.status}) shows ${secret}`);
      }
    }
    const removed = await request(app).get(`/items/${removedSlug}`).expect(451);
    expect(removed.text).toContain('[private]');
    const record = await request(app).get(`/transparency/notices/${approvedRef}`).set('Accept', 'application/json').expect(200);
    expect(JSON.stringify(record.body)).toContain('[private]');
    expect(problems).toEqual([]);
  });

  it('when the redacted export and the public API are read, then they hold none of it either', async () => {
    const token = secrets.find((s) => s.startsWith('tdk_'))!;
    const redacted = await request(app).get('/api/v1/audit/exports/notices').set('Authorization', `Bearer ${token}`).expect(200);
    const dsa = await request(app).get('/api/v1/audit/exports/decisions').set('Authorization', `Bearer ${token}`).expect(200);
    for (const secret of PERSONAL) {
      expect(redacted.text).not.toContain(secret);
      expect(dsa.text).not.toContain(secret);
    }
  });

  it('when everything the app logged is searched, then no personal data, password, cookie, CSRF token, API token or status token is there', () => {
    const text = logged.join('');
    const found = [...PERSONAL, ...secrets.filter((s) => s && s.length >= 8)].filter((s) => text.includes(s));
    expect(found).toEqual([]);
    // Staff and complainant addresses alike: no email address at all in operators' logs.
    expect(text.match(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g) ?? []).toEqual([]);
  });
});
