import request from 'supertest';
import type { MailWorker } from '../../src/modules/mail';
import type { Item, Source } from '../../src/modules/items';
import { processBulkJobs } from '../../src/modules/review';
import type { User } from '../../src/modules/auth';
import { ManualClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import type { TestContext } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createMailingContext, MailingContext } from '../support/mailing';
import type { SmtpSink } from '../support/smtp-sink';
import { createStaff, csrfFrom, csrfOf, signedInAgent, tokenFor } from '../support/staff';

const BASE = 'http://localhost:3000';

/**
 * Bulk decisions (SPEC §15): the queue's bulk form and `POST /api/v1/notices/bulk`, each notice its
 * own transaction through the review use cases, lost races as results naming who won, and the
 * durable job for sets over 50 that survives a process dying half-way.
 */
describe('bulk decisions', () => {
  let mailing: MailingContext;
  let t: TestContext;
  let sink: SmtpSink;
  let worker: MailWorker;
  let clock: ManualClock;
  let vendorA: Source;
  let vendorB: Source;
  let itemsA: Item[];
  let itemsB: Item[];
  let ana: User;
  let ben: User;
  let admin: User;
  let anaToken: string;
  let benToken: string;

  beforeAll(async () => {
    clock = new ManualClock(new Date());
    mailing = await createMailingContext({ clock, env: { INTAKE_PER_HOUR: '100000', SENDER_BURST: '10000' } });
    ({ t, sink, worker } = mailing);
  });
  afterAll(() => mailing.close());
  beforeEach(async () => {
    await mailing.reset();
    clock.set(new Date());
    vendorA = await makeSource(t.db, { name: 'Alpha Wire', domains: ['alphawire.example'], contactEmail: 'desk@alphawire.example' });
    vendorB = await makeSource(t.db, { name: 'Beta Post', domains: ['betapost.example'], contactEmail: 'desk@betapost.example' });
    itemsA = [];
    itemsB = [];
    for (let i = 0; i < 4; i++) itemsA.push(await makeItem(t.db, vendorA, { originalUrl: `https://alphawire.example/story-${i}` }));
    for (let i = 0; i < 2; i++) itemsB.push(await makeItem(t.db, vendorB, { originalUrl: `https://betapost.example/story-${i}` }));
    ana = await createStaff(t.db, { role: 'moderator', email: 'ana@desk.example', name: 'Ana Moderator' });
    ben = await createStaff(t.db, { role: 'moderator', email: 'ben@desk.example', name: 'Ben Moderator' });
    admin = await createStaff(t.db, { role: 'admin', email: 'admin@desk.example', name: 'Ada Admin' });
    [anaToken, benToken] = await Promise.all([tokenFor(t.db, ana), tokenFor(t.db, ben)]);
  });

  const pageUrl = (i: Item) => `${BASE}/items/${i.slug}`;
  const submit = async (urls: string[], email = 'claims@rights.example') => {
    const res = await request(t.app)
      .post('/api/v1/notices')
      .send({
        name: 'Rita Rights',
        organization: 'Rights Co',
        email,
        address: '1 Claim Street, London',
        country: 'GB',
        role: 'owner',
        workDescription: 'Our article.',
        infringingUrls: urls,
        goodFaith: true,
        accuracy: true,
        signature: 'Rita Rights',
      })
      .expect(201);
    return res.body.reference as string;
  };
  const api = (token: string) => ({
    post: (path: string, body: object = {}) => request(t.app).post(`/api/v1${path}`).set('Authorization', `Bearer ${token}`).send(body),
    get: (path: string) => request(t.app).get(`/api/v1${path}`).set('Authorization', `Bearer ${token}`),
  });
  const rows = (sql: string, params: unknown[] = []) => t.db.query(sql, params);
  const statusOf = async (ref: string) => (await rows(`SELECT status FROM notices WHERE reference = $1`, [ref]))[0].status as string;
  const events = (ref: string) =>
    rows(`SELECT action, actor_label, request_id FROM audit_events WHERE subject_type = 'notice' AND subject_id = $1 ORDER BY id`, [ref]);
  const drain = async () => {
    clock.set(new Date(Math.max(Date.now(), clock.now().getTime()) + 1000));
    await worker.drain();
  };
  const job = (token: string, id: string) => api(token).get(`/jobs/${id}`).expect(200);
  const run = (opts: Parameters<typeof processBulkJobs>[1] = {}) =>
    processBulkJobs({ db: t.db, config: t.config, clock: t.clock, logger: createLogger('silent') }, opts);

  it('when a bulk reject is sent with a filter, then exactly the notices the filter matches are rejected, each with its claim, rejection, audit events and email', async () => {
    const a = [await submit([pageUrl(itemsA[0])]), await submit([pageUrl(itemsA[1])]), await submit([pageUrl(itemsA[2])])];
    const b = await submit([pageUrl(itemsB[0])], 'other@rights.example');
    const res = await api(anaToken)
      .post('/notices/bulk', { action: 'reject', filter: { source: vendorA.id, status: 'pending' }, reason: 'Licensed under CC BY.' })
      .expect(202);
    expect(res.body).toEqual({ id: expect.any(String), total: 3 });
    const done = await job(anaToken, res.body.id);
    expect(done.body).toMatchObject({ status: 'done', total: 3, done: 3, action: 'reject' });
    const sorted = [...done.body.results].sort((x: { reference: string }, y: { reference: string }) =>
      x.reference < y.reference ? -1 : 1,
    );
    expect(sorted).toEqual(a.map((reference) => ({ reference, ok: true, error: null, code: null, by: null })));
    for (const ref of a) {
      expect(await statusOf(ref)).toBe('rejected');
      // Like a moderator by hand: claimed, then rejected; both tagged with the job's request id.
      expect((await events(ref)).slice(1)).toEqual([
        { action: 'notice.claimed', actor_label: 'ana@desk.example', request_id: `bulk:${res.body.id}` },
        { action: 'notice.rejected', actor_label: 'ana@desk.example', request_id: `bulk:${res.body.id}` },
      ]);
    }
    expect(await statusOf(b)).toBe('pending');
    const [created] = await rows(`SELECT details FROM audit_events WHERE action = 'bulk_job.created'`);
    expect(created.details).toMatchObject({ action: 'reject', total: 3, filter: { source: vendorA.id, status: 'pending' } });
    expect(await rows(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'bulk_job.completed'`)).toEqual([{ n: 1 }]);

    await drain();
    const rejected = sink.to('claims@rights.example').filter((m) => /not acted on/.test(m.parsed.subject ?? ''));
    expect(rejected.map((m) => a.find((r) => m.parsed.subject!.includes(r))).sort()).toEqual([...a].sort());
    for (const m of rejected) expect(m.parsed.text).toContain('Licensed under CC BY.');
    expect(
      sink.to('other@rights.example').filter((m) => (m.parsed.subject ?? '').includes(b) && /not acted on/.test(m.parsed.subject!)),
    ).toEqual([]);
  });

  it('when a bulk spam is sent with references, then exactly those notices close, unknown references are left out and nothing is emailed for them', async () => {
    const [x, y, z] = [await submit([pageUrl(itemsA[0])]), await submit([pageUrl(itemsA[1])]), await submit([pageUrl(itemsB[0])])];
    const res = await api(anaToken)
      .post('/notices/bulk', { action: 'spam', references: [x, z.toLowerCase(), 'TD-999999'] })
      .expect(202);
    const done = await job(anaToken, res.body.id);
    expect(done.body.total).toBe(2);
    expect(done.body.results.map((r: { reference: string; ok: boolean }) => [r.reference, r.ok])).toEqual([
      [x, true],
      [z, true],
    ]);
    expect([await statusOf(x), await statusOf(y), await statusOf(z)]).toEqual(['spam', 'pending', 'spam']);
    expect(await rows(`SELECT count(*)::int AS n FROM outbound_emails WHERE template = 'notice-rejected'`)).toEqual([{ n: 0 }]);
  });

  it("when two moderators bulk-claim overlapping sets at once, then each notice is claimed exactly once and the loser's results say by whom", async () => {
    const refs: string[] = [];
    for (let i = 0; i < 8; i++) refs.push(await submit([pageUrl(itemsA[i % 4])]));
    const [ra, rb] = await Promise.all([
      api(anaToken)
        .post('/notices/bulk', { action: 'claim', references: refs.slice(0, 6) })
        .expect(202),
      api(benToken)
        .post('/notices/bulk', { action: 'claim', references: refs.slice(2, 8) })
        .expect(202),
    ]);
    const [ja, jb] = [(await job(anaToken, ra.body.id)).body, (await job(benToken, rb.body.id)).body];
    expect([ja.status, jb.status]).toEqual(['done', 'done']);
    const claims = await rows(
      `SELECT subject_id, count(*)::int AS n, min(actor_label) AS who FROM audit_events WHERE action = 'notice.claimed' GROUP BY subject_id`,
    );
    expect(claims).toHaveLength(8);
    expect(claims.every((c: { n: number }) => c.n === 1)).toBe(true);
    const holder = Object.fromEntries(claims.map((c: { subject_id: string; who: string }) => [c.subject_id, c.who]));
    for (const [results, me, other] of [
      [ja.results, 'ana@desk.example', 'Ben Moderator'],
      [jb.results, 'ben@desk.example', 'Ana Moderator'],
    ] as const) {
      for (const r of results as { reference: string; ok: boolean; error: string; by: string }[]) {
        if (holder[r.reference] === me) expect(r.ok).toBe(true);
        else expect(r).toMatchObject({ ok: false, error: `claimed by ${other}`, by: other });
      }
    }
    // The overlap (4 notices) went to one or the other, never both; outside it each got its own.
    const lost = [...ja.results, ...jb.results].filter((r: { ok: boolean }) => !r.ok);
    expect(lost).toHaveLength(4);
    expect(new Set(lost.map((r: { reference: string }) => r.reference))).toEqual(new Set(refs.slice(2, 6)));
  });

  it('when a bulk approve contains a notice someone else has just decided, then that one is a result naming them and the others are approved, removed and emailed', async () => {
    const [x, y, z] = [await submit([pageUrl(itemsA[0])]), await submit([pageUrl(itemsA[1])]), await submit([pageUrl(itemsA[2])])];
    await api(benToken).post(`/notices/${y}/claim`).expect(200);
    await api(benToken).post(`/notices/${y}/decision`, { action: 'reject', reason: 'Fair use.' }).expect(200);
    const res = await api(anaToken)
      .post('/notices/bulk', { action: 'approve', references: [x, y, z] })
      .expect(202);
    const done = await job(anaToken, res.body.id);
    expect(done.body.results).toEqual([
      { reference: x, ok: true, error: null, code: null, by: null },
      { reference: y, ok: false, error: 'rejected by Ben Moderator', code: 'NOTICE.INVALID_TRANSITION', by: 'Ben Moderator' },
      { reference: z, ok: true, error: null, code: null, by: null },
    ]);
    expect([await statusOf(x), await statusOf(y), await statusOf(z)]).toEqual(['approved', 'rejected', 'approved']);
    expect(await rows(`SELECT id, status FROM items WHERE id = ANY($1) ORDER BY id`, [[itemsA[0].id, itemsA[1].id, itemsA[2].id]])).toEqual(
      [itemsA[0], itemsA[1], itemsA[2]]
        .map((i) => ({ id: i.id, status: i === itemsA[1] ? 'published' : 'removed' }))
        .sort((p, q) => (p.id < q.id ? -1 : 1)),
    );
    expect((await events(y)).map((e: { action: string }) => e.action)).toEqual(['notice.submitted', 'notice.claimed', 'notice.rejected']);
    await drain();
    const removedMail = sink.to('desk@alphawire.example');
    expect(removedMail).toHaveLength(2);
    expect((await request(t.app).get(`/items/${itemsA[0].slug}`)).status).toBe(451);
  });

  it('when a moderator bulk-releases notices, then the ones they hold go back to the queue, each with its event, and one a colleague holds is a result naming him', async () => {
    const [x, y, z] = [await submit([pageUrl(itemsA[0])]), await submit([pageUrl(itemsA[1])]), await submit([pageUrl(itemsA[2])])];
    await api(anaToken).post(`/notices/${x}/claim`).expect(200);
    await api(benToken).post(`/notices/${y}/claim`).expect(200);
    await api(anaToken).post(`/notices/${z}/claim`).expect(200);
    const res = await api(anaToken)
      .post('/notices/bulk', { action: 'release', references: [x, y, z] })
      .expect(202);
    const done = await job(anaToken, res.body.id);
    expect(done.body).toMatchObject({ status: 'done', total: 3, done: 3 });
    expect(done.body.results).toEqual([
      { reference: x, ok: true, error: null, code: null, by: null },
      { reference: y, ok: false, error: 'claimed by Ben Moderator', code: 'NOTICE.CLAIMED_BY_OTHER', by: 'Ben Moderator' },
      { reference: z, ok: true, error: null, code: null, by: null },
    ]);
    expect(
      await rows(`SELECT reference, status, assignee_id FROM notices WHERE reference = ANY($1) ORDER BY reference`, [[x, y, z]]),
    ).toEqual(
      [
        { reference: x, status: 'pending', assignee_id: null },
        { reference: y, status: 'in_review', assignee_id: ben.id },
        { reference: z, status: 'pending', assignee_id: null },
      ].sort((p, q) => (p.reference < q.reference ? -1 : 1)),
    );
    for (const ref of [x, z])
      expect((await events(ref)).at(-1)).toEqual({
        action: 'notice.released',
        actor_label: 'ana@desk.example',
        request_id: `bulk:${res.body.id}`,
      });
    expect((await events(y)).map((e: { action: string }) => e.action)).toEqual(['notice.submitted', 'notice.claimed']);
  });

  it('when approve is asked for notices with a URL not on this site, then it is refused before anything is done (approve is only offered when every URL matched)', async () => {
    const x = await submit([pageUrl(itemsA[0])]);
    const y = await submit([pageUrl(itemsA[1]), 'https://elsewhere.example/x']);
    const res = await api(anaToken)
      .post('/notices/bulk', { action: 'approve', references: [x, y] })
      .expect(422);
    expect(res.body.errors).toEqual([{ field: 'action', message: expect.stringContaining('1 of these have URLs not on this site') }]);
    expect(await rows(`SELECT count(*)::int AS n FROM bulk_jobs`)).toEqual([{ n: 0 }]);
    expect(await statusOf(x)).toBe('pending');
  });

  it('when the request is wrong (both a filter and references, an unknown filter key, no reason to reject, no token, an unknown job), then 422 / 401 / 404 with the fields named', async () => {
    const x = await submit([pageUrl(itemsA[0])]);
    const both = await api(anaToken)
      .post('/notices/bulk', { action: 'spam', references: [x], filter: { status: 'pending' } })
      .expect(422);
    expect(both.body.errors.map((e: { field: string }) => e.field)).toEqual(['references']);
    const key = await api(anaToken)
      .post('/notices/bulk', { action: 'spam', filter: { colour: 'red' } })
      .expect(422);
    expect(key.body.errors.map((e: { field: string }) => e.field)).toEqual(['filter.colour']);
    const reason = await api(anaToken)
      .post('/notices/bulk', { action: 'reject', references: [x] })
      .expect(422);
    expect(reason.body.errors.map((e: { field: string }) => e.field)).toEqual(['reason']);
    const action = await api(anaToken)
      .post('/notices/bulk', { action: 'destroy', references: [x] })
      .expect(422);
    expect(action.body.errors.map((e: { field: string }) => e.field)).toEqual(['action']);
    await request(t.app)
      .post('/api/v1/notices/bulk')
      .send({ action: 'spam', references: [x] })
      .expect(401);
    await api(anaToken).get('/jobs/00000000-0000-4000-8000-000000000000').expect(404);
    await api(anaToken).get('/jobs/not-a-uuid').expect(404);
    expect(await statusOf(x)).toBe('pending');
    expect(await rows(`SELECT count(*)::int AS n FROM bulk_jobs`)).toEqual([{ n: 0 }]);
  });

  it('when a set of more than 50 is sent, then it becomes a job that the worker runs, and a process dying half-way is resumed after its lease without deciding any notice twice', async () => {
    const refs: string[] = [];
    for (let i = 0; i < 60; i++) refs.push(await submit([pageUrl(itemsA[i % 4])], `vendor${i % 3}@rights.example`));
    const res = await api(anaToken)
      .post('/notices/bulk', { action: 'reject', filter: { source: vendorA.id }, reason: 'Licensed.' })
      .expect(202);
    expect((await job(anaToken, res.body.id)).body).toMatchObject({ status: 'queued', total: 60, done: 0, results: [] });

    let seen = 0;
    await expect(
      run({
        afterNotice: () => {
          if (++seen === 20) throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow('simulated crash');
    const half = (await job(anaToken, res.body.id)).body;
    expect(half.status).toBe('running');
    expect(half.done).toBeLessThan(60);
    // Its lease still runs: nobody takes the job over yet.
    expect(await run()).toBe(0);
    // The dead process's registration expires (PostgreSQL's clock decides): the job is free.
    await rows(`UPDATE worker_instances SET expires_at = now() - interval '1 second' WHERE expires_at > now()`);
    expect(await run()).toBe(1);

    const done = (await job(anaToken, res.body.id)).body;
    expect(done).toMatchObject({ status: 'done', total: 60, done: 60 });
    expect(done.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    expect(await rows(`SELECT status, count(*)::int AS n FROM notices GROUP BY status`)).toEqual([{ status: 'rejected', n: 60 }]);
    // Each notice decided once: the notice that committed before the "crash" was recognised, not redone.
    expect(
      await rows(
        `SELECT action, count(*)::int AS n FROM audit_events WHERE action IN ('notice.claimed', 'notice.rejected') GROUP BY action ORDER BY action`,
      ),
    ).toEqual([
      { action: 'notice.claimed', n: 60 },
      { action: 'notice.rejected', n: 60 },
    ]);
    expect(await rows(`SELECT count(*)::int AS n FROM outbound_emails WHERE template = 'notice-rejected'`)).toEqual([{ n: 60 }]);
  });

  it('when a moderator uses the bulk form with "all matching this filter", then a confirmation shows the count and preview, the reason is asked, and the job page reports each notice', async () => {
    const a = [await submit([pageUrl(itemsA[0])]), await submit([pageUrl(itemsA[1])])];
    const b = await submit([pageUrl(itemsB[0])]);
    const agent = await signedInAgent(t.app, ana.email);
    const queue = await agent.get(`/queue?source=${vendorA.id}`).expect(200);
    expect(queue.text).toContain('all 2 matching this filter');
    // The notice's link carries the filter, for "decide and next" (handlebars escapes "=" as &#x3D;).
    expect(queue.text).toContain(`href="/notices/${a[0]}?from&#x3D;source%3D${vendorA.id}"`);
    const csrf = csrfFrom(queue.text);
    const form = { _csrf: csrf, action: 'reject', scope: 'filter', filter_source: vendorA.id, references: [b] };
    const confirm = await agent.post('/queue/bulk').type('form').send(form).expect(200);
    expect(confirm.text).toContain('reject: 2 notices?');
    for (const ref of a) expect(confirm.text).toContain(ref);
    expect(confirm.text).not.toContain(b);
    expect(await rows(`SELECT count(*)::int AS n FROM bulk_jobs`)).toEqual([{ n: 0 }]);

    const noReason = await agent
      .post('/queue/bulk')
      .type('form')
      .send({ ...form, _csrf: csrfFrom(confirm.text), confirm: 'yes' })
      .expect(422);
    expect(noReason.text).toMatch(/<p class="field-error" id="bulk-reason-error">Choose or write the reason/);
    const ran = await agent
      .post('/queue/bulk')
      .type('form')
      .send({ ...form, _csrf: csrfFrom(noReason.text), confirm: 'yes', canned: 'licensed' })
      .expect(303);
    const page = await agent.get(ran.headers.location).expect(200);
    expect(page.text).toContain('2 done, 0 refused');
    expect([await statusOf(a[0]), await statusOf(a[1]), await statusOf(b)]).toEqual(['rejected', 'rejected', 'pending']);
    const [n] = await rows(`SELECT decision_reason FROM notices WHERE reference = $1`, [a[0]]);
    expect(n.decision_reason).toMatch(/licence or permission/);
  });

  it('when the bulk form has nothing ticked, then the queue comes back 422 with the error beside the selection', async () => {
    await submit([pageUrl(itemsA[0])]);
    const agent = await signedInAgent(t.app, ana.email);
    const csrf = await csrfOf(agent, '/queue');
    const res = await agent.post('/queue/bulk').type('form').send({ _csrf: csrf, action: 'claim', scope: 'selected' }).expect(422);
    expect(res.text).toMatch(/id="references-error">No notice matches/);
  });

  it('when a set over 50 is confirmed on the form, then the job page shows its progress and reloads itself until the worker is done', async () => {
    for (let i = 0; i < 51; i++) await submit([pageUrl(itemsA[i % 4])]);
    const agent = await signedInAgent(t.app, admin.email);
    const csrf = await csrfOf(agent, '/queue');
    const ran = await agent
      .post('/queue/bulk')
      .type('form')
      .send({ _csrf: csrf, action: 'assign', assignee: ben.id, scope: 'filter', confirm: 'yes' })
      .expect(303);
    const running = await agent.get(ran.headers.location).expect(200);
    expect(running.headers.refresh).toBe('2');
    expect(running.text).toContain('Working: 0 of 51 done.');
    expect(await run()).toBe(1);
    const done = await agent.get(ran.headers.location).expect(200);
    expect(done.headers.refresh).toBeUndefined();
    expect(done.text).toContain('51 done, 0 refused');
    expect(await rows(`SELECT assignee_id, count(*)::int AS n FROM notices GROUP BY assignee_id`)).toEqual([
      { assignee_id: ben.id, n: 51 },
    ]);
  });

  it('when a moderator rejects with "and next", then the next notice of the same filter opens, skipping one a colleague holds', async () => {
    const [x, y, z] = [await submit([pageUrl(itemsA[0])]), await submit([pageUrl(itemsA[1])]), await submit([pageUrl(itemsA[2])])];
    await api(benToken).post(`/notices/${y}/claim`).expect(200);
    await api(anaToken).post(`/notices/${x}/claim`).expect(200);
    const agent = await signedInAgent(t.app, ana.email);
    const from = `source=${vendorA.id}`;
    const page = await agent.get(`/notices/${x}?from=${encodeURIComponent(from)}`).expect(200);
    expect(page.text).toContain('Reject and next');
    const res = await agent
      .post(`/notices/${x}/reject`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), canned: 'licensed', from, next: '1' })
      .expect(303);
    expect(res.headers.location).toBe(`/notices/${z}?from=${encodeURIComponent(from)}`);
    const next = await agent.get(res.headers.location).expect(200);
    expect(next.text).toContain(`${x}: rejected; the complainant is emailed. Next: ${z}.`);
    expect(await statusOf(x)).toBe('rejected');
  });

  it('when a moderator saves a view as default, then /queue opens it, a colleague opens it by its link, and only its owner may delete it', async () => {
    const a = await submit([pageUrl(itemsA[0])]);
    const b = await submit([pageUrl(itemsB[0])]);
    const agent = await signedInAgent(t.app, ana.email);
    const csrf = await csrfOf(agent, `/queue?source=${vendorB.id}`);
    const saved = await agent
      .post('/queue/views')
      .type('form')
      .send({ _csrf: csrf, name: 'Beta <Post>', default: 'yes', filter_source: vendorB.id })
      .expect(303);
    const [view] = await rows(`SELECT id, user_id, name, filter, is_default FROM saved_views`);
    expect(view).toEqual({
      id: expect.any(String),
      user_id: ana.id,
      name: 'Beta <Post>',
      filter: { source: vendorB.id },
      is_default: true,
    });
    expect(saved.headers.location).toBe(`/queue?view=${view.id}`);
    const mine = await agent.get('/queue').expect(200);
    expect(mine.text).toContain('View <strong>Beta &lt;Post&gt;</strong>');
    expect(mine.text).toContain(b);
    expect(mine.text).not.toContain(a);
    const all = await agent.get('/queue?all=1').expect(200);
    expect(all.text).toContain(a);

    const colleague = await signedInAgent(t.app, ben.email);
    const shared = await colleague.get(`/queue?view=${view.id}`).expect(200);
    expect(shared.text).toContain('(shared by Ana Moderator)');
    expect(shared.text).toContain(b);
    expect(shared.text).not.toContain(a);
    expect((await colleague.get('/queue').expect(200)).text).toContain(a); // not Ben's default
    const benCsrf = await csrfOf(colleague, '/queue');
    await colleague.post(`/queue/views/${view.id}/delete`).type('form').send({ _csrf: benCsrf }).expect(403);
    const empty = await agent.post('/queue/views').type('form').send({ _csrf: csrf, name: ' ' }).expect(422);
    expect(empty.text).toMatch(/id="view-name-error">Name the view/);
    await agent.post(`/queue/views/${view.id}/delete`).type('form').send({ _csrf: csrf }).expect(303);
    expect(await rows(`SELECT count(*)::int AS n FROM saved_views`)).toEqual([{ n: 0 }]);
    expect(
      (await rows(`SELECT action FROM audit_events WHERE subject_type = 'saved_view' ORDER BY id`)).map(
        (e: { action: string }) => e.action,
      ),
    ).toEqual(['saved_view.saved', 'saved_view.deleted']);
    await agent.get('/queue?view=00000000-0000-4000-8000-000000000000').expect(404);
  });
});
