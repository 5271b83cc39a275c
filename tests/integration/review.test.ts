import request from 'supertest';
import type { Express } from 'express';
import type { MailWorker } from '../../src/modules/mail';
import { Item, Source } from '../../src/modules/items';
import { can, NoticeEvent, NoticeStatus } from '../../src/modules/notices';
import { rejectUnansweredNotices } from '../../src/modules/review';
import { openApiDocument } from '../../src/modules/ops/openapi.routes';
import { ManualClock } from '../../src/shared/clock';
import type { TestContext } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createStaff, csrfOf, signedInAgent, tokenFor } from '../support/staff';
import { createMailingContext, MailingContext } from '../support/mailing';
import type { SmtpSink } from '../support/smtp-sink';
import type { User } from '../../src/modules/auth';

const BASE = 'http://localhost:3000';
const COMPLAINANT = 'ada@analytical.example';

const noticeBody = (urls: string[], over: Record<string, unknown> = {}) => ({
  name: 'Ada Lovelace',
  organization: 'Analytical Press Ltd',
  email: COMPLAINANT,
  address: '12 Marylebone Road, London',
  country: 'GB',
  role: 'owner',
  workDescription: 'My article "Notes on the Engine".',
  infringingUrls: urls,
  goodFaith: true,
  accuracy: true,
  signature: 'Ada Lovelace',
  ...over,
});

