import request from 'supertest';
import { withTransaction } from '../../src/db/transaction';
import { seedDemo } from '../../src/demo/seed-demo';
import {
  CacheListener,
  createSource,
  findItemsByUrls,
  Item,
  notifyItemsChanged,
  pageCacheFor,
  removeItems,
  restoreItems,
  startPageCacheListener,
  withdrawSource,
} from '../../src/modules/items';
import { createTestContext, TestContext, truncateAll } from '../support/context';

const SYSTEM = { type: 'system' as const };
const NOTICE_ID = '00000000-0000-4000-8000-00000000abcd';

describe('the public site', () => {
  let t: TestContext;
  let listener: CacheListener;
  beforeAll(async () => {
    t = await createTestContext();
    listener = startPageCacheListener(t);
  });
  afterAll(async () => {
    await listener.stop();
    await t.close();
  });
  beforeEach(async () => {
    await truncateAll(t.db);
    await seedDemo(t);
  });

  const allItems = async () => t.db.getRepository(Item).find({ relations: { source: true }, order: { listedAt: 'DESC' } });
  const remove = (item: Item, claimant: string | null = 'Example Rights Ltd') =>
    withTransaction(t.db, (tx) =>
      removeItems(tx, {
        itemIds: [item.id],
        noticeId: NOTICE_ID,
        reference: 'TD-000042',
        claimant,
        legalBasis: '17 U.S.C. § 512(c) (copyright)',
        actor: SYSTEM,
        at: new Date(),
      }),
    );

  it('when a reader opens the front page, then the latest published items are listed, newest first, with keyset pages', async () => {
    const items = await allItems();
    const res = await request(t.app).get('/').expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=60, s-maxage=86400');
    expect(res.headers.etag).toBeTruthy();
    expect(res.headers['set-cookie']).toBeUndefined();
    const order = items.map((i) => res.text.indexOf(`/items/${i.slug}"`));
    expect(order.every((pos) => pos > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    await request(t.app).get('/').set('If-None-Match', res.headers.etag).expect(304);
  });

  it("when a reader opens an item, then it shows the attribution footer and the takedown link with this page's absolute URL", async () => {
    const [item] = await allItems();
    const res = await request(t.app).get(`/items/${item.slug}`).expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=60, s-maxage=86400');
    expect(res.text).toContain(`<h1>${item.title}</h1>`);
    expect(res.text).toMatch(
      new RegExp(
        `republished from a publicly-available RSS feed found on\\s+<a href="${item.originalUrl}" rel="nofollow noopener">${item.source!.name.replace('&', '&amp;')}</a>`,
      ),
    );
    const pageUrl = `http://localhost:3000/items/${item.slug}`;
    expect(res.text).toContain(`<a href="/takedown?url=${encodeURIComponent(pageUrl)}">Submit a DMCA takedown request</a>`);
    await request(t.app).get(`/items/${item.slug}`).set('If-None-Match', res.headers.etag).expect(304);
    await request(t.app).get('/items/no-such-item').expect(404);
    await request(t.app).get('/items/%3Cscript%3E').expect(404);
  });

  it('when an item is removed, then it answers 451 as SPEC §5 says and leaves the front page, the feed and the sitemap', async () => {
    const [item, other] = await allItems();
    const removed = await remove(item);
    expect(removed.changed.map((i) => i.id)).toEqual([item.id]);
    await listener.sync();
    const res = await request(t.app).get(`/items/${item.slug}`).expect(451);
    expect(res.headers.link).toBe('<http://localhost:3000>; rel="blocked-by"');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('TD-000042');
    expect(res.text).toContain('Example Rights Ltd');
    expect(res.text).toContain('17 U.S.C. § 512(c) (copyright)');
    expect(res.text).toContain('href="/transparency/notices/TD-000042"');
    expect(res.text).not.toContain(item.excerpt.slice(0, 40));
    for (const path of ['/', '/feed.xml', '/sitemap.xml']) {
      const page = await request(t.app).get(path).expect(200);
      expect(page.text).not.toContain(item.slug);
      expect(page.text).toContain(other.slug);
    }
    const [event] = await t.db.query(`SELECT * FROM audit_events WHERE action = 'item.removed'`);
    expect(event).toMatchObject({ subject_type: 'item', subject_id: item.id });
    expect(event.details).toMatchObject({ reference: 'TD-000042', before: 'published', after: 'removed' });
    // Removing again changes nothing.
    const again = await remove(item);
    expect(again.changed).toHaveLength(0);
    expect(again.unchanged[0].reason).toMatch(/already removed/);
  });

  it('when the claimant is a private person, then the 451 page says "[private]"', async () => {
    const [item] = await allItems();
    await remove(item, null);
    await listener.sync();
    const res = await request(t.app).get(`/items/${item.slug}`).expect(451);
    expect(res.text).toContain('[private]');
  });

  it('when an item page is cached and the item is then removed and restored, then the cache serves each new state', async () => {
    const [item] = await allItems();
    const cache = pageCacheFor(t.db);
    expect(cache.enabled).toBe(true);
    await request(t.app).get(`/items/${item.slug}`).expect(200);
    const hits = cache.stats.hits;
    await request(t.app).get(`/items/${item.slug}`).expect(200);
    expect(cache.stats.hits).toBe(hits + 1); // served from memory
    await remove(item);
    await listener.sync(); // the NOTIFY of the removal has reached this instance
    await request(t.app).get(`/items/${item.slug}`).expect(451);
    await withTransaction(t.db, (tx) =>
      restoreItems(tx, {
        itemIds: [item.id],
        noticeId: NOTICE_ID,
        reason: 'counter-notice, no court action',
        actor: SYSTEM,
        at: new Date(),
      }),
    );
    await listener.sync();
    await request(t.app).get(`/items/${item.slug}`).expect(200);
    const page = await request(t.app).get('/feed.xml').expect(200);
    expect(page.text).toContain(item.slug);
    expect(await t.db.query(`SELECT action FROM audit_events WHERE subject_id = $1 ORDER BY id`, [item.id])).toEqual([
      { action: 'item.removed' },
      { action: 'item.restored' },
    ]);
  });

  it("when another instance removes an item, then this instance's cached page is dropped (the NOTIFY reaches every listener)", async () => {
    const [item] = await allItems();
    await request(t.app).get(`/items/${item.slug}`).expect(200);
    // "Another instance": a plain connection of its own, as a second server would have.
    const { Client } = await import('pg');
    const other = new Client({ connectionString: t.dbUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`UPDATE items SET status = 'removed', removed_at = now(), removed_by_notice_id = $2, removal = $3 WHERE id = $1`, [
        item.id,
        NOTICE_ID,
        JSON.stringify({ noticeId: NOTICE_ID, reference: 'TD-000077', claimant: '[private]', legalBasis: 'copyright' }),
      ]);
      await other.query(`SELECT pg_notify('td_items_changed', $1)`, [item.slug]);
      await other.query('COMMIT');
    } finally {
      await other.end();
    }
    await listener.sync();
    const res = await request(t.app).get(`/items/${item.slug}`).expect(451);
    expect(res.text).toContain('TD-000077');
  });

  it('when the LISTEN connection is cut, then the cache switches off, reconnects by itself and starts empty', async () => {
    const [item] = await allItems();
    const cache = pageCacheFor(t.db);
    await request(t.app).get(`/items/${item.slug}`).expect(200);
    expect(cache.size).toBeGreaterThan(0);
    const until = async (what: () => boolean) => {
      for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(what()).toBe(true);
    };
    await t.db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'takedown-desk-cache' AND datname = current_database()`,
    );
    await until(() => !cache.enabled);
    // A change made while nobody listens is never served from an old cached page.
    await t.db.query(`UPDATE items SET title = 'Changed while disconnected' WHERE id = $1`, [item.id]);
    await until(() => cache.enabled);
    expect(cache.size).toBe(0);
    const res = await request(t.app).get(`/items/${item.slug}`).expect(200);
    expect(res.text).toContain('Changed while disconnected');
    await listener.sync();
  });

  it('when a source is withdrawn, then its items answer 410 with a link to the original and leave every list', async () => {
    const items = await allItems();
    const item = items[0];
    const sourceItems = items.filter((i) => i.sourceId === item.sourceId);
    const r = await withTransaction(t.db, (tx) =>
      withdrawSource(tx, { sourceId: item.sourceId, reason: 'publisher opt-out', actor: SYSTEM, at: new Date() }),
    );
    expect(r.withdrawn).toBe(sourceItems.length);
    await listener.sync();
    const res = await request(t.app).get(`/items/${item.slug}`).expect(410);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain(`href="${item.originalUrl}"`);
    for (const path of ['/', '/feed.xml', '/sitemap.xml']) {
      const page = await request(t.app).get(path).expect(200);
      for (const i of sourceItems) expect(page.text).not.toContain(i.slug);
    }
    const [source] = await t.db.query('SELECT status FROM sources WHERE id = $1', [item.sourceId]);
    expect(source.status).toBe('blocked');
    expect(await t.db.query(`SELECT count(*)::int AS n FROM items WHERE source_id = $1`, [item.sourceId])).toEqual([
      { n: sourceItems.length },
    ]);
    expect((await t.db.query(`SELECT action FROM audit_events WHERE action = 'source.withdrawn'`)).length).toBe(1);
  });

  it('when hostile text is in a source name or an item title, then the feed, the sitemap and the pages escape it', async () => {
    const source = await withTransaction(t.db, (tx) =>
      createSource(tx, { name: 'Evil <b>&"Pub"</b>', domains: ['evil.example'], at: new Date(), actor: SYSTEM }),
    );
    await t.db.query(`UPDATE sources SET feed_url = 'https://evil.example/feed?a=1&b=<x>' WHERE id = $1`, [source.id]);
    await t.db.query(
      `INSERT INTO items (source_id, slug, title, original_url, original_url_normalised, guid, first_fetched_at, last_fetched_at, listed_at, raw_sha256, excerpt)
       VALUES ($1, 'evil-item', '<script>alert("t")</script> & ]]>', 'https://evil.example/a?x=1&y=2', 'https://evil.example/a?x=1&y=2', 'g', now(), now(), now() + interval '1 day', repeat('0', 64), '<img src=x onerror=alert(1)>')`,
      [source.id],
    );
    const feed = await request(t.app)
      .get('/feed.xml')
      .expect(200)
      .expect('Content-Type', /application\/rss\+xml/);
    expect(feed.text).toContain('<title>&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; &amp; ]]&gt;</title>');
    expect(feed.text).toContain('<description>&lt;img src=x onerror=alert(1)&gt;</description>');
    expect(feed.text).toContain(
      '<source url="https://evil.example/feed?a=1&amp;b=&lt;x&gt;">Evil &lt;b&gt;&amp;&quot;Pub&quot;&lt;/b&gt;</source>',
    );
    const page = await request(t.app).get('/items/evil-item').expect(200);
    expect(page.text).not.toMatch(/<script>alert|<img src=x/);
    const home = await request(t.app).get('/').expect(200);
    expect(home.text).not.toMatch(/<script>alert|<img src=x|<b>&/);
    const sitemap = await request(t.app).get('/sitemap.xml').expect(200);
    expect(sitemap.text).toContain('<loc>http://localhost:3000/items/evil-item</loc>');
  });
});

describe('finding items by URL', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext({ env: { PUBLIC_BASE_URL: 'https://www.desk.example/site' } });
    await seedDemo(t);
  });
  afterAll(() => t.close());

  it('when URLs name our pages (absolute, relative, with tracking parameters) or the original, then each finds its item', async () => {
    const [a, b] = await t.db.getRepository(Item).find({ order: { slug: 'ASC' } });
    const urls = [
      `https://www.desk.example/site/items/${a.slug}`,
      `http://desk.example/site/items/${a.slug.toUpperCase()}/?utm_source=x#top`,
      `/site/items/${a.slug}`,
      `/items/${a.slug}`,
      b.originalUrl.replace('https://', 'HTTPS://www.') + '/?fbclid=123',
      `https://elsewhere.example/site/items/${a.slug}`,
      'https://unknown.example/nothing',
      'not a url',
    ];
    const found = await findItemsByUrls(t.db.manager, urls, { baseUrl: t.config.publicBaseUrl });
    expect(urls.map((u) => found.get(u)?.id ?? null)).toEqual([a.id, a.id, a.id, a.id, b.id, null, null, null]);
    expect(found.get(urls[0])!.source!.domains.length).toBeGreaterThan(0);
  });

  it('when a lookup is planned, then it uses the slug and original-URL indexes, not a scan', async () => {
    const plan: { 'QUERY PLAN': string }[] = await t.db.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off'); // with a handful of rows the planner would scan anyway
      return tx.query(`EXPLAIN SELECT id FROM items WHERE slug = ANY($1) OR original_url_normalised = ANY($2)`, [
        ['a', 'b'],
        ['https://x.example'],
      ]);
    });
    const text = plan.map((p) => p['QUERY PLAN']).join('\n');
    expect(text).toContain('items_slug_key');
    expect(text).toContain('items_original_url_key');
  });
});

