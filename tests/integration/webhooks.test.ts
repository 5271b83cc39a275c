import request from 'supertest';
import { createApp } from '../../src/app';
import { createLeaseHolder } from '../../src/db/leases';
import type { MailWorker } from '../../src/modules/mail';
import { withTransaction } from '../../src/db/transaction';
import { processBatches } from '../../src/modules/batches';
import { closeNotice, Notice } from '../../src/modules/notices';
import { claimNotice } from '../../src/modules/review';
import { createWebhookWorker, WebhookWorker, WebhookWorkerOptions } from '../../src/modules/webhooks';
import { ManualClock, systemClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import { createMetricsRegistry } from '../../src/shared/metrics';
import { approveForTest, COMPLAINANT } from '../support/approve-fixture';
import { testConfig, TestContext } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createMailingContext, MailingContext } from '../support/mailing';
import { makeReady, PortalAgent, portalAgent, portalToken } from '../support/portal';
import type { SmtpSink } from '../support/smtp-sink';
import { createStaff, csrfFrom, csrfOf } from '../support/staff';
import { startWebhookReceiver, verifySignature, WebhookReceiver } from '../support/webhook-receiver';

const RIGHTS = 'rights@analytical.example';
const { email: _e, ...NOTICE } = COMPLAINANT;

