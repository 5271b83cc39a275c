import request from 'supertest';
import type { Item, Source } from '../../src/modules/items';
import { submitComplaint } from '../../src/modules/complaints';
import { approveNotice, claimNotice, rejectNotice } from '../../src/modules/review';
import { ManualClock, systemClock } from '../../src/shared/clock';
import { COMPLAINANT, submitNoticeFor } from '../support/approve-fixture';
import { makeItem, makeSource } from '../support/factories';
import { createMailingContext, MailingContext } from '../support/mailing';
import { portalAgent } from '../support/portal';
import { createStaff, csrfFrom, signedInAgent, tokenFor } from '../support/staff';

const BASE = 'http://localhost:3000';
const T0 = new Date('2026-06-01T09:00:00Z');
const GROUNDS = 'The article is my own reporting; the notice names a different work entirely.';

describe('complaints against decisions (SPEC §18, DSA Art. 20)', () => {
  const clock = new ManualClock(T0);
  let m: MailingContext;
  let source: Source;
  let item: Item;
  let deciderEmail: string;
  let deciderId: string;
  let reviewerEmail: string;

  beforeAll(async () => {
    m = await createMailingContext({
      clock,
      workerClock: systemClock,
      env: {
        INTAKE_PER_HOUR: '1000',
        ODS_BODIES: 'Appeals Centre Europe|https://www.appealscentre.eu;User Rights|https://user-rights.example',
      },
    });
  });
  afterAll(() => m.close());
  beforeEach(async () => {
    await m.reset();
    clock.set(T0);
    source = await makeSource(m.t.db, {
      name: 'Harbour Gazette',
      domains: ['harbourgazette.example'],
      contactEmail: 'editor@harbourgazette.example',
    });
    item = await makeItem(m.t.db, source, { title: 'Tides', originalUrl: 'https://harbourgazette.example/2026/05/tides' });
    const decider = await createStaff(m.t.db, { role: 'moderator', email: 'decider@desk.example' });
    deciderEmail = decider.email;
    deciderId = decider.id;
    reviewerEmail = (await createStaff(m.t.db, { role: 'moderator', email: 'reviewer@desk.example' })).email;
  });

  const decide = async (reference: string, how: 'approve' | 'reject') => {
    const actor = { id: deciderId, email: deciderEmail, role: 'moderator' as const };
    await claimNotice(m.t, { reference, actor });
    if (how === 'approve') await approveNotice(m.t, { reference, actor, reason: "The URLs copy the complainant's article." });
    else await rejectNotice(m.t, { reference, actor, reason: "The page is the source's own original article." });
  };
  const notice = async (reference: string) =>
    (await m.t.db.query('SELECT id, status, decision, decided_by FROM notices WHERE reference = $1', [reference]))[0];
  const complaints = () =>
    m.t.db.query(
      'SELECT complainant_kind, status, decision_complained, decision_decided_by, decided_by, source_id FROM complaints ORDER BY submitted_at',
    );
  const actions = async () =>
    (
      await m.t.db.query(
        `SELECT action FROM audit_events WHERE action LIKE 'complaint.%' OR action IN ('notice.reopened', 'notice.reversed', 'item.restored') ORDER BY id`,
      )
    ).map((r: { action: string }) => r.action);
  const mailText = (to: string, subject: RegExp) => {
    const found = m.sink.to(to).find((x) => subject.test(x.parsed.subject ?? ''));
    if (!found)
      throw new Error(
        `no email "${subject}" to ${to}; got: ${m.sink.messages.map((x) => `${x.envelope.to} ${x.parsed.subject}`).join(' | ')}`,
      );
    return found.parsed.text ?? '';
  };
  /** A moderator decides the complaint through the staff page. */
  const decideComplaintAs = async (email: string, outcome: 'upheld' | 'reversed') => {
    const agent = await signedInAgent(m.t.app, email);
    const queue = await agent.get('/complaints').expect(200);
    const id = /href="\/complaints\/([0-9a-f-]{36})"/.exec(queue.text)![1];
    const page = await agent.get(`/complaints/${id}`).expect(200);
    const res = await agent
      .post(`/complaints/${id}/decide`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), outcome, reason: "Reviewed again: the article is the source's own reporting." });
    return { res, id, agent };
  };

  it('when the notifier complains about a rejection from the status page and a second moderator reverses it, then the notice is back in the queue and both emails name the ODS bodies', async () => {
    const { reference, statusUrl } = await submitNoticeFor(m.t.app, [`${BASE}/items/${item.slug}`]);
    await decide(reference, 'reject');
    clock.advance(30 * 86_400_000);
    const status = await request(m.t.app).get(statusUrl.slice(BASE.length)).expect(200);
    const link = /href="(\/takedown\/[^"]+\/complaint\?token=[^"]+)"/.exec(status.text)![1].replace(/&amp;/g, '&');
    const form = await request(m.t.app).get(link).expect(200);
    expect(form.text).toContain(`Complain about the decision on notice ${reference}`);
    const token = new URL(link, BASE).searchParams.get('token')!;

    const bad = await request(m.t.app)
      .post(`/takedown/${reference}/complaint`)
      .type('form')
      .send({ token, name: '', email: 'nope', grounds: 'short' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Enter a valid email address.');
    expect(bad.text).toContain('Explain why the decision is wrong');
    await request(m.t.app)
      .post(`/takedown/${reference}/complaint`)
      .type('form')
      .send({ token, name: COMPLAINANT.name, email: COMPLAINANT.email, grounds: GROUNDS })
      .expect(303);
    expect(await complaints()).toEqual([
      {
        complainant_kind: 'notifier',
        status: 'open',
        decision_complained: 'rejected',
        decision_decided_by: deciderId,
        decided_by: null,
        source_id: null,
      },
    ]);

    // The decider may not decide it: 403 with a clear message, audited, still open.
    const own = await decideComplaintAs(deciderEmail, 'reversed');
    expect(own.res.status).toBe(403);
    expect(own.res.text).toContain(`You decided notice ${reference}, so another moderator must decide this complaint about it.`);
    expect((await complaints())[0].status).toBe('open');

    clock.advance(2 * 86_400_000);
    const other = await decideComplaintAs(reviewerEmail, 'reversed');
    expect(other.res.status).toBe(303);
    expect((await complaints())[0]).toMatchObject({ status: 'reversed' });
    expect(await notice(reference)).toMatchObject({ status: 'pending', decision: null, decided_by: null });
    expect(await actions()).toEqual(['complaint.submitted', 'complaint.decision_refused', 'notice.reopened', 'complaint.reversed']);
    const [ev] = await m.t.db.query(`SELECT details FROM audit_events WHERE action = 'complaint.reversed'`);
    expect(ev.details.handlingHours).toBe(48);

    await m.worker.drain();
    const text = mailText(COMPLAINANT.email, /Your complaint about notice .*: decision reversed/);
    expect(text).toContain('back in our review queue');
    expect(text).toContain('Appeals Centre Europe: https://www.appealscentre.eu');
    expect(text).toContain('User Rights: https://user-rights.example');

    const record = (await request(m.t.app).get(`/transparency/notices/${reference}`).set('Accept', 'application/json').expect(200)).body;
    expect(record.statusLabel).toBe('under review');
    expect(record.timeline.map((e: { text: string }) => e.text)).toEqual([
      'Notice received',
      'Decision: rejected',
      'Decision reversed after a complaint: under review again',
    ]);

    // The public transparency report counts it: received and decided in July, reversed, 48 hours.
    const report = await request(m.t.app).get('/transparency').expect(200);
    const table = /<table class="table" id="complaints-table">[\s\S]*?<\/table>/.exec(report.text)![0];
    expect(table).toMatch(/<th scope="row">2026-07<\/th><td>1<\/td><td>1<\/td><td>1<\/td><td>48<\/td>/);
    expect(table).toMatch(/<th scope="row">2026-06<\/th><td>0<\/td><td>0<\/td><td>0<\/td><td>–<\/td>/);
  });

  it("when the source complains through the removal email's signed link and a second moderator reverses it, then its article is published again and both parties are emailed", async () => {
    const { reference } = await submitNoticeFor(m.t.app, [`${BASE}/items/${item.slug}`]);
    await decide(reference, 'approve');
    await request(m.t.app).get(`/items/${item.slug}`).expect(451);
    await m.worker.drain();
    const removal = mailText('editor@harbourgazette.example', /Your content was removed/);
    const link = /(http:\/\/localhost:3000\/complaints\/source\/\S+)/.exec(removal)![1];
    expect(removal).toContain('until 2026-12-01');
    const path = link.slice(BASE.length);
    const form = await request(m.t.app).get(path).expect(200);
    const hidden = Object.fromEntries(
      [...form.text.matchAll(/<input type="hidden" name="(source|sig)" value="([^"]+)">/g)].map((x) => [x[1], x[2]]),
    );
    await request(m.t.app)
      .post(`/complaints/source/${reference}`)
      .type('form')
      .send({ ...hidden, name: 'Grace Hopper', email: 'editor@harbourgazette.example', grounds: GROUNDS })
      .expect(303);

    const { res } = await decideComplaintAs(reviewerEmail, 'reversed');
    expect(res.status).toBe(303);
    await request(m.t.app).get(`/items/${item.slug}`).expect(200);
    expect(await notice(reference)).toMatchObject({ status: 'restored' });
    const [target] = await m.t.db.query(`SELECT outcome FROM notice_targets WHERE item_id = $1`, [item.id]);
    expect(target.outcome).toBe('restored');
    expect(await actions()).toEqual(['complaint.submitted', 'item.restored', 'notice.reversed', 'complaint.reversed']);

    m.sink.clear();
    await m.worker.drain();
    expect(mailText('editor@harbourgazette.example', /Your complaint about notice .*: decision reversed/)).toContain(
      'The removed content is published again.',
    );
    expect(mailText(COMPLAINANT.email, /A complaint about notice .* was decided/)).toContain('Appeals Centre Europe');

    // The public record of the notice says the removal was reversed on a complaint (not a counter-notice).
    const record = (await request(m.t.app).get(`/transparency/notices/${reference}`).set('Accept', 'application/json').expect(200)).body;
    expect(record.statusLabel).toBe('content restored after a complaint (decision reversed)');
    expect(record.timeline.map((e: { text: string }) => e.text)).toEqual([
      'Notice received',
      'Decision: content removed',
      'Decision reversed after a complaint: content restored',
    ]);

    // The DSA statements export counts the complaint about this decision.
    const token = await tokenFor(m.t.db, await createStaff(m.t.db, { role: 'admin' }));
    const dsa = await request(m.t.app).get('/api/v1/audit/exports/decisions').set('Authorization', `Bearer ${token}`).expect(200);
    const statement = dsa.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((x: { puid: string }) => x.puid === reference);
    expect(statement.internal_complaints).toEqual({ received: 1, reversed: 1, median_handling_hours: 0 });
  });

  it("when a notice removed two sources' articles and one source's complaint is reversed, then only its article comes back, and the notice stays approved so the other source may still complain", async () => {
    const bay = await makeSource(m.t.db, { name: 'Bay Courier', domains: ['baycourier.example'], contactEmail: 'desk@baycourier.example' });
    const theirs = await makeItem(m.t.db, bay, { title: 'Currents', originalUrl: 'https://baycourier.example/2026/05/currents' });
    const { reference } = await submitNoticeFor(m.t.app, [`${BASE}/items/${item.slug}`, `${BASE}/items/${theirs.slug}`]);
    await decide(reference, 'approve');
    await m.worker.drain();
    const complainAs = async (email: string) => {
      const link = new URL(/(http:\/\/localhost:3000\/complaints\/source\/\S+)/.exec(mailText(email, /Your content was removed/))![1]);
      const body = {
        source: link.searchParams.get('source'),
        sig: link.searchParams.get('sig'),
        name: 'The editor',
        email,
        grounds: GROUNDS,
      };
      await request(m.t.app).post(link.pathname).type('form').send(body).expect(303);
    };
    const outcomes = async () =>
      Object.fromEntries(
        (await m.t.db.query('SELECT item_id, outcome FROM notice_targets WHERE notice_id = $1', [(await notice(reference)).id])).map(
          (r: { item_id: string; outcome: string }) => [r.item_id, r.outcome],
        ),
      );

    await complainAs('editor@harbourgazette.example');
    expect((await decideComplaintAs(reviewerEmail, 'reversed')).res.status).toBe(303);
    await request(m.t.app).get(`/items/${item.slug}`).expect(200);
    await request(m.t.app).get(`/items/${theirs.slug}`).expect(451);
    expect(await notice(reference)).toMatchObject({ status: 'approved', decided_by: deciderId });
    expect(await outcomes()).toEqual({ [item.id]: 'restored', [theirs.id]: 'removed' });

    // The other source's removal still stands, so it can still complain; its reversal ends the notice's removal.
    await complainAs('desk@baycourier.example');
    expect((await decideComplaintAs(reviewerEmail, 'reversed')).res.status).toBe(303);
    await request(m.t.app).get(`/items/${theirs.slug}`).expect(200);
    expect(await notice(reference)).toMatchObject({ status: 'restored' });
    expect(await outcomes()).toEqual({ [item.id]: 'restored', [theirs.id]: 'restored' });
    const reversed = await m.t.db.query(`SELECT details->>'after' AS after FROM audit_events WHERE action = 'notice.reversed' ORDER BY id`);
    expect(reversed).toEqual([{ after: 'approved' }, { after: 'restored' }]);
  });

  it('when a second moderator upholds a complaint, then nothing is undone and the complainant is told the decision stands', async () => {
    const { reference, statusUrl } = await submitNoticeFor(m.t.app, [`${BASE}/items/${item.slug}`]);
    await decide(reference, 'reject');
    const token = new URL(statusUrl).searchParams.get('token')!;
    await request(m.t.app)
      .post(`/takedown/${reference}/complaint`)
      .type('form')
      .send({ token, name: COMPLAINANT.name, email: COMPLAINANT.email, grounds: GROUNDS })
      .expect(303);
    const { res } = await decideComplaintAs(reviewerEmail, 'upheld');
    expect(res.status).toBe(303);
    expect(await notice(reference)).toMatchObject({ status: 'rejected', decided_by: deciderId });
    await m.worker.drain();
    expect(mailText(COMPLAINANT.email, /decision upheld/)).toContain('Outcome: the decision stands.');
  });

  it('when a complaint comes without the token or link, after six months, twice, or about a decision that party cannot contest, then it is refused with a clear message and nothing is stored', async () => {
    const { reference, statusUrl } = await submitNoticeFor(m.t.app, [`${BASE}/items/${item.slug}`]);
    await decide(reference, 'reject');
    const token = new URL(statusUrl).searchParams.get('token')!;
    const body = { name: 'Mallory', email: 'mallory@example.org', grounds: GROUNDS };

    const noToken = await request(m.t.app).post(`/takedown/${reference}/complaint`).type('form').send(body);
    expect(noToken.status).toBe(404);
    expect(noToken.text).toContain('Use the complaint link on your notice');
    const forged = await request(m.t.app)
      .post(`/complaints/source/${reference}`)
      .type('form')
      .send({ ...body, source: source.id, sig: 'forged-signature' });
    expect(forged.status).toBe(404);
    expect(forged.text).toContain('Use the complaint link in the email');
    // A rejection cannot be contested by the source (nothing was removed).
    expect((await request(m.t.app).get(`/complaints/source/${reference}?source=${source.id}&sig=x`)).status).toBe(404);

    await request(m.t.app)
      .post(`/takedown/${reference}/complaint`)
      .type('form')
      .send({ ...body, token })
      .expect(303);
    const twice = await request(m.t.app)
      .post(`/takedown/${reference}/complaint`)
      .type('form')
      .send({ ...body, token });
    expect(twice.status).toBe(409);
    expect(twice.text).toContain('is already open');

    const late = await submitNoticeFor(m.t.app, [`${BASE}/items/${item.slug}`]);
    await decide(late.reference, 'reject');
    clock.advance(184 * 86_400_000);
    const tooLate = await request(m.t.app)
      .post(`/takedown/${late.reference}/complaint`)
      .type('form')
      .send({ ...body, token: new URL(late.statusUrl).searchParams.get('token') });
    expect(tooLate.status).toBe(422);
    expect(tooLate.text).toMatch(/The six months for a complaint about notice TD-\d+ ended on 2026-12-01\./);
    expect(await complaints()).toHaveLength(1);
    expect(await actions()).toEqual(['complaint.submitted', 'complaint.refused']);
  });

  it('when the portal files a complaint for its signed-in notifier, then the same rules apply without the status token', async () => {
    const { reference } = await submitNoticeFor(m.t.app, [`${BASE}/items/${item.slug}`]);
    await decide(reference, 'reject');
    const c = await submitComplaint(m.t, {
      credential: { kind: 'notifier', reference, verifiedBy: 'portal' },
      name: COMPLAINANT.name,
      email: COMPLAINANT.email,
      grounds: GROUNDS,
    });
    expect(c).toMatchObject({ status: 'open', complainantKind: 'notifier', decisionDecidedBy: deciderId });
    await expect(
      submitComplaint(m.t, {
        credential: { kind: 'notifier', reference, verifiedBy: 'portal' },
        name: COMPLAINANT.name,
        email: COMPLAINANT.email,
        grounds: GROUNDS,
      }),
    ).rejects.toMatchObject({ code: 'COMPLAINT.ALREADY_OPEN', status: 409 });
  });

  it('when a complaint is received, then the complainant gets a receipt and every active staff member except the decider an alert with the link to decide it', async () => {
    await createStaff(m.t.db, { role: 'admin', email: 'admin@desk.example' });
    const { reference } = await submitNoticeFor(m.t.app, [`${BASE}/items/${item.slug}`]);
    await decide(reference, 'reject');
    const c = await submitComplaint(m.t, {
      credential: { kind: 'notifier', reference, verifiedBy: 'portal' },
      name: COMPLAINANT.name,
      email: COMPLAINANT.email,
      grounds: GROUNDS,
    });
    const rows: { template: string; to: string }[] = await m.t.db.query(
      `SELECT template, "to" FROM outbound_emails WHERE template LIKE 'complaint-%' ORDER BY template, "to"`,
    );
    expect(rows).toEqual([
      { template: 'complaint-new', to: 'admin@desk.example' },
      { template: 'complaint-new', to: reviewerEmail },
      { template: 'complaint-received', to: COMPLAINANT.email },
    ]);
    await m.worker.drain();
    const receipt = mailText(COMPLAINANT.email, /We received your complaint about notice TD-/);
    expect(receipt).toContain(`takedown notice ${reference} (the rejection of the notice)`);
    expect(receipt).toContain(GROUNDS);
    const alert = mailText(reviewerEmail, /New complaint about notice TD-/);
    expect(alert).toContain(`The decision was made by ${deciderEmail}, so another moderator must decide the complaint.`);
    expect(alert).toContain(`${BASE}/complaints/${c.id}`);
    expect(m.sink.to(deciderEmail).filter((x) => /complaint/i.test(x.parsed.subject ?? ''))).toEqual([]);
  });

  it("when the signed-in notifier complains from the portal's notice page, then it is filed without the status token; another account, a missing CSRF token and bad input are refused", async () => {
    const { reference } = await submitNoticeFor(m.t.app, [`${BASE}/items/${item.slug}`]);
    await decide(reference, 'reject');
    const portal = await portalAgent(m.t.app, m.worker, m.sink, COMPLAINANT.email);
    const page = await portal.get(`/portal/notices/${reference}`).expect(200);
    expect(page.text).toContain(`href="/portal/notices/${reference}/complaint"`);
    const form = await portal.get(`/portal/notices/${reference}/complaint`).expect(200);
    expect(form.text).toContain(`value="${COMPLAINANT.email}"`);
    const csrf = csrfFrom(form.text);

    await portal
      .post(`/portal/notices/${reference}/complaint`)
      .type('form')
      .send({ name: COMPLAINANT.name, email: COMPLAINANT.email, grounds: GROUNDS })
      .expect(403);
    const bad = await portal
      .post(`/portal/notices/${reference}/complaint`)
      .type('form')
      .send({ _csrf: csrf, name: COMPLAINANT.name, email: 'not-an-address', grounds: 'too short' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Enter a valid email address.');
    const stranger = await portalAgent(m.t.app, m.worker, m.sink, 'someone-else@rights.example');
    const strangerForm = await stranger.get('/portal/profile').expect(200);
    await stranger
      .post(`/portal/notices/${reference}/complaint`)
      .type('form')
      .send({ _csrf: csrfFrom(strangerForm.text), name: 'X', email: 'someone-else@rights.example', grounds: GROUNDS })
      .expect(404);
    expect(await complaints()).toEqual([]);

    await portal
      .post(`/portal/notices/${reference}/complaint`)
      .type('form')
      .send({ _csrf: csrf, name: COMPLAINANT.name, email: COMPLAINANT.email, grounds: GROUNDS })
      .expect(303)
      .expect('Location', `/portal/notices/${reference}`);
    expect((await portal.get(`/portal/notices/${reference}`).expect(200)).text).toContain('Your complaint about notice');
    expect(await complaints()).toEqual([expect.objectContaining({ complainant_kind: 'notifier', status: 'open' })]);
    const [ev] = await m.t.db.query(`SELECT details FROM audit_events WHERE action = 'complaint.submitted'`);
    expect(ev.details).toMatchObject({ kind: 'notifier', decision: 'rejected' });

    clock.advance(200 * 86_400_000);
    const late = await portal.get(`/portal/notices/${reference}/complaint`).expect(200);
    expect(late.text).toMatch(/The six months for a complaint about notice .* ended on/);
  });
});
