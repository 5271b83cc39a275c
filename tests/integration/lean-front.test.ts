import request from 'supertest';
import { seedDemo } from '../../src/demo/seed-demo';
import { CacheListener, Item, startPageCacheListener } from '../../src/modules/items';
import { createPageRenderer } from '../../src/shared/views';
import { poolOf } from '../../src/db/data-source';
import { itemPageReader } from '../../src/modules/items/items.queries';
import { createTestContext, TestContext, truncateAll } from '../support/context';

/**
 * The lean front (shared/lean-public.ts): item pages and /healthz are answered before Express's
 * router. What a reader, a cache and an operator see must be what the full stack gave them.
 */
const SECURITY_HEADERS = [
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];
const securityOf = (res: request.Response) => Object.fromEntries(SECURITY_HEADERS.map((h) => [h, res.headers[h]]));

describe('the lean front of item pages and /healthz', () => {
  let t: TestContext;
  let listener: CacheListener;
  let item: Item;
  beforeAll(async () => {
    t = await createTestContext();
    listener = startPageCacheListener(t);
    await truncateAll(t.db);
    await seedDemo(t);
    [item] = await t.db.getRepository(Item).find({ where: { status: 'published' }, order: { listedAt: 'DESC' }, take: 1 });
  });
  afterAll(async () => {
    await listener.stop();
    await t.close();
  });

  it('when an item page or /healthz is answered, then it carries the same security headers as a page of the full stack, a request id and no cookie', async () => {
    const full = await request(t.app).get('/feed.xml').expect(200);
    expect(full.headers['content-security-policy']).toMatch(/object-src 'none'/);
    for (const path of [`/items/${item.slug}`, `/items/${item.slug}`, '/healthz']) {
      const res = await request(t.app).get(path).expect(200);
      expect([path, securityOf(res)]).toEqual([path, securityOf(full)]);
      expect(res.headers['x-request-id']).toMatch(/^[\w-]{8,64}$/);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
    const given = await request(t.app).get(`/items/${item.slug}`).set('X-Request-Id', 'trace-1234abcd').expect(200);
    expect(given.headers['x-request-id']).toBe('trace-1234abcd');
    const health = await request(t.app).get('/healthz').expect(200);
    expect(health.body).toEqual({ status: 'ok' });
    expect(health.headers['cache-control']).toBe('no-store');
  });

  it('when a page is asked with HEAD, then the headers and length of the GET come without a body; a stale validator gets the page', async () => {
    const get = await request(t.app).get(`/items/${item.slug}`).expect(200);
    const head = await request(t.app).head(`/items/${item.slug}`).expect(200);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.text)));
    expect(head.headers.etag).toBe(get.headers.etag);
    expect(head.text ?? '').toBe('');
    await request(t.app)
      .get(`/items/${item.slug}`)
      .set('If-None-Match', '"other", ' + get.headers.etag)
      .expect(304);
    await request(t.app).get(`/items/${item.slug}`).set('If-None-Match', get.headers.etag).set('Cache-Control', 'no-cache').expect(200);
    await request(t.app).get(`/items/${item.slug}`).set('If-None-Match', '"other"').expect(200);
  });

  it('when the address is unusual (capitals, a trailing slash, a NUL in the query, an unknown slug), then the full app answers it as before', async () => {
    const page = await request(t.app).get(`/items/${item.slug}`).expect(200);
    expect((await request(t.app).get(`/items/${item.slug.toUpperCase()}`).expect(200)).text).toBe(page.text);
    expect((await request(t.app).get(`/items/${item.slug}/`).expect(200)).text).toBe(page.text);
    await request(t.app).get(`/items/${item.slug}?q=%00`).expect(400);
    const missing = await request(t.app).get('/items/no-such-item').expect(404);
    expect(securityOf(missing)).toEqual(securityOf(page));
    expect(missing.headers['cache-control']).toBe('no-store');
  });

  it('when pages are answered, then /metrics counts them under their route pattern and status', async () => {
    await request(t.app).get(`/items/${item.slug}`).expect(200);
    await request(t.app).get('/items/no-such-item').expect(404);
    const m = (await request(t.app).get('/metrics').expect(200)).text;
    expect(m).toMatch(/takedown_http_request_duration_seconds_count\{method="GET",route="\/items\/:slug",status="200"\} [1-9]/);
    expect(m).toMatch(/takedown_http_request_duration_seconds_count\{method="GET",route="\/items\/:slug",status="404"\} [1-9]/);
  });

  it('when many pages miss at once, then they are read in a few statements and each request gets its own page (or none)', async () => {
    const items = await t.db.getRepository(Item).find({ where: { status: 'published' } });
    const pool = poolOf(t.db);
    const statements: number[] = [];
    const counted = {
      query: (q: { name: string; text: string; values: unknown[] }) => (statements.push((q.values[0] as string[]).length), pool.query(q)),
    };
    const read = itemPageReader(counted, { maxReads: 2 });
    const slugs = [...items.map((i) => i.slug), 'no-such-item', ...items.map((i) => i.slug)];
    const pages = await Promise.all(slugs.map((s) => read(s)));
    expect(pages.map((p) => p?.slug ?? null)).toEqual(slugs.map((s) => (s === 'no-such-item' ? null : s)));
    expect(pages.find((p) => p)?.source.name).toBeTruthy();
    expect(statements.length).toBeLessThanOrEqual(2);
    expect(statements.reduce((a, b) => a + b, 0)).toBe(items.length + 1);
    // Through HTTP, concurrently: every page is its own.
    const answers = await Promise.all(items.map((i) => request(t.app).get(`/items/${i.slug}`)));
    answers.forEach((res, n) =>
      expect([res.status, res.text.includes(encodeURIComponent(`/items/${items[n].slug}`))]).toEqual([200, true]),
    );
  });

  it("when the page renderer renders a view, then its HTML is exactly Express's res.render of the same view", async () => {
    const render = createPageRenderer();
    const locals = {
      baseUrl: 'http://localhost:3000',
      title: 'A <title> & more',
      item: {
        title: 'T <b>',
        author: 'A & B',
        originalUrl: 'https://x.example/a?b=1&c=2',
        content: '<p>ok</p>',
        sourcePublishedAt: new Date(),
      },
      source: { name: 'S & S' },
      published: new Date(),
      takedownTarget: 'http%3A%2F%2Flocalhost',
      removal: { reference: 'TD-000001', claimant: 'C <x>', legalBasis: 'L' },
      recordUrl: '/transparency/notices/TD-000001',
      robotsNoindex: true,
    };
    for (const view of ['items/show', 'items/removed', 'items/withdrawn']) {
      const viaExpress = await new Promise<string>((resolve, reject) =>
        t.app.render(view, { ...locals }, (err, html) => (err ? reject(err) : resolve(html as string))),
      );
      expect([view, render(view, locals)]).toEqual([view, viaExpress]);
    }
  });
});
