import request from 'supertest';
import { restoreDueCounterNotices } from '../../src/modules/counter-notices';
import type { MailWorker } from '../../src/modules/mail';
import { approveNotice, claimNotice, markSpam, rejectNotice } from '../../src/modules/review';
import { ManualClock, systemClock } from '../../src/shared/clock';
import { COMPLAINANT } from '../support/approve-fixture';
import type { TestContext } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { AGENT, completeLetter, rawEmail } from '../support/inbound-mail';
import { createMailingContext, MailingContext } from '../support/mailing';
import { PortalAgent, portalAgent, portalToken, readySubmitter } from '../support/portal';
import type { SmtpSink } from '../support/smtp-sink';
import { createStaff, csrfFrom, csrfOf, signedInAgent, tokenFor } from '../support/staff';

const ADA = COMPLAINANT.email;
const BASE = 'http://localhost:3000';
const REASON = 'Most of your notices named articles you do not own.';
/** A small valid PDF: header, one empty page, trailer. */
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
  'latin1',
);

describe('trusted flaggers and misuse (DSA Arts. 22, 23): accuracy, trust, warn, suspend, lift, authorisation letters', () => {
  const clock = new ManualClock(new Date('2026-12-01T10:00:00Z'));
  let m: MailingContext;
  let t: TestContext;
  let sink: SmtpSink;
  let worker: MailWorker;
  let pages: string[];
  let admin: Awaited<ReturnType<typeof signedInAgent>>;
  let adminToken: string;
  let modId: string;

  const rows = (sql: string, params: unknown[] = []) => t.db.query(sql, params);
  const submitterId = async (email = ADA) => (await rows(`SELECT id FROM submitters WHERE email = $1`, [email]))[0].id as string;
  const eventsOf = async (id: string) =>
    rows(`SELECT action, actor_label, details FROM audit_events WHERE subject_type = 'submitter' AND subject_id = $1 ORDER BY id`, [id]);
  const publicApi = (urls: string[], email = ADA) =>
    request(t.app)
      .post('/api/v1/notices')
      .send({ ...COMPLAINANT, email, infringingUrls: urls });
  const moderator = () => ({ id: modId, email: 'mod@desk.example', role: 'moderator' as const });
  const deps = () => ({ db: t.db, clock, config: t.config });
  const adminPost = async (path: string, body: Record<string, string> = {}) => {
    const csrf = await csrfOf(admin, '/submitters');
    return admin
      .post(path)
      .type('form')
      .send({ _csrf: csrf, ...body });
  };

  /** A signed-in submitter with a profile, standing statements and an API token, all through the portal. */
  const readyWithToken = async (email: string): Promise<{ agent: PortalAgent; token: string }> => {
    const a = await readySubmitter(t.app, worker, sink, email);
    return { agent: a, token: await portalToken(a, 'tests') };
  };

  beforeAll(async () => {
    m = await createMailingContext({
      clock,
      workerClock: systemClock,
      env: {
        INTAKE_PER_HOUR: '10000',
        SENDER_BURST: '1000',
        INBOUND_AUTH_DNS: 'off',
        DMCA_AGENT_EMAIL: AGENT,
        AUTHORISATION_LETTER_MAX_BYTES: '4096',
      },
    });
    ({ t, sink, worker } = m);
  });
  afterAll(() => m.close());
  beforeEach(async () => {
    await m.reset();
    clock.set(new Date('2026-12-01T10:00:00Z'));
    const source = await makeSource(t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    pages = [];
    for (let i = 0; i < 8; i++) pages.push(`${BASE}/items/${(await makeItem(t.db, source)).slug}`);
    const a = await createStaff(t.db, { role: 'admin', email: 'admin@desk.example' });
    modId = (await createStaff(t.db, { role: 'moderator', email: 'mod@desk.example' })).id;
    adminToken = await tokenFor(t.db, a);
    admin = await signedInAgent(t.app, a.email);
  });

  it('when notices from a submitter were approved, partly approved, rejected, marked spam and restored after a counter-notice, then /submitters and the detail page show each figure and the accuracy', async () => {
    await portalAgent(t.app, worker, sink, ADA);
    await portalAgent(t.app, worker, sink, 'quiet@elsewhere.example');
    const send = async (urls: string[]) => (await publicApi(urls).expect(201)).body.reference as string;
    const [approved, partly, rejected, spam, restored] = [
      await send([pages[0]]),
      await send([pages[1], pages[2]]),
      await send([pages[3]]),
      await send([pages[4]]),
      await send([pages[5]]),
    ];
    await send([pages[6]]); // still open
    await publicApi([pages[7]], 'someone@else.example').expect(201); // another sender: not counted
    const actor = moderator();
    for (const reference of [approved, partly, rejected, spam, restored]) await claimNotice(deps(), { reference, actor });
    await approveNotice(deps(), { reference: approved, actor });
    await approveNotice(deps(), { reference: partly, actor, targets: [pages[1]] });
    await rejectNotice(deps(), { reference: rejected, actor, reason: 'The article named is not the one on our page.' });
    await markSpam(deps(), { reference: spam, actor });
    await approveNotice(deps(), { reference: restored, actor });
    await request(t.app)
      .post('/api/v1/counter-notices')
      .send({
        notice: restored,
        name: 'Grace Hopper',
        email: 'grace@harbourgazette.example',
        phone: '+1 202 555 0142',
        address: '1 Harbour Street, Annapolis, MD 21401',
        country: 'US',
        removedUrls: [pages[5]],
        explanation: 'I wrote this article myself; the notice names the wrong work.',
        mistake: true,
        consent: true,
        signature: 'Grace Hopper',
      })
      .expect(201);
    clock.set(new Date('2027-01-20T10:00:00Z'));
    expect(await restoreDueCounterNotices({ ...t, clock })).toBe(1);

    const list = await admin.get('/submitters').expect(200);
    const row = new RegExp(`<tr>\\s*<td><a href="/submitters/[^"]+">${ADA}</a>[\\s\\S]*?</tr>`).exec(list.text)![0];
    const cells = [...row.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((c) => c[1].replace(/<[^>]+>/g, '').trim());
    // Submitter, standing, notices (open), approved, partly, rejected, spam, restored, accuracy (2 right of 5 decided).
    expect(cells.slice(2)).toEqual(['6 (1 open)', '1', '1', '1', '1', '1', '40 %']);
    expect(list.text).toContain('quiet@elsewhere.example');
    expect(list.text).not.toContain('someone@else.example');
    // Filters: by words, and by standing.
    const found = await admin.get('/submitters?q=ANALYTICAL').expect(200);
    expect(found.text).toContain(ADA);
    expect(found.text).not.toContain('quiet@elsewhere.example');
    expect((await admin.get('/submitters?show=trusted').expect(200)).text).not.toContain(ADA);

    const detail = await admin.get(`/submitters/${await submitterId()}`).expect(200);
    expect(detail.text).toMatch(/Restored after counter-notice<\/th><td>1<\/td>/);
    expect(detail.text).toContain('40 % of decided notices were right');
    expect(detail.text).toContain(restored);
  });

  it('when an admin warns a submitter, then the email with the message reaches them and the warning is audited; a too-short warning is 422 next to the field and sends nothing', async () => {
    await portalAgent(t.app, worker, sink, ADA);
    const id = await submitterId();
    sink.clear();
    const short = await adminPost(`/submitters/${id}/warn`, { message: 'Stop.' }).then((r) => r);
    expect(short.status).toBe(422);
    expect(short.text).toMatch(/<p class="field-error" id="message-error">Write what the submitter did wrong/);
    expect(await rows(`SELECT id FROM outbound_emails WHERE template = 'submitter-warning'`)).toHaveLength(0);

    const res = await adminPost(`/submitters/${id}/warn`, { message: 'Three of your last five notices named articles you do not own.' });
    expect(res.status).toBe(303);
    await worker.drain();
    const [mail] = sink.to(ADA).filter((x) => /warning about the notices/i.test(x.parsed.subject ?? ''));
    expect(mail.parsed.text).toContain('Three of your last five notices named articles you do not own.');
    expect(mail.parsed.text).toContain('Art. 23');
    const events = await eventsOf(id);
    expect(events.at(-1)).toMatchObject({
      action: 'submitter.warned',
      actor_label: 'admin@desk.example',
      details: { email: ADA, message: 'Three of your last five notices named articles you do not own.' },
    });
  });

  it('when a submitter is suspended, then the form, the public API, the portal, the token API, batches and email all refuse their notices saying until when and why; lifting it takes them again', async () => {
    const { agent, token } = await readyWithToken(ADA);
    const id = await submitterId();
    // A moderator may not suspend; bad input is 422 next to the fields.
    const mod = await signedInAgent(t.app, 'mod@desk.example');
    const modCsrf = await csrfOf(mod, '/staff');
    expect((await mod.post(`/submitters/${id}/suspend`).type('form').send({ _csrf: modCsrf, days: '30', reason: REASON })).status).toBe(
      403,
    );
    const bad = await adminPost(`/submitters/${id}/suspend`, { days: '0', reason: 'no' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('id="days-error"');
    expect(bad.text).toContain('id="reason-error"');
    sink.clear();

    expect((await adminPost(`/submitters/${id}/suspend`, { days: '30', reason: REASON })).status).toBe(303);
    const until = '2026-12-31T10:00:00.000Z';
    const [s] = await rows(`SELECT suspended_until, suspension_reason FROM submitters WHERE id = $1`, [id]);
    expect(s).toEqual({ suspended_until: new Date(until), suspension_reason: REASON });
    expect((await eventsOf(id)).at(-1)).toMatchObject({
      action: 'submitter.suspended',
      actor_label: 'admin@desk.example',
      details: { days: 30, after: { suspendedUntil: until, reason: REASON } },
    });
    await worker.drain();
    const [mail] = sink.to(ADA).filter((x) => /suspended until/i.test(x.parsed.subject ?? ''));
    expect(mail.parsed.text).toContain(REASON);
    const saying = new RegExp(`until ${until.replace(/\./g, '\\.')} because: ${REASON.replace(/\./g, '\\.')}`);

    // The public form, with their address: the form again, 403, with the message.
    const form = await request(t.app)
      .post('/takedown')
      .type('form')
      .send({ ...COMPLAINANT, goodFaith: 'true', accuracy: 'true', infringingUrls: pages[0] });
    expect(form.status).toBe(403);
    expect(form.text).toContain('Your notices are refused for now.');
    expect(form.text).toMatch(saying);
    expect(form.text).toContain('name="workDescription"');
    // The public API, with their address.
    const api = await publicApi([pages[0]]).expect(403);
    expect(api.body.errors[0].message).toMatch(saying);
    expect(api.body.details).toEqual({ suspendedUntil: until, reason: REASON });
    // The portal: the list and the form say so before anything is sent; sending is 403.
    expect((await agent.get('/portal').expect(200)).text).toMatch(saying);
    const page = await agent.get('/portal/notices/new').expect(200);
    expect(page.text).toMatch(saying);
    const portal = await agent
      .post('/portal/notices/new')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), name: 'Ada Lovelace', role: 'owner', address: '12 Marylebone Road, London', country: 'GB' })
      .send({ workDescription: 'My article "Notes on the Engine".', infringingUrls: pages[0] });
    expect(portal.status).toBe(403);
    expect(portal.text).toMatch(saying);
    // Their token, on notices and batches.
    const viaToken = await request(t.app)
      .post('/api/v1/notices')
      .set('Authorization', `Bearer ${token}`)
      .send({
        ...COMPLAINANT,
        email: undefined,
        goodFaith: undefined,
        accuracy: undefined,
        signature: undefined,
        infringingUrls: [pages[0]],
      })
      .expect(403);
    expect(viaToken.body.errors[0].message).toMatch(saying);
    const batch = await request(t.app)
      .post('/api/v1/batches')
      .set('Authorization', `Bearer ${token}`)
      .send({ works: [{ description: 'Notes on the Engine', infringingUrls: [pages[0]] }] })
      .expect(403);
    expect(batch.body.errors[0].message).toMatch(saying);
    // Email to the designated agent from their address: read, and ignored with the reason.
    const inbound = await request(t.app)
      .post('/api/v1/inbound-emails')
      .set('Authorization', `Bearer ${adminToken}`)
      .set('Content-Type', 'message/rfc822')
      .send(rawEmail({ body: completeLetter([pages[0]]) }))
      .expect(202);
    const [email] = await rows(`SELECT status, reason, notice_id FROM inbound_emails WHERE id = $1`, [inbound.body.id]);
    expect(email.status).toBe('ignored');
    expect(email.notice_id).toBeNull();
    expect(email.reason).toMatch(saying);
    expect(await rows(`SELECT id FROM notices`)).toHaveLength(0);
    expect(await rows(`SELECT id FROM batches`)).toHaveLength(0);

    // Lifted: the same notice is taken, on the form as on the API.
    expect((await adminPost(`/submitters/${id}/lift`)).status).toBe(303);
    expect(await rows(`SELECT suspended_until, suspension_reason FROM submitters WHERE id = $1`, [id])).toEqual([
      { suspended_until: null, suspension_reason: null },
    ]);
    expect((await eventsOf(id)).at(-1)).toMatchObject({
      action: 'submitter.suspension_lifted',
      details: { before: { suspendedUntil: until, reason: REASON } },
    });
    await publicApi([pages[0]]).expect(201);
    expect((await agent.get('/portal/notices/new').expect(200)).text).not.toContain('refused');
    // Lifting again: nothing to lift, said plainly, nothing audited.
    const again = await adminPost(`/submitters/${id}/lift`);
    expect(again.status).toBe(303);
    expect((await admin.get(`/submitters/${id}`).expect(200)).text).toContain('This submitter is not suspended.');
    expect((await eventsOf(id)).filter((e: { action: string }) => e.action === 'submitter.suspension_lifted')).toHaveLength(1);
  });

  it('when an admin marks a submitter trusted, then their next notice leads the queue (before older and overdue ones), its statement of reasons and DSA statement say trusted_flagger; a stranger using their address gets no priority', async () => {
    const { token } = await readyWithToken(ADA);
    const id = await submitterId();
    const older = (await publicApi([pages[0]], 'other@else.example').expect(201)).body.reference;
    clock.set(new Date('2026-12-05T10:00:00Z')); // `older` is overdue now
    expect((await adminPost(`/submitters/${id}/trust`)).status).toBe(303);
    expect(await rows(`SELECT trusted FROM submitters WHERE id = $1`, [id])).toEqual([{ trusted: true }]);
    expect((await eventsOf(id)).at(-1)).toMatchObject({ action: 'submitter.trusted', details: { after: { trusted: true } } });

    const stranger = (await publicApi([pages[1]]).expect(201)).body.reference; // unproved address: no priority
    const trusted = (
      await request(t.app)
        .post('/api/v1/notices')
        .set('Authorization', `Bearer ${token}`)
        .send({
          ...COMPLAINANT,
          email: undefined,
          goodFaith: undefined,
          accuracy: undefined,
          signature: undefined,
          infringingUrls: [pages[2]],
        })
        .expect(201)
    ).body.reference;
    expect(await rows(`SELECT reference, source_type, queue_rank FROM notices ORDER BY reference`)).toEqual([
      { reference: older, source_type: 'notice', queue_rank: 1 },
      { reference: stranger, source_type: 'notice', queue_rank: 1 },
      { reference: trusted, source_type: 'trusted_flagger', queue_rank: 0 },
    ]);

    const queue = await request(t.app).get('/api/v1/notices').set('Authorization', `Bearer ${adminToken}`).expect(200);
    const refs = queue.body.notices.map((n: { reference: string }) => n.reference);
    expect(refs).toEqual([trusted, older, stranger]);
    const html = await admin.get('/queue').expect(200);
    expect(html.text.indexOf(trusted)).toBeLessThan(html.text.indexOf(older));
    expect(html.text).toContain('trusted flagger');

    const actor = moderator();
    await claimNotice(deps(), { reference: trusted, actor });
    await approveNotice(deps(), { reference: trusted, actor });
    const [n] = await rows(`SELECT statement_of_reasons FROM notices WHERE reference = $1`, [trusted]);
    expect(n.statement_of_reasons.source_type).toBe('trusted_flagger');
    const dsa = await request(t.app).get('/api/v1/audit/exports/decisions').set('Authorization', `Bearer ${adminToken}`).expect(200);
    const lines = dsa.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ puid: trusted, source_type: 'trusted_flagger' })]);

    // Untrusted again: the next notice takes its turn.
    expect((await adminPost(`/submitters/${id}/untrust`)).status).toBe(303);
    expect((await eventsOf(id)).at(-1)).toMatchObject({ action: 'submitter.untrusted' });
  });

  it('when a submitter uploads an authorisation letter, then a non-PDF is 422 and an oversized file 413 with the reason next to the field; a PDF is stored and audited, and only staff download it', async () => {
    const agent = await portalAgent(t.app, worker, sink, ADA);
    const id = await submitterId();
    const upload = async (content: Buffer, filename: string, type = 'application/pdf') => {
      const csrf = await csrfOf(agent, '/portal/profile');
      return agent.post('/portal/profile/letter').field('_csrf', csrf).attach('letter', content, { filename, contentType: type });
    };
    // A text file that calls itself a PDF.
    const fake = await upload(Buffer.from('This is not a PDF at all, whatever its name says.'), 'letter.pdf');
    expect(fake.status).toBe(422);
    expect(fake.text).toMatch(/id="letter-file-error">The file is not a PDF/);
    const big = await upload(Buffer.concat([PDF.subarray(0, 9), Buffer.alloc(5000, 32), PDF.subarray(9)]), 'big.pdf');
    expect(big.status).toBe(413);
    expect(big.text).toMatch(/id="letter-file-error">The letter is larger than/);
    expect(await rows(`SELECT id FROM authorisation_letters`)).toHaveLength(0);
    // Without its CSRF token: refused.
    const noCsrf = await agent
      .post('/portal/profile/letter')
      .attach('letter', PDF, { filename: 'letter.pdf', contentType: 'application/pdf' });
    expect(noCsrf.status).toBe(403);

    const ok = await upload(PDF, '../../Authorisation letter.pdf', 'application/octet-stream');
    expect(ok.status).toBe(303);
    const [stored] = await rows(`SELECT id, submitter_id, filename, size, content FROM authorisation_letters`);
    expect(stored).toMatchObject({ submitter_id: id, filename: 'Authorisation letter.pdf', size: PDF.length });
    expect(Buffer.compare(stored.content, PDF)).toBe(0);
    expect((await eventsOf(id)).at(-1)).toMatchObject({
      action: 'submitter.letter_uploaded',
      details: { letterId: stored.id, size: PDF.length },
    });
    expect((await agent.get('/portal/profile').expect(200)).text).toContain('Authorisation letter.pdf');

    // Staff (a moderator too) download it; the download is audited.
    const mod = await signedInAgent(t.app, 'mod@desk.example');
    const file = await mod
      .get(`/submitters/${id}/letter`)
      .buffer(true)
      .parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      });
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('application/pdf');
    expect(file.headers['content-disposition']).toMatch(/^attachment/);
    expect(Buffer.compare(file.body, PDF)).toBe(0);
    expect((await eventsOf(id)).at(-1)).toMatchObject({ action: 'submitter.letter_downloaded', actor_label: 'mod@desk.example' });
    // Not the submitter, not a stranger.
    expect((await agent.get(`/submitters/${id}/letter`)).status).toBe(303);
    expect((await request(t.app).get(`/submitters/${id}/letter`)).status).toBe(303);
    expect((await agent.get(`/portal/submitters/${id}/letter`)).status).toBe(404);
    // The admin page lists it.
    expect((await admin.get(`/submitters/${id}`).expect(200)).text).toContain(`/submitters/${id}/letter?letter=${stored.id}`);
  });
});