describe('webhooks: registered by the submitter, signed deliveries from a durable outbox, ordered, retried, disabled', () => {
  const clock = new ManualClock(new Date('2026-12-01T10:00:00Z'));
  let t: TestContext;
  let sink: SmtpSink;
  let mail: MailWorker;
  let mailing: MailingContext;
  let agent: PortalAgent;
  let token: string;
  let pages: string[];
  let rx: WebhookReceiver;
  const workers: WebhookWorker[] = [];

  const rows = (sql: string, params: unknown[] = []) => t.db.query(sql, params);
  const api = () => ({
    post: (path: string) => request(t.app).post(path).set('Authorization', `Bearer ${token}`),
    get: (path: string) => request(t.app).get(path).set('Authorization', `Bearer ${token}`),
    delete: (path: string) => request(t.app).delete(path).set('Authorization', `Bearer ${token}`),
  });
  const register = async (path: string, events = ['notice.status_changed', 'notice.decided']) => {
    const res = await api()
      .post('/api/v1/webhooks')
      .send({ url: `${rx.base}${path}`, events })
      .expect(201);
    return res.body as { id: string; secret: string };
  };
  const sendNotice = async (url: string) =>
    (
      await api()
        .post('/api/v1/notices')
        .send({ ...NOTICE, infringingUrls: [url] })
        .expect(201)
    ).body.reference as string;
  const worker = (opts: WebhookWorkerOptions = {}, config = t.config) => {
    const w = createWebhookWorker(
      { db: t.db, config, logger: createLogger('silent'), clock, sessionSecret: t.sessionSecret },
      { retryBaseMs: 1_000, random: () => 0, ...opts },
    );
    workers.push(w);
    return w;
  };
  const deliveries = (webhookId: string) =>
    rows(
      `SELECT id, event_type, ordering_key, status, attempts, last_status_code, last_error, body FROM webhook_deliveries
        WHERE webhook_id = $1 ORDER BY id`,
      [webhookId],
    );
  const events = (path: string) => rx.at(path).map((r) => JSON.parse(r.body) as { id: string; type: string; data: any });

  beforeAll(async () => {
    mailing = await createMailingContext({
      clock,
      workerClock: systemClock,
      env: { ALLOW_PRIVATE_WEBHOOKS: 'true', INTAKE_PER_HOUR: '10000' },
    });
    ({ t, sink, worker: mail } = mailing);
    rx = await startWebhookReceiver();
  });
  afterAll(async () => {
    await rx.close();
    await mailing.close();
  });
  beforeEach(async () => {
    await mailing.reset();
    rx.received.length = 0;
    const source = await makeSource(t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    pages = [];
    for (let i = 0; i < 6; i++) pages.push(`http://localhost:3000/items/${(await makeItem(t.db, source)).slug}`);
    agent = await portalAgent(t.app, mail, sink, RIGHTS);
    token = await portalToken(agent, 'hooks');
  });
  afterEach(async () => {
    rx.releaseHung('destroy');
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });

  it('when a webhook is registered with a submitter token, then the secret is answered once, stored sealed, and registration is audited', async () => {
    const { id, secret } = await register('/hooks');
    expect(secret).toMatch(/^whsec_[\w-]{40,}$/);
    const [row] = await rows(`SELECT url, events, status, secret_sealed, secret_prefix FROM webhooks WHERE id = $1`, [id]);
    expect(row).toMatchObject({ url: `${rx.base}/hooks`, events: ['notice.status_changed', 'notice.decided'], status: 'active' });
    expect(row.secret_sealed).not.toContain(secret.slice(6));
    expect(row.secret_prefix).toBe(secret.slice(0, 10));
    const list = await api().get('/api/v1/webhooks').expect(200);
    expect(list.body.webhooks).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect((await rows(`SELECT action, subject_id FROM audit_events WHERE action LIKE 'webhook.%'`))[0]).toEqual({
      action: 'webhook.registered',
      subject_id: id,
    });
    // Bad input: field errors, nothing stored.
    const bad = await api()
      .post('/api/v1/webhooks')
      .send({ url: 'ftp://example.org/x', events: ['notice.eaten'] })
      .expect(422);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['events', 'url']);
    await request(t.app)
      .post('/api/v1/webhooks')
      .send({ url: `${rx.base}/x`, events: ['notice.decided'] })
      .expect(401);
    // Delete: gone, audited.
    await api().delete(`/api/v1/webhooks/${id}`).expect(204);
    await api().get(`/api/v1/webhooks/${id}`).expect(404);
    expect(await rows(`SELECT id FROM webhooks`)).toEqual([]);
  });

  it('when a moderator decides a notice, then the receiver gets status_changed and decided events, signed with the secret, with the per-URL outcomes', async () => {
    const { id, secret } = await register('/hooks');
    const reference = await sendNotice(pages[0]);
    await approveForTest(t.db, reference, clock.now());
    const result = await worker().drain();
    expect(result).toMatchObject({ delivered: 4, retried: 0, failed: 0 });

    const got = rx.at('/hooks');
    for (const r of got) {
      const sig = verifySignature(r.headers['takedown-signature'] as string, r.body, secret);
      expect(sig.ok).toBe(true);
      expect(sig.t).toBe(Math.floor(clock.now().getTime() / 1000));
      expect(verifySignature(r.headers['takedown-signature'] as string, r.body, `${secret}x`).ok).toBe(false);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const ev = events('/hooks');
    expect(ev.map((e) => [e.type, e.data.status])).toEqual([
      ['notice.status_changed', 'pending'],
      ['notice.status_changed', 'in_review'],
      ['notice.status_changed', 'approved'],
      ['notice.decided', 'approved'],
    ]);
    // The intake's event, written in the intake's one statement, carries the new notice's targets.
    expect(ev[0]).toMatchObject({
      type: 'notice.status_changed',
      data: { reference, previousStatus: null, decision: null, targets: [{ url: pages[0], outcome: 'pending' }] },
    });
    expect(ev[3]).toMatchObject({
      type: 'notice.decided',
      data: { reference, previousStatus: 'in_review', decision: 'approved', targets: [{ url: pages[0], outcome: 'removed' }] },
    });
    expect(Object.keys(ev[3]).sort()).toEqual(['createdAt', 'data', 'id', 'type']);
    expect(got[3].headers['takedown-event-id']).toBe(ev[3].id);
    const log = await api().get(`/api/v1/webhooks/${id}`).expect(200);
    expect(log.body.lastStatusCode).toBe(200);
    expect(log.body.deliveries.map((d: { status: string; lastStatusCode: number }) => [d.status, d.lastStatusCode])).toEqual(
      Array(4).fill(['delivered', 200]),
    );
  });

  it('when a delivery is queued, then a listening worker is woken at the commit and sends it without any poll', async () => {
    const { secret } = await register('/woken');
    const w = worker();
    await w.listen();
    // listen() looks once for anything committed before it listened; let that look end. From here
    // on nothing polls: only the NOTIFY sent with the delivery can start a drain.
    await w.drain();
    expect(rx.at('/woken')).toHaveLength(0);
    const reference = await sendNotice(pages[0]);
    for (let i = 0; i < 200 && rx.at('/woken').length < 1; i++) await new Promise((r) => setTimeout(r, 50));
    const ev = events('/woken');
    expect(ev.map((e) => [e.type, e.data.reference, e.data.status])).toEqual([['notice.status_changed', reference, 'pending']]);
    expect(verifySignature(rx.at('/woken')[0].headers['takedown-signature'] as string, rx.at('/woken')[0].body, secret).ok).toBe(true);
  });

  it('when a notice is decided in a transaction that rolls back, then no event is queued (the outbox commits with the change)', async () => {
    await register('/hooks');
    const reference = await sendNotice(pages[0]);
    const mod = await createStaff(t.db, { role: 'moderator' });
    const actor = { id: mod.id, email: mod.email, role: 'moderator' as const };
    const deps = { db: t.db, clock, config: testConfig() };
    await claimNotice(deps, { reference, actor });
    // The decision's transaction fails after the notice was closed (and its events queued): all of it rolls back.
    await expect(
      withTransaction(t.db, async (tx) => {
        const notice = await tx.getRepository(Notice).findOneByOrFail({ reference });
        await closeNotice(tx, deps, notice, {
          event: 'reject',
          decision: 'rejected',
          reason: 'not ours',
          decidedBy: mod.id,
          audit: { actor: { type: 'user', id: mod.id, label: mod.email }, action: 'notice.rejected' },
          at: clock.now(),
        });
        expect(await tx.query(`SELECT count(*)::int AS n FROM webhook_deliveries`)).toEqual([{ n: 4 }]);
        throw new Error('the email could not be queued');
      }),
    ).rejects.toThrow('the email could not be queued');
    expect((await rows(`SELECT event_type FROM webhook_deliveries ORDER BY id`)).map((r: { event_type: string }) => r.event_type)).toEqual([
      'notice.status_changed',
      'notice.status_changed',
    ]);
  });

  it('when the first delivery for a notice fails, then the later events for that notice wait, and after the retry succeeds all arrive in order', async () => {
    const { id } = await register('/ordered');
    rx.answer('/ordered', 500, 503, 200);
    const reference = await sendNotice(pages[0]);
    await approveForTest(t.db, reference, clock.now());
    const w = worker();

    expect(await w.drain()).toMatchObject({ delivered: 0, retried: 1 });
    expect(rx.at('/ordered')).toHaveLength(1); // the later three waited for the first
    clock.advance(1_000); // back-off: 1 s × 2^0 × (½ + ½·0)
    expect(await w.drain()).toMatchObject({ retried: 1 });
    expect(rx.at('/ordered')).toHaveLength(2);
    clock.advance(2_000);
    expect(await w.drain()).toMatchObject({ delivered: 4 });

    const ev = events('/ordered');
    const firstIds = new Set(ev.slice(0, 3).map((e) => e.id));
    expect(firstIds.size).toBe(1); // the same event, retried
    expect(ev.slice(2).map((e) => [e.type, e.data.status])).toEqual([
      ['notice.status_changed', 'pending'],
      ['notice.status_changed', 'in_review'],
      ['notice.status_changed', 'approved'],
      ['notice.decided', 'approved'],
    ]);
    const d = await deliveries(id);
    expect(d.map((r: { status: string; attempts: number }) => [r.status, r.attempts])).toEqual([
      ['delivered', 3],
      ['delivered', 1],
      ['delivered', 1],
      ['delivered', 1],
    ]);
  });

  it('when a receiver answers 5xx for longer than the retry window, then the delivery fails, the webhook is disabled, and the submitter gets an email', async () => {
    const { id } = await register('/broken');
    rx.answer('/broken', 500);
    const reference = await sendNotice(pages[0]);
    const w = worker();
    expect(await w.drain()).toMatchObject({ retried: 1 });
    clock.advance(25 * 3_600_000);
    await approveForTest(t.db, reference, clock.now()); // more events queue up behind the failing one
    expect(await w.drain()).toMatchObject({ failed: 1 });

    const [hook] = await rows(`SELECT status, disabled_reason, last_status_code FROM webhooks WHERE id = $1`, [id]);
    expect(hook).toMatchObject({ status: 'disabled', last_status_code: 500 });
    expect(hook.disabled_reason).toMatch(/24 hours/);
    expect((await deliveries(id)).map((r: { status: string }) => r.status)).toEqual(['failed', 'pending', 'pending', 'pending']);
    expect((await rows(`SELECT action, subject_id FROM audit_events WHERE action = 'webhook.disabled'`))[0].subject_id).toBe(id);

    await mail.drain();
    const emails = sink.to(RIGHTS).filter((m) => /webhook was disabled/i.test(m.parsed.subject ?? ''));
    expect(emails).toHaveLength(1);
    expect(emails[0].parsed.text).toContain(`${rx.base}/broken`);
    expect(emails[0].parsed.text).toContain('HTTP 500');
    expect(emails[0].parsed.text).toContain(`/portal/webhooks/${id}`);

    // Disabled: nothing more is tried, until the submitter enables it again; then the rest arrive in order.
    const before = rx.at('/broken').length;
    expect(await w.drain()).toMatchObject({ claimed: 0 });
    expect(rx.at('/broken')).toHaveLength(before);
    rx.answer('/broken', 200);
    await api().post(`/api/v1/webhooks/${id}/enable`).expect(200);
    expect(await w.drain()).toMatchObject({ delivered: 3 });
    expect(
      events('/broken')
        .slice(-3)
        .map((e) => e.data.status),
    ).toEqual(['in_review', 'approved', 'approved']);
  });

  it('when one receiver hangs, then another receiver still gets its deliveries at once, and the hanging ones are retried after the timeout', async () => {
    const hung = await register('/hang');
    await register('/fast');
    rx.answer('/hang', 'hang');
    for (const p of pages) await sendNotice(p);
    const w = worker({ timeoutMs: 2_000, perReceiver: 2, concurrency: 4 });
    const started = Date.now();
    const drained = w.drain();
    await rx.waitFor(() => rx.at('/fast').length === 6, 1_500);
    expect(Date.now() - started).toBeLessThan(1_500); // well before the hanging receiver's timeout
    expect(rx.at('/hang').length).toBeLessThanOrEqual(2); // it holds at most its two slots
    const result = await drained;
    expect(result.delivered).toBe(6);
    expect(result.retried).toBeGreaterThanOrEqual(2);
    const d = await deliveries(hung.id);
    expect(d.filter((r: { status: string }) => r.status === 'pending')).toHaveLength(6);
    expect(d.filter((r: { last_error: string | null }) => /no answer within 2 s/.test(r.last_error ?? '')).length).toBeGreaterThanOrEqual(
      2,
    );
  });

  it('when a receiver answers with a redirect, then it is not followed and the delivery is retried', async () => {
    const { id } = await register('/moved');
    rx.answer('/moved', { redirect: `${rx.base}/elsewhere` });
    await sendNotice(pages[0]);
    expect(await worker().drain()).toMatchObject({ retried: 1 });
    expect(rx.at('/elsewhere')).toHaveLength(0);
    const [d] = await deliveries(id);
    expect(d).toMatchObject({ status: 'pending', last_status_code: 302 });
    expect(d.last_error).toMatch(/redirects are not followed/);
  });

  it('when private addresses are not allowed, then registration refuses a private literal and a name resolving to loopback, and delivery refuses them too', async () => {
    const strict = testConfig({ SMTP_URL: sink.url });
    expect(strict.webhooks.allowPrivate).toBe(false);
    const strictApp = createApp({ ...t, config: strict, metrics: createMetricsRegistry() });
    for (const url of [`${rx.base}/x`, `http://localhost:${rx.port}/x`, 'http://[::1]/x', 'http://169.254.169.254/latest']) {
      const res = await request(strictApp)
        .post('/api/v1/webhooks')
        .set('Authorization', `Bearer ${token}`)
        .send({ url, events: ['notice.decided'] })
        .expect(422);
      expect(res.body.errors).toEqual([{ field: 'url', message: expect.stringMatching(/private, loopback or link-local/) }]);
    }
    expect(await rows(`SELECT id FROM webhooks`)).toEqual([]);

    // Registered while allowed (or while the name pointed elsewhere); delivered by a worker that does not allow them.
    const byName = await request(t.app)
      .post('/api/v1/webhooks')
      .set('Authorization', `Bearer ${token}`)
      .send({ url: `http://localhost:${rx.port}/by-name`, events: ['notice.status_changed'] })
      .expect(201);
    await register('/by-literal', ['notice.status_changed']);
    await sendNotice(pages[0]);
    expect(await worker({}, strict).drain()).toMatchObject({ retried: 2, delivered: 0 });
    expect(rx.received).toHaveLength(0);
    const errors = (await rows(`SELECT last_error FROM webhook_deliveries ORDER BY webhook_id = $1 DESC`, [byName.body.id])).map(
      (r: { last_error: string }) => r.last_error,
    );
    expect(errors[0]).toMatch(/^refused: localhost resolves to a private, loopback or link-local address \((127\.0\.0\.1|::1)\)/);
    expect(errors[1]).toMatch(/^refused: 127\.0\.0\.1 is a private, loopback or link-local address/);
  });

  it('when the worker dies mid-delivery, then another instance delivers the event after the lease ends, and the dead one cannot overwrite the outcome', async () => {
    const { id } = await register('/crash', ['notice.status_changed']);
    rx.answer('/crash', 'hang', 200);
    await sendNotice(pages[0]);
    // Instance A: its heartbeat never renews (as if the process froze or died) and its lease is 1 s.
    const leasesA = createLeaseHolder(t.db, { leaseMs: 1_000, heartbeatMs: 3_600_000, name: 'dying' });
    const a = createWebhookWorker(
      { db: t.db, config: t.config, logger: createLogger('silent'), clock, sessionSecret: t.sessionSecret, leases: leasesA },
      { timeoutMs: 30_000 },
    );
    workers.push(a);
    const aRun = a.drain();
    await rx.waitFor(() => rx.at('/crash').length === 1);
    // A freezes: it claims nothing more and never renews; its one request stays open.
    const aStopped = a.stop();
    // B, a healthy instance, waits its turn: the row is A's while A's lease lasts.
    const b = worker();
    expect(await b.drain()).toMatchObject({ claimed: 0 });
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await b.drain()).toMatchObject({ claimed: 1, delivered: 1 });
    rx.releaseHung('ok'); // A's request finally returns: too late, its outcome is fenced off
    expect(await aRun).toMatchObject({ delivered: 0, lost: 1 });
    await aStopped;
    const [d] = await deliveries(id);
    expect(d).toMatchObject({ status: 'delivered', attempts: 2, last_status_code: 200 });
    const ids = events('/crash').map((e) => e.id);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1); // at least once: the same event id, which the receiver can drop
    await leasesA.stop();
  });

  it('when a batch finishes, then batch.completed is delivered with its counts, signed', async () => {
    await makeReady(agent);
    const { secret } = await register('/batches', ['batch.completed']);
    const batch = await api()
      .post('/api/v1/batches')
      .send({
        works: [
          { description: 'Notes on the Engine, chapter 1', infringingUrls: [pages[0], pages[1]] },
          { description: 'Notes on the Engine, chapter 2', infringingUrls: [pages[2]] },
        ],
      })
      .expect(202);
    await processBatches({ ...t, logger: createLogger('silent') });
    expect(await worker().drain()).toMatchObject({ delivered: 1 });
    const [got] = rx.at('/batches');
    expect(verifySignature(got.headers['takedown-signature'] as string, got.body, secret).ok).toBe(true);
    expect(JSON.parse(got.body)).toMatchObject({
      type: 'batch.completed',
      data: { id: batch.body.id, status: 'done', works: 2, urls: 3, notices: 2, refusedWorks: 0 },
    });
  });

  it('when the submitter registers a webhook in the portal, then the secret is shown once, the form needs CSRF, and the delivery log shows the last response code', async () => {
    let csrf = await csrfOf(agent, '/portal/webhooks');
    const bad = await agent.post('/portal/webhooks').type('form').send({ _csrf: csrf, url: 'not a url' }).expect(422);
    expect(bad.text).toContain('Give the http(s) URL of your receiver');
    expect(bad.text).toContain('Choose one or more of');
    await agent
      .post('/portal/webhooks')
      .type('form')
      .send({ url: `${rx.base}/portal-hook`, events: 'notice.status_changed' })
      .expect(403);
    expect(await rows(`SELECT id FROM webhooks`)).toEqual([]);

    csrf = await csrfOf(agent, '/portal/webhooks');
    await agent
      .post('/portal/webhooks')
      .type('form')
      .send({ _csrf: csrf, url: `${rx.base}/portal-hook`, events: ['notice.status_changed', 'notice.decided'] })
      .expect(303);
    const page = await agent.get('/portal/webhooks').expect(200);
    const secret = /<code class="secret">(whsec_[\w-]+)<\/code>/.exec(page.text)![1];
    expect((await agent.get('/portal/webhooks').expect(200)).text).not.toContain(secret);
    const [hook] = await rows(`SELECT id, events FROM webhooks`);
    expect(hook.events).toEqual(['notice.status_changed', 'notice.decided']);

    rx.answer('/portal-hook', 202);
    await sendNotice(pages[0]);
    await worker().drain();
    expect(
      verifySignature(rx.at('/portal-hook')[0].headers['takedown-signature'] as string, rx.at('/portal-hook')[0].body, secret).ok,
    ).toBe(true);
    const log = await agent.get(`/portal/webhooks/${hook.id}`).expect(200);
    expect(log.text).toContain('notice.status_changed');
    expect(log.text).toContain('HTTP 202');

    csrf = csrfFrom(log.text);
    await agent.post(`/portal/webhooks/${hook.id}/delete`).type('form').send({ _csrf: csrf }).expect(303);
    expect(await rows(`SELECT id FROM webhooks`)).toEqual([]);
    expect(
      (await rows(`SELECT action FROM audit_events WHERE action LIKE 'webhook.%' ORDER BY id`)).map((r: { action: string }) => r.action),
    ).toEqual(['webhook.registered', 'webhook.deleted']);
  });
  it('when /metrics is scraped, then it reports deliveries by outcome, the due queue and its oldest, disabled webhooks, and attempts by outcome', async () => {
    const scrape = async () => (await request(t.app).get('/metrics').expect(200)).text;
    const value = (text: string, series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      if (!line) throw new Error(`${series} is not on /metrics`);
      return Number(line.slice(series.length + 1));
    };
    clock.set(new Date()); // deliveries are due by the database's clock
    await register('/counted');
    const { id: broken } = await register('/failing');
    rx.answer('/failing', 500);
    await sendNotice(pages[0]); // one event, one delivery to each webhook
    await rows(`UPDATE webhook_deliveries SET next_attempt_at = next_attempt_at - interval '90 seconds'`);
    let m = await scrape();
    expect(value(m, 'takedown_webhook_deliveries{status="pending"}')).toBe(2);
    expect(value(m, 'takedown_webhook_deliveries{status="delivered"}')).toBe(0);
    expect(value(m, 'takedown_webhook_queue_due')).toBe(2);
    expect(value(m, 'takedown_webhook_queue_oldest_due_age_seconds')).toBeGreaterThanOrEqual(90);
    expect(value(m, 'takedown_webhooks{status="active"}')).toBe(2);
    expect(value(m, 'takedown_webhooks{status="disabled"}')).toBe(0);

    // The worker of this app's process counts its attempts on the same registry.
    const w = createWebhookWorker(
      { db: t.db, config: t.config, logger: createLogger('silent'), clock, sessionSecret: t.sessionSecret, metrics: t.metrics },
      { retryBaseMs: 10 * 60_000, random: () => 0 },
    );
    workers.push(w);
    expect(await w.drain()).toMatchObject({ delivered: 1, retried: 1 });
    m = await scrape();
    expect(value(m, 'takedown_webhook_deliveries{status="delivered"}')).toBe(1);
    expect(value(m, 'takedown_webhook_deliveries{status="pending"}')).toBe(1);
    expect(value(m, 'takedown_webhook_queue_due')).toBe(0); // the failed one waits for its retry
    expect(value(m, 'takedown_webhook_queue_oldest_due_age_seconds')).toBe(0);
    expect(value(m, 'takedown_webhook_delivery_attempts_total{outcome="delivered"}')).toBe(1);
    expect(value(m, 'takedown_webhook_delivery_attempts_total{outcome="retried"}')).toBe(1);

    // Still failing past the retry window: the delivery fails and its webhook is disabled.
    clock.advance(25 * 3_600_000);
    expect(await w.drain()).toMatchObject({ failed: 1 });
    m = await scrape();
    expect(value(m, 'takedown_webhook_deliveries{status="failed"}')).toBe(1);
    expect(value(m, 'takedown_webhooks{status="disabled"}')).toBe(1);
    expect(value(m, 'takedown_webhooks{status="active"}')).toBe(1);
    expect(value(m, 'takedown_webhook_delivery_attempts_total{outcome="failed"}')).toBe(1);
    expect((await rows(`SELECT status FROM webhooks WHERE id = $1`, [broken]))[0].status).toBe('disabled');
  });
});
