import { freePort } from '../../src/db/embedded';
import { Item } from '../../src/modules/items';
import { createTestDatabase } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createStaff, tokenFor } from '../support/staff';
import { AppProcess, sleep, startApp, waitFor } from './support/app-process';
import { call, noticeBody } from './support/http';
import { startForwarder, startVarnish, Varnish } from './support/varnish';

/**
 * A real Varnish (Debian's varnishd with deploy/varnish/default.vcl) in front of the real server:
 *  - public pages are served from Varnish (a second request is a hit: `Age`, two ids in `X-Varnish`);
 *    staff routes, the API and POSTs are passed;
 *  - an approved notice turns the item page into 451 *at the edge* within 1 s (the app's purge
 *    worker, woken by NOTIFY at commit, sends PURGE with the item's surrogate key);
 *  - with the purge endpoint down for 10 s, the edge keeps the stale page meanwhile, and the purge
 *    is delivered (and audited) once the endpoint is back.
 * The purge goes through a TCP forwarder (PURGE_URLS) so the endpoint can be taken down without
 * losing Varnish's cache.
 */
const POLL_MS = 25;

describe('when the app runs behind Varnish', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let app: AppProcess;
  let varnish: Varnish;
  let forwarder: Awaited<ReturnType<typeof startForwarder>>;
  let items: Item[];
  let moderatorToken: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const source = await makeSource(database.db);
    items = [];
    for (let i = 0; i < 3; i++) items.push(await makeItem(database.db, source));
    moderatorToken = await tokenFor(database.db, await createStaff(database.db, { role: 'moderator' }));
    const varnishPort = await freePort();
    forwarder = await startForwarder({ port: varnishPort });
    app = await startApp({ DATABASE_URL: database.url, PURGE_URLS: forwarder.url });
    varnish = await startVarnish({ backendPort: app.port, port: varnishPort });
  });

  afterAll(async () => {
    await varnish?.stop();
    await app?.stop();
    await forwarder?.close();
    await database?.drop();
  });

  const edge = (path: string, init: RequestInit = {}) =>
    fetch(`${varnish.url}${path}`, { redirect: 'manual', signal: AbortSignal.timeout(15_000), ...init }).then(async (res) => ({
      status: res.status,
      headers: res.headers,
      text: await res.text(),
    }));
  const isHit = (h: Headers) => /^\d+ \d+$/.test(h.get('x-varnish') ?? '');

  /** Submits, claims and approves a notice for the item through the app's API (not through Varnish). */
  const approve = async (item: Item, who: string) => {
    const submitted = await call(app.url, 'POST', '/api/v1/notices', { body: noticeBody(who, [item.originalUrl]) });
    expect(submitted.status).toBe(201);
    const reference = submitted.body.reference as string;
    expect((await call(app.url, 'POST', `/api/v1/notices/${reference}/claim`, { token: moderatorToken, body: {} })).status).toBe(200);
    const decision = await call(app.url, 'POST', `/api/v1/notices/${reference}/decision`, {
      token: moderatorToken,
      body: { action: 'approve', reason: 'The claim is valid.' },
    });
    expect(decision.status).toBe(200);
    return reference;
  };
  const purgeRowsFor = (item: Item) =>
    database.db.query(`SELECT * FROM edge_purges WHERE $1 = ANY(keys) ORDER BY created_at`, [`item-${item.id}`]);

  it("then public pages are served from the cache, with the app's s-maxage, and staff routes, the API and POSTs are passed", async () => {
    const path = `/items/${items[2].slug}`;
    const first = await edge(path);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('public, max-age=60, s-maxage=86400');
    expect(first.headers.get('surrogate-key')).toBe(`item-${items[2].id} source-${items[2].sourceId}`);
    const second = await edge(path);
    expect(second.status).toBe(200);
    expect(isHit(second.headers)).toBe(true);
    expect(second.headers.get('age')).toMatch(/^\d+$/);
    expect(second.text).toBe(first.text);
    for (const p of ['/', '/feed.xml', '/sitemap.xml', '/transparency']) {
      await edge(p);
      expect([p, isHit((await edge(p)).headers)]).toEqual([p, true]);
    }
    for (const p of ['/login', '/api/v1/openapi.json', '/takedown']) {
      await edge(p);
      expect([p, isHit((await edge(p)).headers)]).toEqual([p, false]);
    }
    const post = await edge('/takedown', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'name=x',
    });
    expect(post.status).toBe(422);
    expect(isHit(post.headers)).toBe(false);
    const withSession = await edge(path, { headers: { Cookie: 'td.sid=s%3Aanything' } });
    expect(isHit(withSession.headers)).toBe(false);
    // A purge from outside the ACL is refused (the test runs on loopback, which is allowed: a bad request instead).
    expect((await edge('/', { method: 'PURGE' })).status).toBe(400);
  });

  // The house rule: no timing assertions in tests. The 1 s goal (SPEC §16) is measured by `npm run bench -- edge`
  // (purge p99); here the 451 must reach the edge while the test polls (10 s), and the delay is printed.
  it('then an approved notice turns the item page into 451 at the edge, and the purge is audited', async () => {
    const item = items[0];
    const path = `/items/${item.slug}`;
    await edge(path);
    expect(isHit((await edge(path)).headers)).toBe(true);
    await approve(item, 'edge0');
    const decided = Date.now();
    let res = await edge(path);
    while (res.status !== 451 && Date.now() - decided < 10_000) {
      await sleep(POLL_MS);
      res = await edge(path);
    }
    const delay = Date.now() - decided;
    process.stdout.write(`varnish: approval → first 451 at the edge after ${delay} ms (poll every ${POLL_MS} ms)\n`);
    expect(res.status).toBe(451);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(isHit(res.headers)).toBe(false);
    expect(isHit((await edge(path)).headers)).toBe(false); // a 451 is never kept
    const front = await edge('/');
    expect(front.text).not.toContain(item.slug);

    const [row] = await waitFor(
      'the purge to be recorded',
      async () => {
        const rows = await purgeRowsFor(item);
        return rows[0]?.status === 'sent' ? rows : null;
      },
      10_000,
    );
    expect(row.done_targets).toEqual([`varnish:${forwarder.url}`]);
    const [event] = await database.db.query(`SELECT * FROM audit_events WHERE action = 'cache.purged' AND subject_id = $1`, [row.id]);
    expect(event.details.keys).toContain(`item-${item.id}`);
  });

  it('then with the purge endpoint down for 10 s, the purge is delivered when it returns and the edge answers 451', async () => {
    const item = items[1];
    const path = `/items/${item.slug}`;
    await edge(path);
    expect(isHit((await edge(path)).headers)).toBe(true);
    await forwarder.down();
    await approve(item, 'edge1');
    const downAt = Date.now();
    // The app answers 451 at once; the edge, unreachable for purges, still has the page.
    expect((await call(app.url, 'GET', path)).status).toBe(451);
    await waitFor(
      'a failed purge attempt',
      async () => {
        const [row] = await purgeRowsFor(item);
        return row && row.status === 'queued' && row.attempts >= 1 && row.last_error ? row : null;
      },
      10_000,
    );
    const stale = await edge(path);
    expect(stale.status).toBe(200);
    expect(isHit(stale.headers)).toBe(true);
    await sleep(Math.max(0, 10_000 - (Date.now() - downAt)));
    expect((await purgeRowsFor(item))[0].status).toBe('queued');
    expect((await edge(path)).status).toBe(200);

    await forwarder.up();
    const upAt = Date.now();
    await waitFor('the edge to answer 451 after the endpoint came back', async () => (await edge(path)).status === 451, 60_000, 100);
    process.stdout.write(`varnish: purge endpoint back → 451 at the edge after ${Date.now() - upAt} ms (retry back-off)\n`);
    const [row] = await waitFor(
      'the purge to be recorded',
      async () => {
        const rows = await purgeRowsFor(item);
        return rows[0]?.status === 'sent' ? rows : null;
      },
      10_000,
    );
    expect(row.attempts).toBeGreaterThanOrEqual(2);
    const [event] = await database.db.query(`SELECT * FROM audit_events WHERE action = 'cache.purged' AND subject_id = $1`, [row.id]);
    expect(event.details.attempts).toBe(row.attempts);
  });
});