describe('review queue and decisions', () => {
  let t: TestContext;
  let clock: ManualClock;
  let sink: SmtpSink;
  let worker: MailWorker;
  let source: Source;
  let items: Item[];
  let mod: User;
  let mod2: User;
  let admin: User;
  let modToken: string;
  let mod2Token: string;
  let adminToken: string;

  let mailing: MailingContext;
  beforeAll(async () => {
    clock = new ManualClock(new Date());
    mailing = await createMailingContext({ clock, env: { INTAKE_PER_HOUR: '100000', SENDER_BURST: '10000', STRIKE_LIMIT: '2' } });
    ({ t, sink, worker } = mailing);
  });
  afterAll(() => mailing.close());
  beforeEach(async () => {
    await mailing.reset();
    clock.set(new Date());
    source = await makeSource(t.db, {
      name: 'Harbour Gazette',
      domains: ['harbourgazette.example'],
      contactEmail: 'editor@harbourgazette.example',
    });
    items = [];
    for (let i = 0; i < 3; i++)
      items.push(await makeItem(t.db, source, { originalUrl: `https://harbourgazette.example/2026/05/story-${i}` }));
    mod = await createStaff(t.db, { role: 'moderator', email: 'mod@desk.example' });
    mod2 = await createStaff(t.db, { role: 'moderator', email: 'mod2@desk.example' });
    admin = await createStaff(t.db, { role: 'admin', email: 'admin@desk.example' });
    [modToken, mod2Token, adminToken] = await Promise.all([tokenFor(t.db, mod), tokenFor(t.db, mod2), tokenFor(t.db, admin)]);
  });

  /** Emails are written with the database's clock; the worker's (manual) clock must have reached them. */
  const drain = async () => {
    clock.set(new Date(Math.max(Date.now(), clock.now().getTime()) + 1000));
    await worker.drain();
  };
  const pageUrl = (i: Item) => `${BASE}/items/${i.slug}`;
  const submit = async (urls = [pageUrl(items[0])], over: Record<string, unknown> = {}) => {
    const res = await request(t.app).post('/api/v1/notices').send(noticeBody(urls, over)).expect(201);
    return { reference: res.body.reference as string, token: new URL(res.body.statusUrl).searchParams.get('token')! };
  };
  const api = (token: string) => ({
    post: (path: string, body: object = {}) => request(t.app).post(`/api/v1${path}`).set('Authorization', `Bearer ${token}`).send(body),
    get: (path: string) => request(t.app).get(`/api/v1${path}`).set('Authorization', `Bearer ${token}`),
  });
  const claim = (ref: string, token = modToken) => api(token).post(`/notices/${ref}/claim`);
  const decide = (ref: string, body: object, token = modToken) => api(token).post(`/notices/${ref}/decision`, body);
  const statusOf = async (ref: string) => (await t.db.query(`SELECT status FROM notices WHERE reference = $1`, [ref]))[0].status as string;
  const audit = (ref: string) =>
    t.db.query(
      `SELECT action, actor_type, actor_label, details FROM audit_events WHERE subject_type = 'notice' AND subject_id = $1 ORDER BY id`,
      [ref],
    );
  const outbox = (template: string) =>
    t.db.query(`SELECT "to", data FROM outbound_emails WHERE template = $1 ORDER BY created_at`, [template]);

  /** A notice driven to `status` through the API by `mod`. */
  async function noticeIn(status: NoticeStatus): Promise<{ reference: string; token: string }> {
    const n = await submit([pageUrl(items[0]), 'https://elsewhere.example/x']);
    if (status === 'pending') return n;
    if (status === 'withdrawn') {
      await request(t.app).post(`/takedown/${n.reference}/withdraw`).type('form').send({ token: n.token }).expect(303);
      return n;
    }
    if (status === 'spam') {
      await decide(n.reference, { action: 'spam' }).expect(200);
      return n;
    }
    await claim(n.reference).expect(200);
    const action = { in_review: null, needs_info: 'request_info', approved: 'approve', rejected: 'reject' }[status as string];
    if (action) await decide(n.reference, { action, reason: 'Because of the facts.' }).expect(200);
    return n;
  }

  const EVENTS: NoticeEvent[] = ['claim', 'release', 'approve', 'reject', 'request_info', 'spam'];
  const STATUSES: NoticeStatus[] = ['pending', 'in_review', 'needs_info', 'approved', 'rejected', 'spam', 'withdrawn'];
  const cases = STATUSES.flatMap((s) => EVENTS.map((e) => [s, e, can(s, e)] as const))
    // `reject` from needs_info is the automatic rejection only: a moderator cannot hold a needs_info notice.
    .map(([s, e, ok]) => [s, e, ok] as const);

  describe('the transition table through the API', () => {
    it.each(cases)(
      'when a notice that is %s gets %s, then it is allowed exactly when the table says so (%s)',
      async (status, event, allowed) => {
        const { reference } = await noticeIn(status);
        const body = { action: event, reason: 'A reason or question.' };
        const res =
          event === 'claim' || event === 'release'
            ? await api(modToken).post(`/notices/${reference}/${event}`)
            : await decide(reference, body);
        if (allowed) {
          expect(res.status).toBe(200);
          expect(await statusOf(reference)).not.toBe(status);
        } else {
          expect(res.status).toBe(409);
          expect(res.body.errors[0].message).toBeTruthy();
          expect(await statusOf(reference)).toBe(status);
        }
      },
    );
  });

  describe('the transition table through the pages', () => {
    const PATH: Record<string, string> = {
      claim: 'claim',
      release: 'release',
      approve: 'approve',
      reject: 'reject',
      request_info: 'request-info',
      spam: 'spam',
    };
    it.each(cases)(
      'when a notice that is %s gets %s on its page, then 303 exactly when the table allows it (%s), else 409',
      async (status, event, allowed) => {
        const { reference } = await noticeIn(status);
        const agent = await signedInAgent(t.app, mod.email);
        const csrf = await csrfOf(agent, `/notices/${reference}`);
        const res = await agent
          .post(`/notices/${reference}/${PATH[event]}`)
          .type('form')
          .send({ _csrf: csrf, reason: 'A reason.', question: 'A question?' });
        expect(res.status).toBe(allowed ? 303 : 409);
        if (allowed) expect(res.headers.location).toBe(`/notices/${reference}`);
        else expect(await statusOf(reference)).toBe(status);
      },
    );
  });

  it('when a moderator approves through the API, then the item answers 451, the targets say removed/not found, the DSA statement is stored, and both parties receive their emails', async () => {
    await request(t.app).get(`/items/${items[0].slug}`).expect(200);
    const { reference } = await submit([pageUrl(items[0]), 'https://elsewhere.example/x']);
    await claim(reference).expect(200);
    const res = await decide(reference, { action: 'approve' }).expect(200);
    expect(res.body).toMatchObject({ reference, status: 'approved', decision: 'approved' });

    const page = await request(t.app).get(`/items/${items[0].slug}`);
    expect(page.status).toBe(451);
    expect(page.text).toContain(reference);
    const targets = await t.db.query(
      `SELECT outcome FROM notice_targets t JOIN notices n ON n.id = t.notice_id WHERE n.reference = $1 ORDER BY position`,
      [reference],
    );
    expect(targets.map((x: { outcome: string }) => x.outcome)).toEqual(['removed', 'not_found']);
    const [n] = await t.db.query(`SELECT statement_of_reasons AS sor, decided_by FROM notices WHERE reference = $1`, [reference]);
    expect(n.decided_by).toBe(mod.id);
    expect(n.sor).toMatchObject({
      decision_visibility: ['DECISION_VISIBILITY_CONTENT_DISABLED'],
      territorial_scope: 'worldwide',
      from_notice: true,
      automated_detection: false,
      automated_decision: 'AUTOMATED_DECISION_NOT_AUTOMATED',
      illegal_content_legal_ground: expect.stringContaining('512'),
    });
    expect(n.sor.facts_relied_on).toBeTruthy();
    expect(n.sor.redress).toContain(`/counter-notice?notice=${reference}`);
    expect((await audit(reference)).map((a: { action: string }) => a.action)).toEqual([
      'notice.submitted',
      'notice.claimed',
      'notice.approved',
    ]);

    await drain();
    const toComplainant = sink.to(COMPLAINANT).map((m) => m.parsed);
    const outcome = toComplainant.find((m) => m.subject?.includes('content removed'))!;
    expect(outcome.text).toContain(`${pageUrl(items[0])}: removed`);
    expect(outcome.text).toContain('https://elsewhere.example/x: not on this site');
    const toSource = sink.to('editor@harbourgazette.example').map((m) => m.parsed);
    expect(toSource).toHaveLength(1);
    expect(toSource[0].subject).toContain(reference);
    expect(toSource[0].text).toContain(pageUrl(items[0]));
    expect(toSource[0].text).toContain(`${BASE}/counter-notice?notice=${reference}`);
  });

  it('when only some URLs are chosen, then those are removed, the other matched ones kept and published, and the decision says partly', async () => {
    const { reference } = await submit([pageUrl(items[0]), pageUrl(items[1])]);
    await claim(reference).expect(200);
    const res = await decide(reference, { action: 'approve', targets: [pageUrl(items[1])] }).expect(200);
    expect(res.body.decision).toBe('partly_approved');
    const rows = await t.db.query(
      `SELECT t.outcome, i.status FROM notice_targets t JOIN items i ON i.id = t.item_id JOIN notices n ON n.id = t.notice_id WHERE n.reference = $1 ORDER BY position`,
      [reference],
    );
    expect(rows).toEqual([
      { outcome: 'kept', status: 'published' },
      { outcome: 'removed', status: 'removed' },
    ]);
  });

  it('when two approvals of one notice race as parallel requests, then one gets 200, the other 409 naming who acted, and one set of emails is queued', async () => {
    const { reference } = await submit([pageUrl(items[0])]);
    await claim(reference).expect(200);
    const [a, b] = await Promise.all([decide(reference, { action: 'approve' }), decide(reference, { action: 'approve' }, adminToken)]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.errors[0].message).toMatch(/mod@desk\.example|admin@desk\.example/);
    expect(await outbox('notice-approved')).toHaveLength(1);
    expect(await outbox('content-removed')).toHaveLength(1);
    const events = (await audit(reference)).filter((e: { action: string }) => e.action === 'notice.approved');
    expect(events).toHaveLength(1);
  });

  it('when the page posts a stale version, then 409 says who acted and nothing changes', async () => {
    const { reference } = await submit([pageUrl(items[0])]);
    const agent = await signedInAgent(t.app, mod2.email);
    const page = await agent.get(`/notices/${reference}`).expect(200);
    const version = /name="version" value="(\d+)"/.exec(page.text)![1];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    await claim(reference).expect(200); // mod claims meanwhile
    const res = await agent.post(`/notices/${reference}/claim`).type('form').send({ _csrf: csrf, version });
    expect(res.status).toBe(409);
    expect(res.text).toContain('mod@desk.example');
    expect((await t.db.query(`SELECT assignee_id FROM notices WHERE reference = $1`, [reference]))[0].assignee_id).toBe(mod.id);
  });

  it("when a moderator acts on another's claim, then 409 naming the holder; when an admin does, then it is allowed and audited as an override", async () => {
    const { reference } = await submit([pageUrl(items[0])]);
    await claim(reference).expect(200);
    const refused = await decide(reference, { action: 'reject', reason: 'No.' }, mod2Token).expect(409);
    expect(refused.body.errors[0].message).toContain('mod@desk.example');
    await api(mod2Token).post(`/notices/${reference}/release`).expect(409);
    expect(await statusOf(reference)).toBe('in_review');
    await decide(reference, { action: 'reject', reason: 'Not a copy of the work.' }, adminToken).expect(200);
    const last = (await audit(reference)).pop();
    expect(last).toMatchObject({
      action: 'notice.rejected',
      actor_label: 'admin@desk.example',
      details: expect.objectContaining({ override: true }),
    });
  });

  describe('bad input changes nothing', () => {
    it('when the reference is unknown, then 404 (API and page)', async () => {
      await decide('TD-999999', { action: 'approve' }).expect(404);
      await claim('TD-999999').expect(404);
      const agent = await signedInAgent(t.app, mod.email);
      await agent.get('/notices/TD-999999').expect(404);
    });

    it('when a target URL is not in the notice, then 422 and nothing is removed', async () => {
      const { reference } = await submit([pageUrl(items[0])]);
      await claim(reference).expect(200);
      const res = await decide(reference, { action: 'approve', targets: [pageUrl(items[2])] }).expect(422);
      expect(res.body.errors[0]).toMatchObject({ field: 'targets.0' });
      expect(await statusOf(reference)).toBe('in_review');
      expect((await t.db.query(`SELECT count(*)::int AS n FROM items WHERE status = 'removed'`))[0].n).toBe(0);
    });

    it('when the reason or question is empty, then 422 and the notice stays in review', async () => {
      const { reference } = await submit([pageUrl(items[0])]);
      await claim(reference).expect(200);
      await decide(reference, { action: 'reject', reason: '  ' }).expect(422);
      await decide(reference, { action: 'request_info' }).expect(422);
      await decide(reference, { action: 'shrug' }).expect(422);
      const agent = await signedInAgent(t.app, mod.email);
      const csrf = await csrfOf(agent, `/notices/${reference}`);
      const page = await agent.post(`/notices/${reference}/reject`).type('form').send({ _csrf: csrf, reason: '' });
      expect(page.status).toBe(422);
      expect(page.text).toContain('id="reason-error"');
      expect(await statusOf(reference)).toBe('in_review');
      expect(await outbox('notice-rejected')).toHaveLength(0);
    });

    it('when the CSRF token is missing, then 403; when not signed in or without a token, then 401; nothing changes', async () => {
      const { reference } = await submit([pageUrl(items[0])]);
      const agent = await signedInAgent(t.app, mod.email);
      await agent.post(`/notices/${reference}/claim`).type('form').send({}).expect(403);
      await request(t.app).post(`/api/v1/notices/${reference}/claim`).expect(401);
      await request(t.app).post(`/api/v1/notices/${reference}/claim`).set('Authorization', 'Bearer nope').expect(401);
      await request(t.app).get('/api/v1/notices').expect(401);
      const anon = await request(t.app).get('/queue');
      expect(anon.status).toBe(303);
      expect(anon.headers.location).toContain('/login');
      expect(await statusOf(reference)).toBe('pending');
    });

    it('when a decision is posted on a final notice, then 409 naming the earlier decision', async () => {
      const { reference } = await noticeIn('rejected');
      const res = await decide(reference, { action: 'approve' }).expect(409);
      expect(res.body.errors[0].message).toContain('mod@desk.example');
      expect(await statusOf(reference)).toBe('rejected');
    });
  });

  it('when a question is asked, then the complainant is emailed, answers on the status page, and the notice returns to the queue with the answer in the timeline', async () => {
    const { reference, token } = await submit([pageUrl(items[0])]);
    await claim(reference).expect(200);
    await decide(reference, { action: 'request_info', reason: 'Where was the article first published?' }).expect(200);
    await drain();
    const q = sink.to(COMPLAINANT).find((m) => m.parsed.subject?.includes('A question'))!;
    expect(q.parsed.text).toContain('Where was the article first published?');
    expect(q.parsed.text).toContain(`${BASE}/takedown/${reference}`);

    const status = await request(t.app).get(`/takedown/${reference}?token=${token}`).expect(200);
    expect(status.text).toContain('Where was the article first published?');
    await request(t.app)
      .post(`/takedown/${reference}/answer`)
      .type('form')
      .send({ token, answer: 'On our own site, in 2019.' })
      .expect(303);
    expect(await statusOf(reference)).toBe('pending');
    const agent = await signedInAgent(t.app, mod.email);
    const page = await agent.get(`/notices/${reference}`).expect(200);
    expect(page.text).toContain('notice.answered');
    expect(page.text).toContain('On our own site, in 2019.');
    const after = await request(t.app).get(`/takedown/${reference}?token=${token}`).expect(200);
    expect(after.text).toContain('You answered');
  });

  it('when a question stays unanswered past NEEDS_INFO_DAYS, then the job rejects the notice as system and emails the complainant', async () => {
    const { reference } = await submit([pageUrl(items[0])]);
    await claim(reference).expect(200);
    await decide(reference, { action: 'request_info', reason: 'Which work?' }).expect(200);
    expect(await rejectUnansweredNotices(t)).toBe(0);
    clock.advance((t.config.policy.needsInfoDays + 1) * 86_400_000);
    expect(await rejectUnansweredNotices(t)).toBe(1);
    expect(await statusOf(reference)).toBe('rejected');
    const last = (await audit(reference)).pop();
    expect(last).toMatchObject({ action: 'notice.rejected', actor_type: 'system', details: expect.objectContaining({ automatic: true }) });
    const mails = await outbox('notice-rejected');
    expect(mails).toHaveLength(1);
    expect(mails[0].data.automatic).toBe(true);
    expect(await rejectUnansweredNotices(t)).toBe(0);
  });

  it('when a source reaches STRIKE_LIMIT approved notices in 12 months, then it is paused, audited, and admins are emailed', async () => {
    for (const item of items.slice(0, 2)) {
      const { reference } = await submit([pageUrl(item)]);
      await claim(reference).expect(200);
      await decide(reference, { action: 'approve' }).expect(200);
    }
    const [s] = await t.db.query(`SELECT status, strike_count FROM sources WHERE id = $1`, [source.id]);
    expect(s).toEqual({ status: 'paused', strike_count: 2 });
    const [paused] = await t.db.query(`SELECT actor_type, details FROM audit_events WHERE action = 'source.paused' AND subject_id = $1`, [
      source.id,
    ]);
    expect(paused.actor_type).toBe('system');
    await drain();
    const toAdmin = sink.to(admin.email).map((m) => m.parsed.subject);
    expect(toAdmin.some((subject) => subject?.includes('Source paused'))).toBe(true);
    expect(sink.to(mod.email).some((m) => m.parsed.subject?.includes('Source paused'))).toBe(false);
  });

  describe('the queue', () => {
    it('when there are more than 50 open notices, then pages follow a keyset cursor with no overlap, overdue first', async () => {
      const refs: string[] = [];
      for (let i = 0; i < 53; i++) refs.push((await submit([pageUrl(items[i % 3])])).reference);
      // The last one is made overdue: it must lead.
      await t.db.query(`UPDATE notices SET due_at = now() - interval '1 hour' WHERE reference = $1`, [refs[52]]);
      const first = await api(modToken).get('/notices').expect(200);
      expect(first.body.notices).toHaveLength(50);
      expect(first.body.notices[0]).toMatchObject({ reference: refs[52], overdue: true });
      expect(first.body.counts).toMatchObject({ pending: 53, overdue: 1 });
      const second = await api(modToken).get(`/notices?cursor=${first.body.nextCursor}`).expect(200);
      expect(second.body.notices).toHaveLength(3);
      expect(second.body.nextCursor).toBeNull();
      const all = [...first.body.notices, ...second.body.notices].map((n: { reference: string }) => n.reference);
      expect(new Set(all).size).toBe(53);
      await api(modToken).get('/notices?cursor=garbage').expect(400);

      const agent = await signedInAgent(t.app, mod.email);
      const page = await agent.get('/queue').expect(200);
      expect(page.text).toContain('rel="next"');
      expect(page.text).toContain('1 overdue');
      const metrics = await request(t.app).get('/metrics').expect(200);
      expect(metrics.text).toMatch(/takedown_queue_overdue_notices 1/);
      expect(metrics.text).toMatch(/takedown_queue_notices\{status="pending"\} 53/);
    });

    it('when filtered by assignee mine / unassigned, status and flag, then only matching notices are listed with their counts', async () => {
      const a = await submit([pageUrl(items[0]), 'https://elsewhere.example/x']);
      const b = await submit([pageUrl(items[1])]);
      await claim(a.reference).expect(200);
      const agent = await signedInAgent(t.app, mod.email);
      const mine = await agent.get('/queue?assignee=mine').expect(200);
      expect(mine.text).toContain(a.reference);
      expect(mine.text).not.toContain(b.reference);
      expect(mine.text).toContain('1 matched, 1 not found');
      const unassigned = await api(modToken).get('/notices?assignee=unassigned').expect(200);
      expect(unassigned.body.notices.map((n: { reference: string }) => n.reference)).toEqual([b.reference]);
      const flagged = await api(modToken).get('/notices?flag=not_on_site').expect(200);
      expect(flagged.body.notices.map((n: { reference: string }) => n.reference)).toEqual([a.reference]);
      const bySource = await api(modToken).get(`/notices?source=${source.id}&status=pending`).expect(200);
      expect(bySource.body.notices.map((n: { reference: string }) => n.reference)).toEqual([b.reference]);
    });

    it('when notices are bulk-assigned and bulk-marked as spam, then each is its own audited transition and the result page reports each one', async () => {
      const a = await submit([pageUrl(items[0])]);
      const b = await submit([pageUrl(items[1])]);
      const c = await noticeIn('approved');
      const agent = await signedInAgent(t.app, admin.email);
      let csrf = await csrfOf(agent, '/queue');
      // A confirmation first (the count and the notices), then the action.
      const confirm = await agent
        .post('/queue/bulk')
        .type('form')
        .send({ _csrf: csrf, action: 'assign', assignee: mod2.id, references: [a.reference, b.reference] })
        .expect(200);
      expect(confirm.text).toContain('assign: 2 notices?');
      expect(await statusOf(a.reference)).toBe('pending');
      const assignedAt = await agent
        .post('/queue/bulk')
        .type('form')
        .send({ _csrf: csrf, action: 'assign', assignee: mod2.id, references: [a.reference, b.reference], confirm: 'yes' })
        .expect(303);
      const assigned = await agent.get(assignedAt.headers.location).expect(200);
      expect(assigned.text).toContain('2 done, 0 refused');
      const rows = await t.db.query(`SELECT status, assignee_id FROM notices WHERE reference = ANY($1) ORDER BY reference`, [
        [a.reference, b.reference],
      ]);
      expect(rows).toEqual([
        { status: 'in_review', assignee_id: mod2.id },
        { status: 'in_review', assignee_id: mod2.id },
      ]);
      csrf = await csrfOf(agent, '/queue');
      const spamAt = await agent
        .post('/queue/bulk')
        .type('form')
        .send({ _csrf: csrf, action: 'spam', references: [a.reference, c.reference], confirm: 'yes' })
        .expect(303);
      const spam = await agent.get(spamAt.headers.location).expect(200);
      expect(spam.text).toContain('1 done, 1 refused');
      expect(await statusOf(a.reference)).toBe('spam');
      expect(await statusOf(c.reference)).toBe('approved');
      expect((await audit(a.reference)).map((e: { action: string }) => e.action)).toEqual([
        'notice.submitted',
        'notice.claimed',
        'notice.spam',
      ]);
      expect(await outbox('notice-spam')).toHaveLength(0);
    });

    it('when a notice page is opened, then the claim is shown beside the registry with flags, statements, timeline and notes', async () => {
      const { reference } = await submit([pageUrl(items[0]), 'https://elsewhere.example/x']);
      const agent = await signedInAgent(t.app, mod.email);
      const csrf = await csrfOf(agent, `/notices/${reference}`);
      await agent.post(`/notices/${reference}/note`).type('form').send({ _csrf: csrf, text: 'Looks like <b>a real one</b>.' }).expect(303);
      const page = await agent.get(`/notices/${reference}`).expect(200);
      expect(page.text).toContain('Harbour Gazette');
      expect(page.text).toContain('https://harbourgazette.example/2026/05/story-0');
      expect(page.text).toContain('not_on_site');
      expect(page.text).toContain('penalty of perjury');
      expect(page.text).toContain('notice.submitted');
      expect(page.text).toContain('email notice-received to');
      expect(page.text).toContain('Looks like &lt;b&gt;a real one&lt;/b&gt;.');
      expect(page.text).toContain(`action="/notices/${reference}/claim"`);
      expect(page.text).not.toContain(`action="/notices/${reference}/approve"`);
    });
  });

  describe('the API description', () => {
    function apiRoutes(app: Express): string[] {
      type Layer = { rawPath?: string; route?: { path: string; methods: Record<string, boolean> }; handle: { stack?: Layer[] } };
      const out: string[] = [];
      const walk = (stack: Layer[]) => {
        for (const l of stack) {
          if (l.route) for (const m of Object.keys(l.route.methods)) out.push(`${m.toUpperCase()} ${l.route.path}`);
          else if (l.handle?.stack) walk(l.handle.stack);
        }
      };
      const root = (app as unknown as { router: { stack: Layer[] } }).router.stack;
      const mount = root.find((l) => l.rawPath === '/api/v1' && l.handle.stack);
      if (!mount) throw new Error('no /api/v1 router');
      walk(mount.handle.stack!);
      return out;
    }

    it('when every /api/v1 route registered in the app is listed, then each appears in openapi.json with its method', async () => {
      const doc = (await request(t.app).get('/api/v1/openapi.json').expect(200)).body as ReturnType<typeof openApiDocument>;
      const routes = apiRoutes(t.app);
      expect(routes.length).toBeGreaterThan(10);
      const paths = doc.paths as Record<string, Record<string, unknown>>;
      const missing = routes.filter((r) => {
        const [method, path] = r.split(' ');
        const p = path.replace(/:(\w+)/g, '{$1}');
        return !paths[p]?.[method.toLowerCase()];
      });
      expect(missing).toEqual([]);
    });
  });
});