describe('the page cache of the instance that makes a change', () => {
  // No listener here: the cache is switched on by hand, so the NOTIFY that would drop a page never
  // arrives. This is the window between a commit and its NOTIFY, held open for as long as the test needs.
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await truncateAll(t.db);
    await seedDemo(t);
    pageCacheFor(t.db).setLive(true);
  });

  const cachedItem = async () => {
    const [item] = await t.db.getRepository(Item).find({ order: { slug: 'ASC' } });
    const cache = pageCacheFor(t.db);
    await request(t.app).get(`/items/${item.slug}`).expect(200);
    const hits = cache.stats.hits;
    await request(t.app).get(`/items/${item.slug}`).expect(200);
    expect(cache.stats.hits).toBe(hits + 1);
    return item;
  };

  it('when it removes an item, then its next request answers 451 before the NOTIFY has come back', async () => {
    const item = await cachedItem();
    const cache = pageCacheFor(t.db);
    await withTransaction(t.db, (tx) =>
      removeItems(tx, {
        itemIds: [item.id],
        noticeId: NOTICE_ID,
        reference: 'TD-000043',
        claimant: 'Example Rights Ltd',
        legalBasis: '17 U.S.C. § 512(c) (copyright)',
        actor: SYSTEM,
        at: new Date(),
      }),
    );
    const hits = cache.stats.hits;
    const res = await request(t.app).get(`/items/${item.slug}`).expect(451);
    expect(res.text).toContain('TD-000043');
    await request(t.app).get(`/items/${item.slug}`).expect(451);
    expect(cache.stats.hits).toBe(hits); // read from the database both times, and not stored
    expect(cache.pendingCount).toBe(1);
    // The NOTIFY arrives: the mark is settled and the page is cached again.
    cache.invalidate([item.slug]);
    expect(cache.pendingCount).toBe(0);
    await request(t.app).get(`/items/${item.slug}`).expect(451);
    await request(t.app).get(`/items/${item.slug}`).expect(451);
    expect(cache.stats.hits).toBe(hits + 1);
  });

  it('when the transaction that marked a page rolls back, then the page is read from the database, unchanged', async () => {
    const item = await cachedItem();
    const cache = pageCacheFor(t.db);
    await expect(
      withTransaction(t.db, async (tx) => {
        await tx.query(`UPDATE items SET title = 'Never committed' WHERE id = $1`, [item.id]);
        await notifyItemsChanged(tx, [item.slug, item.slug]);
        await notifyItemsChanged(tx, [item.slug]); // marked once per transaction: PostgreSQL sends one NOTIFY
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(cache.pendingCount).toBe(1);
    const hits = cache.stats.hits;
    const res = await request(t.app).get(`/items/${item.slug}`).expect(200);
    expect(res.text).toContain(item.title);
    expect(res.text).not.toContain('Never committed');
    expect(cache.stats.hits).toBe(hits);
  });
});
