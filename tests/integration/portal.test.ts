import request from 'supertest';
import type { MailWorker } from '../../src/modules/mail';
import { ManualClock, systemClock } from '../../src/shared/clock';
import { approveForTest, COMPLAINANT } from '../support/approve-fixture';
import type { TestContext } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createMailingContext, MailingContext } from '../support/mailing';
import { portalAgent, requestPortalLink, useLink } from '../support/portal';
import type { SmtpSink } from '../support/smtp-sink';
import { createStaff, csrfFrom, csrfOf, signedInAgent } from '../support/staff';

const RIGHTS = 'rights@analytical.example';

describe("rights holders' portal: sign-in by link, own notices, pre-filled notice form", () => {
  const clock = new ManualClock(new Date('2026-12-01T10:00:00Z'));
  let t: TestContext;
  let sink: SmtpSink;
  let worker: MailWorker;
  let mailing: MailingContext;
  let pageUrls: string[];

  const rows = (sql: string, params: unknown[] = []) => t.db.query(sql, params);
  const actions = async (like: string) =>
    (await rows(`SELECT action FROM audit_events WHERE action LIKE $1 ORDER BY id`, [like])).map((r: { action: string }) => r.action);
  const sendApi = (email: string, urls: string[]) =>
    request(t.app)
      .post('/api/v1/notices')
      .send({ ...COMPLAINANT, email, infringingUrls: urls })
      .expect(201)
      .then((r) => r.body.reference as string);

  beforeAll(async () => {
    // Outbox rows are due by the database's clock: the worker runs on real time; the app on the manual clock.
    mailing = await createMailingContext({
      clock,
      workerClock: systemClock,
      env: { REQUIRE_EMAIL_VERIFICATION: 'true', INTAKE_PER_HOUR: '10000' },
    });
    ({ t, sink, worker } = mailing);
  });
  afterAll(() => mailing.close());
  beforeEach(async () => {
    await mailing.reset();
    clock.set(new Date('2026-12-01T10:00:00Z'));
    const source = await makeSource(t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    const items = [await makeItem(t.db, source), await makeItem(t.db, source), await makeItem(t.db, source)];
    pageUrls = items.map((i) => `http://localhost:3000/items/${i.slug}`);
  });

  it('when an address uses its emailed link, then it is a submitter with a verified address, the link is spent and a second use is refused', async () => {
    const agent = request.agent(t.app);
    const link = await requestPortalLink(t.app, worker, sink, 'Rights@Analytical.example', agent);
    // Only the hash of the token is stored; nothing is a submitter yet.
    const [stored] = await rows(`SELECT email, token_hash, used_at FROM submitter_sign_in_links`);
    expect(stored).toMatchObject({ email: RIGHTS, used_at: null });
    expect(link).not.toContain(stored.token_hash);
    expect(await rows(`SELECT * FROM submitters`)).toHaveLength(0);
    // Opening the link signs nobody in; the button does.
    await agent.get(link).expect(200);
    expect((await rows(`SELECT used_at FROM submitter_sign_in_links`))[0].used_at).toBeNull();

    const res = await useLink(agent, link);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/portal');
    expect(String(res.headers['set-cookie'])).toMatch(/td\.portal=/);
    expect(String(res.headers['set-cookie'])).not.toMatch(/td\.sid=/);
    const [s] = await rows(`SELECT id, email, email_verified_at FROM submitters`);
    expect(s.email).toBe(RIGHTS);
    expect(s.email_verified_at).toEqual(clock.now());
    expect((await rows(`SELECT used_at FROM submitter_sign_in_links`))[0].used_at).toEqual(clock.now());
    expect(await actions('submitter.%')).toEqual(['submitter.sign_in_requested', 'submitter.created', 'submitter.signed_in']);
    const list = await agent.get('/portal').expect(200);
    expect(list.text).toContain('Your notices');
    expect(list.text).toContain(RIGHTS);

    // The same link again, in another browser: refused, and it signs nobody in.
    const other = request.agent(t.app);
    const again = await other.get(link);
    expect(again.status).toBe(410);
    expect(again.text).toContain('already used');
    const otherCsrf = csrfFrom((await other.get('/portal/login')).text);
    const forced = await other
      .post('/portal/login/link')
      .type('form')
      .send({ _csrf: otherCsrf, token: new URL(link, 'http://x').searchParams.get('token') });
    expect(forced.status).toBe(410);
    await other.get('/portal').redirects(0).expect(303);
  });

  it('when the link is used after 15 minutes, then it is refused as expired and nobody is signed in', async () => {
    const agent = request.agent(t.app);
    const link = await requestPortalLink(t.app, worker, sink, RIGHTS, agent);
    clock.set(new Date('2026-12-01T10:15:01Z'));
    const res = await agent.get(link);
    expect(res.status).toBe(410);
    expect(res.text).toContain('expired');
    expect(await rows(`SELECT * FROM submitters`)).toHaveLength(0);
    expect(await actions('submitter.signed_in')).toEqual([]);
  });

  it('when a known and an unknown address ask for a link, then the answer is the same page; a fourth request for one address in 15 minutes sends no fourth email', async () => {
    await sendApi(RIGHTS, [pageUrls[0]]);
    await portalAgent(t.app, worker, sink, RIGHTS); // known: has notices and a profile
    const ask = async (email: string) => {
      const agent = request.agent(t.app);
      const page = await agent.get('/portal/login').expect(200);
      return agent
        .post('/portal/login')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), email });
    };
    const known = await ask(RIGHTS);
    const unknown = await ask('nobody@unknown.example');
    expect(known.status).toBe(unknown.status);
    const main = (html: string, email: string) => /<main[\s\S]*<\/main>/.exec(html)![0].replace(email, 'ADDRESS');
    expect(main(known.text, RIGHTS)).toEqual(main(unknown.text, 'nobody@unknown.example'));

    await ask('flood@victim.example');
    await ask('flood@victim.example');
    await ask('flood@victim.example');
    const fourth = await ask('flood@victim.example');
    expect(main(fourth.text, 'flood@victim.example')).toEqual(main(unknown.text, 'nobody@unknown.example'));
    await worker.drain();
    expect(sink.to('flood@victim.example')).toHaveLength(3);
    expect(sink.to('nobody@unknown.example')).toHaveLength(1);
  });

  it('when signed in, then the list shows only notices from that address with per-URL outcomes, filters by status, and the CSV has one row per URL of those notices only', async () => {
    const mine = await sendApi(RIGHTS, [pageUrls[0], pageUrls[1], 'https://elsewhere.example/not-here']);
    const mineToo = await sendApi(RIGHTS, [pageUrls[2]]);
    const theirs = await sendApi('someone-else@other.example', [pageUrls[2]]);
    await rows(`UPDATE notices SET status = 'pending' WHERE reference = ANY($1)`, [[mine, mineToo]]);
    await approveForTest(t.db, mine, clock.now());
    const agent = await portalAgent(t.app, worker, sink, RIGHTS);

    const list = await agent.get('/portal').expect(200);
    expect(list.text).toContain(mine);
    expect(list.text).toContain(mineToo);
    expect(list.text).not.toContain(theirs);
    expect(list.text).toMatch(/3: 2 removed · 1 not on this site/);

    const approvedOnly = await agent.get('/portal?status=approved').expect(200);
    expect(approvedOnly.text).toContain(mine);
    expect(approvedOnly.text).not.toContain(mineToo);

    const csv = await agent.get('/portal/notices.csv').expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.text.trim().split(/\r?\n/);
    expect(lines[0]).toBe('reference,status,claim_type,submitted_at,decided_at,url,on_this_site,outcome');
    expect(
      lines
        .slice(1)
        .map((l) => l.split(',')[0])
        .sort(),
    ).toEqual([mine, mine, mine, mineToo].sort());
    expect(lines.find((l) => l.includes('not-here'))).toMatch(/,no,not_found$/);

    const page = await agent.get(`/portal/notices/${mine}`).expect(200);
    expect(page.text).toContain(pageUrls[0]);
    expect(page.text).toContain('removed');
    // Someone else's notice is as unknown as one that does not exist.
    await agent.get(`/portal/notices/${theirs}`).expect(404);
    await agent.get('/portal/notices/TD-999999').expect(404);
  });

  it('when a submitter saves a profile and sends a notice from the pre-filled form, then it enters the queue verified, with no verification link, and both are audited', async () => {
    const agent = await portalAgent(t.app, worker, sink, RIGHTS);
    const profile = {
      name: 'Ada Lovelace',
      organization: 'Analytical Press Ltd',
      role: 'agent',
      rightsOwners: 'Babbage Estate\nEngine Works',
      phone: '+44 20 7946 0000',
      address: '12 Marylebone Road, London',
      country: 'gb',
    };
    const csrf = await csrfOf(agent, '/portal/profile');
    await agent
      .post('/portal/profile')
      .type('form')
      .send({ _csrf: csrf, ...profile })
      .expect(303);
    const [s] = await rows(`SELECT name, organization, role, rights_owners, country FROM submitters`);
    expect(s).toEqual({
      name: 'Ada Lovelace',
      organization: 'Analytical Press Ltd',
      role: 'agent',
      rights_owners: ['Babbage Estate', 'Engine Works'],
      country: 'GB',
    });
    const [audit] = await rows(`SELECT details FROM audit_events WHERE action = 'submitter.profile_updated'`);
    expect(audit.details.after).toMatchObject({ name: 'Ada Lovelace', rightsOwners: ['Babbage Estate', 'Engine Works'] });

    const form = await agent.get('/portal/notices/new').expect(200);
    expect(form.text).toContain('value="Ada Lovelace"');
    expect(form.text).toContain('value="Babbage Estate"');
    expect(form.text).toMatch(/<option value="GB" selected>/);
    expect(form.text).not.toMatch(/name="email"/);

    // Bad input: 422, the field's error, nothing written.
    const bad = await agent
      .post('/portal/notices/new')
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        name: 'Ada Lovelace',
        role: 'agent',
        rightsOwner: 'Babbage Estate',
        address: '12 Marylebone Road, London',
        country: 'GB',
        workDescription: 'My article "Notes on the Engine".',
        infringingUrls: 'not a url',
        goodFaith: 'true',
        accuracy: 'true',
        signature: 'Ada Lovelace',
      });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('contains spaces or characters a URL cannot have');
    expect(await rows(`SELECT id FROM notices`)).toHaveLength(0);

    const sent = await agent
      .post('/portal/notices/new')
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        name: 'Ada Lovelace',
        organization: 'Analytical Press Ltd',
        role: 'agent',
        rightsOwner: 'Babbage Estate',
        address: '12 Marylebone Road, London',
        country: 'GB',
        workDescription: 'My article "Notes on the Engine".',
        infringingUrls: pageUrls[0],
        goodFaith: 'true',
        accuracy: 'true',
        signature: 'Ada Lovelace',
        claimType: 'copyright',
        email: 'spoofed@evil.example',
      })
      .expect(303);
    const [n] = await rows(`SELECT reference, status, email, email_verified_at, queued_at FROM notices`);
    expect(sent.headers.location).toBe(`/portal/notices/${n.reference}`);
    expect(n).toMatchObject({ status: 'pending', email: RIGHTS, email_verified_at: clock.now(), queued_at: clock.now() });
    const [submitted] = await rows(`SELECT details FROM audit_events WHERE action = 'notice.submitted'`);
    expect(submitted.details).toMatchObject({ portal: true, status: 'pending' });
    await worker.drain();
    const ack = sink.to(RIGHTS).find((m) => (m.parsed.subject ?? '').includes(n.reference))!;
    expect(ack.parsed.text).not.toContain('/verify?token=');
    expect(sink.to('spoofed@evil.example')).toHaveLength(0);
    await agent.get(`/portal/notices/${n.reference}`).expect(200);
  });

  it('when a suspended submitter sends a notice, then it is 403 saying until when and why, and nothing is written', async () => {
    const agent = await portalAgent(t.app, worker, sink, RIGHTS);
    await rows(
      `UPDATE submitters SET suspended_until = '2026-12-31T00:00:00Z', suspension_reason = 'Repeated manifestly unfounded notices.'`,
    );
    const form = await agent.get('/portal/notices/new').expect(200);
    const res = await agent
      .post('/portal/notices/new')
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        name: 'Ada Lovelace',
        role: 'owner',
        address: '12 Marylebone Road, London',
        country: 'GB',
        workDescription: 'My article "Notes on the Engine".',
        infringingUrls: pageUrls[0],
        goodFaith: 'true',
        accuracy: 'true',
        signature: 'Ada Lovelace',
      });
    expect(res.status).toBe(403);
    expect(res.text).toContain('2026-12-31T00:00:00.000Z');
    expect(res.text).toContain('Repeated manifestly unfounded notices.');
    expect(await rows(`SELECT id FROM notices`)).toHaveLength(0);
  });

  it('when nobody is signed in to the portal (or only to the staff side), then portal pages go to the portal sign-in; a portal form without its CSRF token is 403', async () => {
    for (const path of ['/portal', '/portal/notices/new', '/portal/profile', '/portal/notices.csv']) {
      const res = await request(t.app).get(path).redirects(0).expect(303);
      expect(res.headers.location).toBe(`/portal/login?next=${encodeURIComponent(path)}`);
    }
    const admin = await createStaff(t.db, { role: 'admin' });
    const staff = await signedInAgent(t.app, admin.email);
    await staff.get('/staff').expect(200);
    expect((await staff.get('/portal').redirects(0)).status).toBe(303);

    // A portal session is no staff session either.
    const portal = await portalAgent(t.app, worker, sink, RIGHTS);
    const home = await portal.get('/staff').redirects(0);
    expect(home.status).toBe(303);
    expect(home.headers.location).toMatch(/^\/login/);

    const before = await rows(`SELECT count(*)::int AS n FROM audit_events`);
    const forged = await portal.post('/portal/profile').type('form').send({ name: 'Mallory' });
    expect(forged.status).toBe(403);
    const staffCsrf = await csrfOf(staff, '/staff');
    const wrong = await portal.post('/portal/profile').type('form').send({ _csrf: staffCsrf, name: 'Mallory' });
    expect(wrong.status).toBe(403);
    expect(await rows(`SELECT count(*)::int AS n FROM audit_events`)).toEqual(before);
    expect((await rows(`SELECT name FROM submitters`))[0].name).toBeNull();
  });

  it('when a submitter makes standing statements, then portal notices without statements or signature rely on them and record their date; making them again is a new version, withdrawing them brings the statements back to the form; all audited', async () => {
    const agent = await portalAgent(t.app, worker, sink, RIGHTS);
    let csrf = await csrfOf(agent, '/portal/profile');
    // Without the two statements: 422, nothing on file.
    const missing = await agent.post('/portal/statements').type('form').send({ _csrf: csrf, signature: 'Ada Lovelace', goodFaith: 'true' });
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('under penalty of perjury');
    expect(await rows(`SELECT * FROM standing_statements`)).toHaveLength(0);

    await agent
      .post('/portal/statements')
      .type('form')
      .send({ _csrf: csrf, signature: 'Ada Lovelace', goodFaith: 'true', accuracy: 'true' })
      .expect(303);
    const madeAt = clock.now();
    clock.set(new Date('2026-12-01T12:00:00Z'));

    const form = await agent.get('/portal/notices/new').expect(200);
    expect(form.text).toContain('Your standing statements of');
    expect(form.text).not.toMatch(/name="goodFaith"/);
    expect(form.text).not.toMatch(/name="signature"/);
    const notice = {
      name: 'Ada Lovelace',
      role: 'owner',
      address: '12 Marylebone Road, London',
      country: 'GB',
      workDescription: 'My article "Notes on the Engine".',
      infringingUrls: pageUrls[0],
    };
    // Another name than the one signed: refused, next to the name.
    const otherName = await agent
      .post('/portal/notices/new')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), ...notice, name: 'Charles Babbage' });
    expect(otherName.status).toBe(422);
    expect(otherName.text).toContain('the name you signed your standing statements with: Ada Lovelace');

    await agent
      .post('/portal/notices/new')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), ...notice })
      .expect(303);
    const [{ id: v1 }] = await rows(`SELECT id FROM standing_statements WHERE version = 1`);
    const [n] = await rows(
      `SELECT reference, statements_source, standing_statements_id, statements_at, signature, submitted_at, good_faith_statement FROM notices`,
    );
    expect(n).toMatchObject({
      statements_source: 'standing',
      standing_statements_id: v1,
      statements_at: madeAt,
      signature: 'Ada Lovelace',
      submitted_at: clock.now(),
    });
    expect(n.good_faith_statement).toMatch(/good faith belief/);
    const [submitted] = await rows(`SELECT details FROM audit_events WHERE action = 'notice.submitted'`);
    expect(submitted.details).toMatchObject({ statements: 'standing', statementsMadeAt: madeAt.toISOString() });
    await worker.drain();
    const ack = sink.to(RIGHTS).find((m) => (m.parsed.subject ?? '').includes(n.reference))!;
    expect(ack.parsed.text).toContain('Your standing statements of');

    // Again: version 2. Withdrawn: the form asks for statements and signature again.
    csrf = await csrfOf(agent, '/portal/profile');
    await agent
      .post('/portal/statements')
      .type('form')
      .send({ _csrf: csrf, signature: 'Ada Lovelace', goodFaith: 'true', accuracy: 'true' })
      .expect(303);
    await agent.post('/portal/statements/withdraw').type('form').send({ _csrf: csrf }).expect(303);
    expect(await rows(`SELECT version, withdrawn_at FROM standing_statements ORDER BY version`)).toEqual([
      { version: 1, withdrawn_at: null },
      { version: 2, withdrawn_at: clock.now() },
    ]);
    const plain = await agent.get('/portal/notices/new').expect(200);
    expect(plain.text).toMatch(/name="goodFaith"/);
    const without = await agent
      .post('/portal/notices/new')
      .type('form')
      .send({ _csrf: csrfFrom(plain.text), ...notice });
    expect(without.status).toBe(422);
    expect(await rows(`SELECT id FROM notices`)).toHaveLength(1);
    expect(await actions('submitter.statements_%')).toEqual([
      'submitter.statements_made',
      'submitter.statements_made',
      'submitter.statements_withdrawn',
    ]);
  });
});
