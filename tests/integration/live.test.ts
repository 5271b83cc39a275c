import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app';
import { createDataSource } from '../../src/db/data-source';
import { withTransaction } from '../../src/db/transaction';
import { createUser, User } from '../../src/modules/auth';
import type { Item } from '../../src/modules/items';
import { createMetricsRegistry } from '../../src/shared/metrics';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { listenApp, signInOver, SseClient } from '../support/sse';
import { PASSWORD, tokenFor } from '../support/staff';

/**
 * The live stream (SPEC §15) over real sockets: two app instances on one database, each with its
 * own LISTEN connection, as two servers behind a load balancer would be.
 */
describe('live stream GET /live', () => {
  let t: TestContext;
  let dbB: DataSource;
  let a: { url: string; close(): Promise<void> };
  let b: { url: string; close(): Promise<void> };
  let ana: User;
  let ben: User;
  let item: Item;
  const streams: SseClient[] = [];

  const staff = (name: string, email: string) =>
    withTransaction(t.db, (tx) =>
      createUser(tx, { at: new Date(), actor: { type: 'system' }, email, name, role: 'moderator', password: PASSWORD }),
    ).then((r) => r.user);
  const submit = async () => {
    const res = await request(t.app)
      .post('/api/v1/notices')
      .send({
        name: 'Ada Lovelace',
        email: 'ada@analytical.example',
        address: '12 Marylebone Road, London',
        country: 'GB',
        role: 'owner',
        workDescription: 'My article.',
        infringingUrls: [`http://localhost:3000/items/${item.slug}`],
        goodFaith: true,
        accuracy: true,
        signature: 'Ada Lovelace',
      })
      .expect(201);
    return res.body.reference as string;
  };
  const open = async (url: string, cookie?: string) => {
    const s = await SseClient.open(url, cookie);
    streams.push(s);
    return s;
  };

  beforeAll(async () => {
    t = await createTestContext({ env: { LIVE_HEARTBEAT_SECONDS: '1', INTAKE_PER_HOUR: '10000', SENDER_BURST: '10000' } });
    dbB = createDataSource(t.dbUrl, { poolSize: 5 });
    await dbB.initialize();
    const appB = createApp({ ...t, db: dbB, metrics: createMetricsRegistry() });
    a = await listenApp(t.app);
    b = await listenApp(appB);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await a.close();
    await b.close();
    await new Promise((r) => setTimeout(r, 1_200)); // the hubs close their LISTEN connections a second after the last client
    await dbB.destroy();
    await t.close();
  });
  beforeEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await truncateAll(t.db);
    ana = await staff('Ana Ortega', 'ana@desk.example');
    ben = await staff('Ben Brandt', 'ben@desk.example');
    item = await makeItem(t.db, await makeSource(t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] }));
  });

  it('when a moderator claims a notice on instance A, then the stream of a colleague on instance B shows the new holder and the new counts', async () => {
    const reference = await submit();
    const cookie = await signInOver(b.url, ben.email, PASSWORD);
    const s = await open(`${b.url}/live?notice=${reference}`, cookie);
    expect(s.response.statusCode).toBe(200);
    expect(s.response.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(s.response.headers['cache-control']).toBe('no-store');
    const first = await s.next('counts');
    expect(first.data.byStatus.pending).toBe(1);
    expect((await s.next('presence')).data).toMatchObject({ ref: reference, viewers: [], holder: null, status: 'pending' });

    const from = s.mark;
    await request(a.url)
      .post(`/api/v1/notices/${reference}/claim`)
      .set('Authorization', `Bearer ${await tokenFor(t.db, ana)}`)
      .expect(200);
    const [row] = await t.db.query(`SELECT status, assignee_id FROM notices WHERE reference = $1`, [reference]);
    expect(row).toEqual({ status: 'in_review', assignee_id: ana.id });

    const change = await s.next('notice', (d) => d.ref === reference, 10_000, from);
    expect(change.data).toMatchObject({ status: 'in_review', holder: { id: ana.id, name: 'Ana Ortega' } });
    expect((await s.next('presence', (d) => d.holder !== null, 10_000, from)).data).toMatchObject({
      ref: reference,
      holder: { name: 'Ana Ortega' },
    });
    const counts = await s.next('counts', (d) => d.byStatus.in_review === 1, 10_000, from);
    expect(counts.data).toMatchObject({ total: 1, byStatus: { pending: 0, in_review: 1 } });
  });

  it('when several browsers are connected to each instance, then each instance holds ONE listening connection and fans a change out to all of them', async () => {
    const reference = await submit();
    const [cookieA, cookieB] = [await signInOver(a.url, ana.email, PASSWORD), await signInOver(b.url, ben.email, PASSWORD)];
    const all: SseClient[] = [];
    for (let i = 0; i < 3; i++) all.push(await open(`${a.url}/live`, cookieA), await open(`${b.url}/live?notice=${reference}`, cookieB));
    for (const s of all) await s.next('counts');
    // The hubs' connections (application_name takedown-desk-live) on this test's database: one per instance,
    // not one per browser. A connection of an earlier test may still be closing, hence the wait for the count.
    const live = async () =>
      (
        await t.db.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'takedown-desk-live'`,
        )
      )[0].n as number;
    for (let n = await live(), tries = 0; n !== 2 && tries < 50; n = await live(), tries++) await new Promise((r) => setTimeout(r, 100));
    expect(await live()).toBe(2);

    const marks = all.map((s) => s.mark);
    await request(a.url)
      .post(`/api/v1/notices/${reference}/claim`)
      .set('Authorization', `Bearer ${await tokenFor(t.db, ana)}`)
      .expect(200);
    for (const [i, s] of all.entries())
      expect((await s.next('notice', (d) => d.ref === reference, 10_000, marks[i])).data).toMatchObject({ status: 'in_review' });
    expect(await live()).toBe(2);
  });

  it('when a moderator decides a notice on instance A, then B hears the decision; a refused second claim sends nothing', async () => {
    const reference = await submit();
    const anaToken = await tokenFor(t.db, ana);
    await request(a.url).post(`/api/v1/notices/${reference}/claim`).set('Authorization', `Bearer ${anaToken}`).expect(200);
    const s = await open(`${b.url}/live`, await signInOver(b.url, ben.email, PASSWORD));
    await s.next('counts', (d) => d.byStatus.in_review === 1);
    const from = s.mark;
    // A lost race (409) rolls back: nothing is announced.
    await request(a.url)
      .post(`/api/v1/notices/${reference}/claim`)
      .set('Authorization', `Bearer ${await tokenFor(t.db, ben)}`)
      .expect(409);
    await request(a.url)
      .post(`/api/v1/notices/${reference}/decision`)
      .set('Authorization', `Bearer ${anaToken}`)
      .send({ action: 'reject', reason: 'The work is not identified.' })
      .expect(200);
    const decided = await s.next('notice', (d) => d.ref === reference, 10_000, from);
    expect(decided.data).toMatchObject({ status: 'rejected' });
    expect(s.events.slice(from).filter((e) => e.event === 'notice')).toHaveLength(1);
    expect((await s.next('counts', (d) => d.total === 0, 10_000, from)).data.byStatus.in_review).toBe(0);
  });

  it('when two moderators view one notice on different instances, then each sees the other; when one leaves, then the other sees it at once', async () => {
    const reference = await submit();
    const onA = await open(`${a.url}/live?notice=${reference}`, await signInOver(a.url, ana.email, PASSWORD));
    await onA.next('presence');
    const onB = await open(`${b.url}/live?notice=${reference}`, await signInOver(b.url, ben.email, PASSWORD));
    expect((await onB.next('presence', (d) => d.viewers.length === 1)).data.viewers).toEqual([{ id: ana.id, name: 'Ana Ortega' }]);
    expect((await onA.next('presence', (d) => d.viewers.length === 1)).data.viewers).toEqual([{ id: ben.id, name: 'Ben Brandt' }]);

    const from = onA.mark;
    onB.close();
    expect((await onA.next('presence', (d) => d.viewers.length === 0, 10_000, from)).data).toMatchObject({ ref: reference, viewers: [] });
  });

  it("when a viewer's instance dies without saying goodbye, then its presence expires after three missed heartbeats", async () => {
    const reference = await submit();
    const s = await open(`${a.url}/live?notice=${reference}`, await signInOver(a.url, ana.email, PASSWORD));
    await s.next('presence');
    // Another instance announces a viewer once and is never heard from again.
    await t.db.query(`SELECT pg_notify('td_live', $1)`, [
      JSON.stringify({ k: 'view', i: 'dead-instance', c: 'c1', ref: reference, uid: ben.id, name: 'Ben Brandt', on: true }),
    ]);
    await s.next('presence', (d) => d.viewers.some((v: { name: string }) => v.name === 'Ben Brandt'));
    const from = s.mark;
    const gone = await s.next('presence', (d) => d.viewers.length === 0, 12_000, from);
    expect(gone.data.ref).toBe(reference);
  });

  it('when the stream stays open, then a heartbeat arrives every LIVE_HEARTBEAT_SECONDS', async () => {
    const s = await open(`${a.url}/live`, await signInOver(a.url, ana.email, PASSWORD));
    const one = await s.next('heartbeat', () => true, 4_000);
    const two = await s.next('heartbeat', () => true, 4_000, s.events.indexOf(one) + 1);
    expect(new Date(two.data.at).getTime()).toBeGreaterThan(new Date(one.data.at).getTime());
    expect(s.comments).toContain('connected');
  });

  it('when nobody is signed in, then the stream opens nothing and sends to the login page; a non-stream client gets 406; an unknown notice is 404 and a bad reference 422', async () => {
    const anon = await open(`${a.url}/live`);
    expect(anon.response.statusCode).toBe(303);
    expect(anon.response.headers.location).toBe('/login?next=%2Flive');
    expect(anon.response.headers['content-type'] ?? '').not.toMatch(/event-stream/);
    const cookie = await signInOver(a.url, ana.email, PASSWORD);
    const json = await fetch(`${a.url}/live`, { headers: { Cookie: cookie, Accept: 'application/json' } });
    expect(json.status).toBe(406);
    expect(((await json.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/text\/event-stream/);
    expect((await open(`${a.url}/live?notice=TD-999999`, cookie)).response.statusCode).toBe(404);
    expect((await open(`${a.url}/live?notice=nonsense`, cookie)).response.statusCode).toBe(422);
  });

  it('when a moderator opens a notice, then the page carries the presence box and its script, and no action is disabled', async () => {
    const reference = await submit();
    const cookie = await signInOver(a.url, ana.email, PASSWORD);
    const page = await fetch(`${a.url}/notices/${reference}`, { headers: { Cookie: cookie } });
    const html = await page.text();
    expect(html).toContain(`data-live-notice="${reference}"`);
    expect(html).toContain('<script src="/static/live.js" defer></script>');
    expect(html).toMatch(/<button type="submit">Claim<\/button>/);
    expect(html).not.toMatch(/disabled/);
  });
});
