import net from 'node:net';
import request from 'supertest';
import { createLeaseHolder } from '../../src/db/leases';
import { withTransaction } from '../../src/db/transaction';
import { createLogger } from '../../src/shared/logger';
import { createPurgeWorker, PurgeWorker, queuePurge } from '../../src/modules/edge';
import { seedDemo } from '../../src/demo/seed-demo';
import { Item, removeItems, restoreItems, withdrawSource } from '../../src/modules/items';
import { createTestContext, TestContext, testConfig, truncateAll } from '../support/context';
import { startPurgeSink } from '../support/purge-sink';

const SYSTEM = { type: 'system' as const };
const NOTICE_ID = '00000000-0000-4000-8000-00000000abcd';
const ZONE = '0123456789abcdef0123456789abcdef';

describe('HTTP caching of public pages and edge purges (SPEC §16)', () => {
  let t: TestContext;
  let sink: Awaited<ReturnType<typeof startPurgeSink>>;
  const workers: PurgeWorker[] = [];
  beforeAll(async () => {
    sink = await startPurgeSink();
    t = await createTestContext({ env: { PUBLIC_MAX_AGE: '30', EDGE_MAX_AGE: '3600' } });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await sink.close();
    await t.close();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });
  beforeEach(async () => {
    await truncateAll(t.db);
    await seedDemo(t);
    // The demo import queued its own purges (new items change the lists); each test starts without them.
    expect((await t.db.query(`SELECT keys FROM edge_purges`)).map((r: { keys: string[] }) => r.keys)).toContainEqual([
      'front',
      'feed',
      'sitemap',
    ]);
    await t.db.query('DELETE FROM edge_purges');
    sink.received.length = 0;
    sink.failing.clear();
    sink.release();
  });

  const allTargets = (extra: Record<string, string> = {}) =>
    testConfig({
      PURGE_URLS: `${sink.url}/varnish-a/, ${sink.url}/varnish-b/`,
      FASTLY_SERVICE_ID: 'SU1Z0isxPaozGVKXdv0eY',
      FASTLY_API_TOKEN: 'fastly-token-123',
      FASTLY_API_URL: `${sink.url}/fastly`,
      CLOUDFLARE_ZONE_ID: ZONE,
      CLOUDFLARE_API_TOKEN: 'cf-token-456789',
      CLOUDFLARE_API_URL: `${sink.url}/cf/client/v4`,
      ...extra,
    });
  const worker = (config = allTargets(), opts: { retryBaseMs?: number; timeoutMs?: number } = {}) => {
    const w = createPurgeWorker(
      { db: t.db, config, logger: createLogger('silent'), clock: t.clock },
      { retryBaseMs: opts.retryBaseMs ?? 1, random: () => 0, timeoutMs: opts.timeoutMs },
    );
    workers.push(w);
    return w;
  };
  const items = () => t.db.getRepository(Item).find({ relations: { source: true }, order: { listedAt: 'DESC' } });
  const remove = (item: Item) =>
    withTransaction(t.db, (tx) =>
      removeItems(tx, {
        itemIds: [item.id],
        noticeId: NOTICE_ID,
        reference: 'TD-000042',
        claimant: 'Rights Ltd',
        legalBasis: '17 U.S.C. § 512(c) (copyright)',
        actor: SYSTEM,
        at: t.clock.now(),
      }),
    );
  const purges = () => t.db.query(`SELECT * FROM edge_purges ORDER BY created_at, id`);

  it('when a reader fetches each public page, then it carries Cache-Control with s-maxage, surrogate keys, a validator and no cookie or Vary', async () => {
    const [item] = await items();
    const cases: [string, string[], string][] = [
      ['/', ['front'], 'public, max-age=30, s-maxage=3600'],
      [
        '/?before=' + Buffer.from(`${item.listedAt.toISOString()}|${item.id}`).toString('base64url'),
        ['front'],
        'public, max-age=30, s-maxage=3600',
      ],
      [`/items/${item.slug}`, [`item-${item.id}`, `source-${item.sourceId}`], 'public, max-age=30, s-maxage=3600'],
      ['/feed.xml', ['feed'], 'public, max-age=30, s-maxage=3600'],
      ['/sitemap.xml', ['sitemap'], 'public, max-age=30, s-maxage=3600'],
      ['/transparency', ['transparency'], 'public, max-age=30, s-maxage=300'],
    ];
    for (const [path, keys, cacheControl] of cases) {
      const res = await request(t.app).get(path).expect(200);
      expect([path, res.headers['cache-control']]).toEqual([path, cacheControl]);
      expect([path, res.headers['surrogate-key']]).toEqual([path, keys.join(' ')]);
      expect([path, res.headers['cache-tag']]).toEqual([path, keys.join(',')]);
      expect([path, typeof res.headers.etag]).toEqual([path, 'string']);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect([path, res.headers.vary]).toEqual([path, path === '/transparency' ? 'Accept' : undefined]);
    }
    const page = await request(t.app).get(`/items/${item.slug}`).expect(200);
    const newest = Math.max(item.updatedAt.getTime(), item.source!.updatedAt.getTime());
    expect(new Date(page.headers['last-modified']).getTime()).toBe(Math.floor(newest / 1000) * 1000);
  });

  it('when a client revalidates with If-None-Match or If-Modified-Since, then 304 without a body; a changed page answers 200', async () => {
    const [item] = await items();
    for (const path of ['/', `/items/${item.slug}`, '/feed.xml', '/sitemap.xml', '/transparency']) {
      const first = await request(t.app).get(path).expect(200);
      const again = await request(t.app).get(path).set('If-None-Match', first.headers.etag).expect(304);
      expect(again.text).toBe('');
      expect(again.headers['cache-control']).toBe(first.headers['cache-control']);
    }
    const page = await request(t.app).get(`/items/${item.slug}`).expect(200);
    await request(t.app).get(`/items/${item.slug}`).set('If-Modified-Since', page.headers['last-modified']).expect(304);
    await request(t.app)
      .get(`/items/${item.slug}`)
      .set('If-Modified-Since', new Date(Date.parse(page.headers['last-modified']) - 1000).toUTCString())
      .expect(200);
    const front = await request(t.app).get('/').expect(200);
    await remove(item);
    const after = await request(t.app).get('/').set('If-None-Match', front.headers.etag).expect(200);
    expect(after.text).not.toContain(item.slug);
  });

  it('when an item is removed or withdrawn, or a page does not exist, then 451, 410 and 404 are no-store and name no surrogate key', async () => {
    const [item, other] = await items();
    await remove(item);
    await withTransaction(t.db, (tx) =>
      withdrawSource(tx, { sourceId: other.sourceId, reason: 'opt-out', actor: SYSTEM, at: t.clock.now() }),
    );
    const withdrawn = (await items()).find((i) => i.status === 'withdrawn')!;
    for (const [path, status] of [
      [`/items/${item.slug}`, 451],
      [`/items/${withdrawn.slug}`, 410],
      ['/items/no-such-item', 404],
      ['/nowhere', 404],
    ] as const) {
      const res = await request(t.app).get(path).expect(status);
      expect([path, res.headers['cache-control']]).toEqual([path, 'no-store']);
      expect(res.headers['surrogate-key']).toBeUndefined();
      expect(res.headers['cache-tag']).toBeUndefined();
    }
  });

  it('when an item is removed, then its purge row is written in the same transaction, and rolled back with it', async () => {
    const [item, other] = await items();
    await expect(
      withTransaction(t.db, async (tx) => {
        await removeItems(tx, {
          itemIds: [other.id],
          noticeId: NOTICE_ID,
          reference: 'TD-000043',
          claimant: null,
          legalBasis: 'x',
          actor: SYSTEM,
          at: t.clock.now(),
        });
        throw new Error('the notice could not be closed');
      }),
    ).rejects.toThrow('the notice could not be closed');
    expect(await purges()).toEqual([]);
    expect((await t.db.getRepository(Item).findOneByOrFail({ id: other.id })).status).toBe('published');

    await remove(item);
    const [row] = await purges();
    expect(row).toMatchObject({ status: 'queued', attempts: 0, done_targets: [] });
    expect([...row.keys].sort()).toEqual([`item-${item.id}`, 'feed', 'front', 'sitemap', 'transparency'].sort());
    const [{ removed_at }] = await t.db.query('SELECT removed_at FROM items WHERE id = $1', [item.id]);
    expect(row.created_at.getTime()).toBe(removed_at.getTime());

    await withTransaction(t.db, (tx) =>
      restoreItems(tx, { itemIds: [item.id], reason: 'counter-notice', actor: SYSTEM, at: t.clock.now() }),
    );
    expect((await purges()).map((r: { keys: string[] }) => r.keys.includes(`item-${item.id}`))).toEqual([true, true]);
  });

  it('when the worker runs, then each target gets its documented request shape and the purge is audited cache.purged', async () => {
    const [item] = await items();
    await remove(item);
    const result = await worker().drain();
    expect(result).toMatchObject({ claimed: 1, sent: 1, retried: 0, failed: 0 });
    const keys = `item-${item.id} front feed sitemap transparency`;
    const by = (p: string) => sink.received.filter((r) => r.path.startsWith(p));
    for (const v of ['/varnish-a/', '/varnish-b/']) {
      const [req, ...more] = by(v);
      expect(more).toEqual([]);
      expect(req).toMatchObject({ method: 'PURGE', path: v, body: '' });
      expect(req.headers['surrogate-key']).toBe(keys);
      expect(req.headers.xkey).toBe(keys);
    }
    const [fastly] = by('/fastly');
    expect(fastly).toMatchObject({ method: 'POST', path: '/fastly/service/SU1Z0isxPaozGVKXdv0eY/purge' });
    expect(fastly.headers['fastly-key']).toBe('fastly-token-123');
    expect(fastly.headers['surrogate-key']).toBe(keys);
    const [cf] = by('/cf');
    expect(cf).toMatchObject({ method: 'POST', path: `/cf/client/v4/zones/${ZONE}/purge_cache` });
    expect(cf.headers.authorization).toBe('Bearer cf-token-456789');
    expect(cf.headers['content-type']).toBe('application/json');
    expect(JSON.parse(cf.body)).toEqual({ tags: keys.split(' ') });
    expect(sink.received).toHaveLength(4);

    const [row] = await purges();
    expect(row.status).toBe('sent');
    expect(row.sent_at).toBeInstanceOf(Date);
    expect([...row.done_targets].sort()).toEqual(
      ['cloudflare', 'fastly', `varnish:${sink.url}/varnish-a/`, `varnish:${sink.url}/varnish-b/`].sort(),
    );
    const [event] = await t.db.query(`SELECT * FROM audit_events WHERE action = 'cache.purged'`);
    expect(event).toMatchObject({ subject_type: 'edge_purge', subject_id: row.id, actor_type: 'system' });
    expect(event.details.keys).toEqual(row.keys);
    expect(event.details.targets).toHaveLength(4);
    expect(JSON.stringify(event.details)).not.toContain('token');
  });

  it('when PURGE_METHOD is BAN, then the Varnish endpoints get BAN with the keys', async () => {
    // Node's HTTP parser refuses the BAN method (Varnish accepts it), so this stand-in reads the raw request.
    const heads: string[] = [];
    const raw = net.createServer((socket) => {
      let data = '';
      socket.on('data', (c) => {
        data += c.toString('latin1');
        if (!data.includes('\r\n\r\n')) return;
        heads.push(data.split('\r\n\r\n')[0]);
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    try {
      await withTransaction(t.db, (tx) => queuePurge(tx, ['item-1', 'front'], t.clock.now()));
      const url = `http://127.0.0.1:${(raw.address() as net.AddressInfo).port}/v/`;
      expect(await worker(testConfig({ PURGE_URLS: url, PURGE_METHOD: 'BAN' })).drain()).toMatchObject({ sent: 1 });
      expect(heads).toHaveLength(1);
      const [line, ...headers] = heads[0].split('\r\n');
      expect(line).toBe('BAN /v/ HTTP/1.1');
      expect(headers.map((h) => h.toLowerCase())).toEqual(expect.arrayContaining(['surrogate-key: item-1 front', 'xkey: item-1 front']));
    } finally {
      await new Promise((r) => raw.close(r));
    }
  });

  it('when one endpoint fails, then only it is asked again after the back-off, and the purge is sent and audited once it answers', async () => {
    const [item] = await items();
    await remove(item);
    sink.failing.set('/fastly', 503);
    const w = worker();
    expect(await w.drain()).toMatchObject({ claimed: 1, sent: 0, retried: 1 });
    let [row] = await purges();
    expect(row).toMatchObject({ status: 'queued', attempts: 1 });
    expect(row.done_targets).not.toContain('fastly');
    expect(row.done_targets).toHaveLength(3);
    expect(row.last_error).toContain('fastly: HTTP 503');
    expect(await t.db.query(`SELECT 1 FROM audit_events WHERE action = 'cache.purged'`)).toEqual([]);

    sink.failing.clear();
    sink.received.length = 0;
    await new Promise((r) => setTimeout(r, 5)); // past the (1 ms) back-off
    expect(await w.drain()).toMatchObject({ claimed: 1, sent: 1 });
    expect(sink.received.map((r) => r.path)).toEqual(['/fastly/service/SU1Z0isxPaozGVKXdv0eY/purge']);
    [row] = await purges();
    expect(row).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
    expect(await t.db.query(`SELECT 1 FROM audit_events WHERE action = 'cache.purged'`)).toHaveLength(1);
  });

  it('when another live instance holds a purge, then this worker leaves it; when that instance stops heartbeating, then the purge is taken over, sent once and its claim cleared', async () => {
    await withTransaction(t.db, (tx) => queuePurge(tx, ['front'], t.clock.now()));
    const other = createLeaseHolder(t.db, { name: 'other-instance' });
    try {
      const [held] = await other.claim<{ id: string }>({
        table: 'edge_purges',
        where: `t.status = 'queued'`,
        limit: 10,
        set: 'attempts = t.attempts + 1',
        returning: 't.id',
      });
      expect(held.claimed_by).toBe(other.instanceId);
      const w = worker(testConfig({ PURGE_URLS: `${sink.url}/v/` }));
      expect(await w.drain()).toMatchObject({ claimed: 0 });
      expect(sink.received).toHaveLength(0);

      // The other instance dies: its registration runs out by PostgreSQL's clock.
      await t.db.query(`UPDATE worker_instances SET expires_at = now() - interval '1 second' WHERE id = $1`, [other.instanceId]);
      expect(await w.drain()).toMatchObject({ claimed: 1, sent: 1, lost: 0 });
      expect(sink.received).toHaveLength(1);
      const [row] = await purges();
      expect(row).toMatchObject({ id: held.id, status: 'sent', attempts: 2, claimed_by: null, claimed_at: null });
      expect(await t.db.query(`SELECT 1 FROM audit_events WHERE action = 'cache.purged'`)).toHaveLength(1);
    } finally {
      await other.stop();
    }
  });

  it('when an endpoint keeps failing past PURGE_MAX_ATTEMPTS, then the purge is failed and audited cache.purge_failed', async () => {
    await withTransaction(t.db, (tx) => queuePurge(tx, ['front'], t.clock.now()));
    sink.failing.set('/v/', 500);
    const w = worker(testConfig({ PURGE_URLS: `${sink.url}/v/`, PURGE_MAX_ATTEMPTS: '2' }));
    await w.drain();
    await new Promise((r) => setTimeout(r, 5));
    expect(await w.drain()).toMatchObject({ failed: 1 });
    const [row] = await purges();
    expect(row).toMatchObject({ status: 'failed', attempts: 2 });
    const [event] = await t.db.query(`SELECT * FROM audit_events WHERE action = 'cache.purge_failed'`);
    expect(event.details).toMatchObject({ keys: ['front'], missing: [`varnish:${sink.url}/v/`] });
    expect(sink.received).toHaveLength(2);
  });

  it('when the worker listens, then a committed removal is sent without waiting for a poll', async () => {
    const [item] = await items();
    const w = worker(testConfig({ PURGE_URLS: `${sink.url}/v/` }));
    await w.listen();
    const arrived = sink.next();
    await remove(item);
    const req = await arrived;
    expect(req.headers['surrogate-key']).toContain(`item-${item.id}`);
    for (let i = 0; i < 200 && (await purges())[0].status !== 'sent'; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await purges())[0].status).toBe('sent');
  });

  // Issue 18: a round stuck on an edge that does not answer used to hold back every wake-up until its
  // timeout (3.9–4.0 s to the edge). No poll runs here and the timeout is 10 minutes, so only the
  // NOTIFY wake-up, in a round of its own, can deliver the removal while the first request hangs.
  it('when a round waits on an edge that does not answer, then a removal committed meanwhile is sent on its NOTIFY without waiting for that round', async () => {
    const [item] = await items();
    sink.holding.add('stuck');
    await withTransaction(t.db, (tx) => queuePurge(tx, ['stuck'], t.clock.now()));
    const w = worker(testConfig({ PURGE_URLS: `${sink.url}/v/` }), { timeoutMs: 10 * 60_000 });
    const first = sink.next();
    await w.listen(); // drains what is queued: the request for `stuck`, which gets no answer
    expect((await first).headers['surrogate-key']).toBe('stuck');
    try {
      const arrived = sink.next();
      await remove(item);
      const req = await arrived;
      expect(req.headers['surrogate-key']).toContain(`item-${item.id}`);
      expect(sink.held()).toBe(1); // the first round is still waiting for its answer
      let rows = await purges();
      for (let i = 0; i < 500 && rows.find((r: { keys: string[] }) => r.keys.includes(`item-${item.id}`)).status !== 'sent'; i++) {
        await new Promise((r) => setTimeout(r, 10));
        rows = await purges();
      }
      const stuck = rows.find((r: { keys: string[] }) => r.keys.includes('stuck'));
      const removal = rows.find((r: { keys: string[] }) => r.keys.includes(`item-${item.id}`));
      expect(removal).toMatchObject({ status: 'sent', attempts: 1, claimed_by: null });
      expect(stuck).toMatchObject({ status: 'queued', attempts: 1 });
      expect(stuck.claimed_by).not.toBeNull(); // still held by the first round: not sent twice
      const events = await t.db.query(`SELECT subject_id FROM audit_events WHERE action = 'cache.purged'`);
      expect(events).toEqual([{ subject_id: removal.id }]);
    } finally {
      sink.release();
    }
  });

  it('when no purge target is configured, then queued purges are closed without requests or audit events', async () => {
    await withTransaction(t.db, (tx) => queuePurge(tx, ['front'], t.clock.now()));
    expect(await worker(testConfig()).drain()).toMatchObject({ claimed: 1, sent: 1 });
    expect((await purges())[0].status).toBe('sent');
    expect(sink.received).toEqual([]);
    expect(await t.db.query(`SELECT 1 FROM audit_events WHERE action LIKE 'cache.%'`)).toEqual([]);
  });

  it('when a key has a space or a comma, then queuePurge refuses it', async () => {
    await expect(withTransaction(t.db, (tx) => queuePurge(tx, ['front feed'], t.clock.now()))).rejects.toThrow('not a surrogate key');
    await expect(withTransaction(t.db, (tx) => queuePurge(tx, ['a,b'], t.clock.now()))).rejects.toThrow('not a surrogate key');
  });
});

describe('the sitemap past 50,000 URLs (SPEC §16)', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
  });
  afterAll(() => t.close());

  it('when more than 49,999 items are published, then /sitemap.xml is an index with lastmod, and each part lists at most 50,000 URLs and carries its keys', async () => {
    await truncateAll(t.db);
    const [{ id: sourceId }] = await t.db.query(`INSERT INTO sources (name, domains) VALUES ('Many', '{many.example}') RETURNING id`);
    const total = 49_999 + 2;
    await t.db.query(
      `INSERT INTO items (source_id, slug, title, original_url, original_url_normalised, guid, first_fetched_at, last_fetched_at, listed_at, raw_sha256, content, excerpt, updated_at)
       SELECT $1, 'many-' || g, 'Many ' || g, 'https://many.example/' || g, 'https://many.example/' || g, 'g' || g, now(), now(),
              timestamptz '2026-01-01' + g * interval '1 second', md5(g::text) || md5(g::text), '<p>x</p>', 'x', timestamptz '2026-06-01' + g * interval '1 second'
       FROM generate_series(1, $2::int) g`,
      [sourceId, total],
    );
    const index = await request(t.app).get('/sitemap.xml').expect(200);
    expect(index.text).toContain('<sitemapindex');
    const entries = [...index.text.matchAll(/<sitemap><loc>([^<]+)<\/loc><lastmod>([^<]+)<\/lastmod><\/sitemap>/g)].map((m) => [
      m[1],
      m[2],
    ]);
    // Oldest first in parts of 49,999: part n's lastmod is its newest change.
    expect(entries).toEqual([
      ['http://localhost:3000/sitemap-1.xml', new Date(Date.parse('2026-06-01T00:00:00Z') + 49_999_000).toISOString()],
      ['http://localhost:3000/sitemap-2.xml', new Date(Date.parse('2026-06-01T00:00:00Z') + total * 1000).toISOString()],
    ]);
    expect(index.headers['surrogate-key']).toBe('sitemap');

    const seen = new Set<string>();
    for (const n of [1, 2]) {
      const part = await request(t.app).get(`/sitemap-${n}.xml`).expect(200);
      expect(part.headers['surrogate-key']).toBe(`sitemap sitemap-${n}`);
      expect(part.headers['cache-control']).toBe('public, max-age=60, s-maxage=86400');
      expect(part.headers['last-modified']).toBe(new Date(entries[n - 1][1]).toUTCString());
      const locs = [...part.text.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => m[1]);
      expect(locs.length).toBeLessThanOrEqual(50_000);
      for (const l of locs) seen.add(l);
    }
    expect(seen.size).toBe(total + 1); // every item once, and the front page
    expect(seen.has('http://localhost:3000/')).toBe(true);
    await request(t.app).get('/sitemap-3.xml').expect(404);
    await request(t.app).get('/sitemap-0.xml').expect(404);
  }, 180_000);
});
