import request from 'supertest';
import { withTransaction } from '../../src/db/transaction';
import { fetchFeed, importDueSources, importFeedNow } from '../../src/modules/feeds';
import { createSource, removeItems, Source } from '../../src/modules/items';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { rss, rssItem, startFeedServer, xmlRoute, xmlWithEtag } from '../support/feed-server';
import { createStaff, csrfOf, signedInAgent } from '../support/staff';

describe('feed import', () => {
  let t: TestContext;
  let feeds: Awaited<ReturnType<typeof startFeedServer>>;
  beforeAll(async () => {
    t = await createTestContext({ env: { FEED_INTERVAL_MINUTES: '30' } });
    feeds = await startFeedServer();
  });
  afterAll(async () => {
    await feeds.close();
    await t.close();
  });
  beforeEach(async () => {
    await truncateAll(t.db);
    feeds.routes.clear();
    feeds.hits.clear();
  });

  const SYSTEM = { type: 'system' as const };
  const addSource = (path: string | null, name = 'Test Publisher') =>
    withTransaction(t.db, (tx) =>
      createSource(tx, { name, domains: ['publisher.example'], feedUrl: path ? feeds.url + path : null, at: new Date(), actor: SYSTEM }),
    );
  const items = async () => (await t.db.query('SELECT * FROM items ORDER BY original_url')) as Record<string, any>[];
  const events = async (action: string) =>
    (await t.db.query('SELECT * FROM audit_events WHERE action = $1 ORDER BY id', [action])) as Record<string, any>[];

  it('when an RSS feed is imported twice, then items are created once with provenance, and the second time nothing changes', async () => {
    feeds.routes.set(
      '/rss',
      xmlRoute(
        rss(
          [
            rssItem({
              guid: 'g1',
              link: 'https://publisher.example/a',
              title: 'Alpha',
              pubDate: 'Mon, 02 Mar 2026 08:00:00 GMT',
              encoded: '<p>Alpha body</p>',
              extra: '<dc:rights>CC0</dc:rights>',
            }),
            rssItem({ guid: 'g2', link: 'https://publisher.example/b', title: 'Beta', description: '&lt;p&gt;Beta body&lt;/p&gt;' }),
            rssItem({ guid: 'g1', link: 'https://publisher.example/a-again', title: 'Alpha twice' }), // duplicate guid
            rssItem({ title: 'Neither link nor guid', description: 'x' }),
          ],
          '<copyright>© Test Publisher 2026</copyright>',
        ),
      ),
    );
    const source = await addSource('/rss');
    const first = await importFeedNow(t, source.id);
    expect(first).toMatchObject({ ok: true, entries: 4, created: 2, updated: 0, unchanged: 0 });
    expect(first.skipped).toEqual({ 'duplicate entry in the same import': 1, 'no link and no guid': 1 });
    const rows = await items();
    expect(rows.map((r) => r.title)).toEqual(['Alpha', 'Beta']);
    expect(rows[0]).toMatchObject({
      guid: 'g1',
      original_url_normalised: 'https://publisher.example/a',
      feed_url: feeds.url + '/rss',
      rights: { copyright: '© Test Publisher 2026', dcRights: 'CC0' },
      status: 'published',
    });
    expect(rows[0].source_published_at.toISOString()).toBe('2026-03-02T08:00:00.000Z');
    expect(rows[0].raw_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[1].content).toBe('<p>Beta body</p>');

    const second = await importFeedNow(t, source.id);
    expect(second).toMatchObject({ ok: true, created: 0, updated: 0, unchanged: 2 });
    expect(await items()).toHaveLength(2);
    expect((await items())[0].first_fetched_at).toEqual(rows[0].first_fetched_at);
    const fetched = await events('source.fetched');
    expect(fetched).toHaveLength(2);
    expect(fetched[0].details).toMatchObject({ created: 2, entries: 4 });
  });

  // Issue 18 (memory): a feed is read one entry at a time and written 500 entries at a time, in one transaction.
  it('when a feed is longer than one batch, then duplicates across batches are skipped, progress counts every entry, one purge covers the import, and channel fields after the entries still apply', async () => {
    const entries = Array.from({ length: 1_203 }, (_, i) =>
      rssItem({ guid: `g${i}`, link: `https://publisher.example/p/${i}`, title: `Entry ${i}`, encoded: `<p>Body ${i}</p>` }),
    );
    entries.push(rssItem({ guid: 'g3', link: 'https://publisher.example/p/3-again', title: 'Guid seen in the first batch' }));
    entries.push(rssItem({ guid: 'other', link: 'https://publisher.example/p/7', title: 'URL seen in the first batch' }));
    // The channel's copyright comes after every entry: the feed's own fields are read before any entry.
    feeds.routes.set('/long', xmlRoute(rss(entries).replace('</channel>', '<copyright>© Late Publisher</copyright></channel>')));
    const source = await addSource('/long');
    const progress: [number, number][] = [];
    const r = await importFeedNow(t, source.id, { onProgress: (done, total) => progress.push([done, total]) });
    expect(r).toMatchObject({ ok: true, entries: 1_205, created: 1_203, updated: 0, unchanged: 0 });
    expect(r.skipped).toEqual({ 'duplicate entry in the same import': 2 });
    expect(progress[progress.length - 1]).toEqual([1_205, 1_205]);
    expect(progress.every(([, total]) => total === 1_205)).toBe(true);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM items WHERE source_id = $1`, [source.id]);
    expect(n).toBe(1_203);
    const [last] = await t.db.query(`SELECT title, rights FROM items WHERE guid = 'g1202'`);
    expect(last).toEqual({ title: 'Entry 1202', rights: { copyright: '© Late Publisher' } });
    expect((await t.db.query(`SELECT keys FROM edge_purges`)).map((p: { keys: string[] }) => p.keys)).toEqual([
      ['front', 'feed', 'sitemap'],
    ]);
    expect(await events('source.fetched')).toHaveLength(1);

    // The same feed cut off before its end: refused before anything is written (the first pass reads the whole document).
    const cut = rss(entries.map((e) => e.replace(/g(\d+)</, 'h$1<').replace('/p/', '/q/')));
    feeds.routes.set('/cut', xmlRoute(cut.slice(0, cut.length - 200)));
    const cutSource = await addSource('/cut', 'Cut Publisher');
    const failed = await importFeedNow(t, cutSource.id);
    expect(failed).toMatchObject({ ok: false });
    expect(failed.reason).toMatch(/never closed|truncated/);
    expect(await t.db.query(`SELECT 1 FROM items WHERE source_id = $1`, [cutSource.id])).toEqual([]);
  });

  it('when an Atom feed is imported, then entries are keyed by their id, linked to their alternate link, with Atom rights', async () => {
    feeds.routes.set(
      '/atom',
      xmlRoute(
        `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Pub</title><link href="https://atom.example/"/><rights>© Atom Pub</rights>
  <entry><id>urn:uuid:1</id><title type="html">One &amp;amp; only</title><link rel="alternate" href="https://atom.example/one"/>
    <published>2026-04-01T09:00:00Z</published><author><name>Ann</name></author>
    <content type="html">&lt;p&gt;Body &lt;a href="two"&gt;next&lt;/a&gt;&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;</content></entry>
</feed>`,
        'application/atom+xml',
      ),
    );
    const source = await addSource('/atom');
    expect(await importFeedNow(t, source.id)).toMatchObject({ ok: true, created: 1 });
    const [row] = await items();
    expect(row).toMatchObject({
      guid: 'urn:uuid:1',
      title: 'One & only',
      author: 'Ann',
      original_url: 'https://atom.example/one',
      rights: { atomRights: '© Atom Pub' },
      content: '<p>Body <a rel="nofollow noopener ugc" href="https://atom.example/two">next</a></p>',
    });
  });

  it('when two instances run the scheduler at the same time, then each due source is imported exactly once', async () => {
    for (const n of [1, 2, 3])
      feeds.routes.set(`/s${n}`, xmlRoute(rss([rssItem({ guid: `s${n}`, link: `https://publisher.example/s${n}`, title: `S${n}` })])));
    for (const n of [1, 2, 3]) await addSource(`/s${n}`, `Source ${n}`);
    const [a, b] = await Promise.all([importDueSources(t), importDueSources(t)]);
    expect(a + b).toBe(3);
    expect([1, 2, 3].map((n) => feeds.hits.get(`/s${n}`))).toEqual([1, 1, 1]);
    expect(await events('source.fetched')).toHaveLength(3);
  });

  it('when the feed answers 304 to the validators of the last import, then nothing is read and the result says so', async () => {
    feeds.routes.set(
      '/etag',
      xmlWithEtag(
        () => rss([rssItem({ guid: 'e1', link: 'https://publisher.example/e1', title: 'E1' })]),
        () => '"v1"',
      ),
    );
    const source = await addSource('/etag');
    expect(await importFeedNow(t, source.id)).toMatchObject({ ok: true, created: 1 });
    const [row] = await t.db.query('SELECT last_fetch_etag FROM sources WHERE id = $1', [source.id]);
    expect(row.last_fetch_etag).toBe('"v1"');
    expect(await importFeedNow(t, source.id)).toMatchObject({ ok: true, notModified: true, httpStatus: 304, created: 0 });
  });

  it('when an entry changes, then its item is updated (same slug, same first fetch) unless it was removed', async () => {
    let title = 'Original title';
    let body = '<p>First version</p>';
    feeds.routes.set('/changing', (_req, res) => {
      res.setHeader('Content-Type', 'application/rss+xml');
      res.end(
        rss([
          rssItem({ guid: 'c1', link: 'https://publisher.example/c1', title, encoded: body }),
          rssItem({ guid: 'c2', link: 'https://publisher.example/c2', title: 'Other', encoded: body }),
        ]),
      );
    });
    const source = await addSource('/changing');
    await importFeedNow(t, source.id);
    const before = await items();
    await withTransaction(t.db, (tx) =>
      removeItems(tx, {
        itemIds: [before[1].id],
        noticeId: '00000000-0000-4000-8000-000000000001',
        reference: 'TD-000001',
        claimant: null,
        legalBasis: 'copyright',
        actor: SYSTEM,
        at: new Date(),
      }),
    );
    title = 'Corrected title';
    body = '<p>Second version</p>';
    const r = await importFeedNow(t, source.id);
    expect(r).toMatchObject({ created: 0, updated: 1, unchanged: 0, skipped: { 'not updated: removed or withdrawn': 1 } });
    const after = await items();
    expect(after[0]).toMatchObject({ title: 'Corrected title', content: '<p>Second version</p>', slug: before[0].slug });
    expect(after[0].first_fetched_at).toEqual(before[0].first_fetched_at);
    expect(after[1]).toMatchObject({ status: 'removed', content: '<p>First version</p>' });
  });

  it('when entries carry scripts, event handlers and relative links, then stored content is sanitised and links are absolute', async () => {
    feeds.routes.set(
      '/hostile',
      xmlRoute(
        rss([
          rssItem({
            guid: 'h1',
            link: '/posts/h1',
            title: '&lt;script&gt;alert(1)&lt;/script&gt;Hostile',
            encoded:
              '<p onmouseover="x()">Read <a href="more">more</a><script>alert(2)</script><img src="/i.png" onerror="y()"><iframe src="https://evil.example"></iframe></p>',
          }),
        ]),
      ),
    );
    const source = await addSource('/hostile');
    await importFeedNow(t, source.id);
    const [row] = await items();
    expect(row.original_url).toBe('https://publisher.example/posts/h1');
    expect(row.content).toBe(
      '<p>Read <a rel="nofollow noopener ugc" href="https://publisher.example/posts/more">more</a><img src="https://publisher.example/i.png" loading="lazy" /></p>',
    );
    // The title is reduced to text (issue 21: RSS titles carry HTML in the wild): the script and its
    // text are gone, not merely escaped; what is left is shown escaped on every page.
    expect(row.title).toBe('Hostile');
    const page = await request(t.app).get(`/items/${row.slug}`).expect(200);
    expect(page.text).not.toContain('<script>alert(1)');
    expect(page.text).not.toContain('alert(1)');
    expect(page.text).toContain('<h1>Hostile</h1>');
  });

  it('when feeds are broken, then each import fails with its reason, recorded and audited, and other sources go on', async () => {
    feeds.routes.set('/garbage', xmlRoute('this is not xml at all', 'text/plain'));
    feeds.routes.set('/truncated', xmlRoute(rss([rssItem({ guid: 't', link: 'https://publisher.example/t', title: 'T' })]).slice(0, 350)));
    feeds.routes.set('/loop', (_req, res) => {
      res.statusCode = 302;
      res.setHeader('Location', '/loop2');
      res.end();
    });
    feeds.routes.set('/loop2', (_req, res) => {
      res.statusCode = 301;
      res.setHeader('Location', feeds.url + '/loop');
      res.end();
    });
    feeds.routes.set('/huge', (_req, res) => {
      res.setHeader('Content-Type', 'application/rss+xml');
      const chunk = Buffer.alloc(1024 * 1024, 'a');
      let sent = 0;
      const pump = () => {
        while (sent < 30 && res.write(chunk)) sent++;
        if (sent < 30) res.once('drain', pump);
        else res.end();
      };
      pump();
    });
    feeds.routes.set('/gone', (_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    feeds.routes.set('/fine', xmlRoute(rss([rssItem({ guid: 'f', link: 'https://publisher.example/f', title: 'Fine' })])));
    const cases: [string, RegExp][] = [
      ['/garbage', /not XML/],
      ['/truncated', /never closed|truncated/],
      ['/loop', /redirect loop/],
      ['/huge', /too large/],
      ['/gone', /HTTP 404/],
    ];
    const sources: Source[] = [];
    for (const [path] of cases) sources.push(await addSource(path, `Broken ${path}`));
    const fine = await addSource('/fine', 'Fine publisher');
    // The scheduler takes every due source in turn; a broken one does not stop the others.
    expect(await importDueSources(t)).toBe(cases.length + 1);
    for (const [i, [, reason]] of cases.entries()) {
      const [row] = await t.db.query('SELECT last_fetch_result, fetching_until FROM sources WHERE id = $1', [sources[i].id]);
      expect(row.last_fetch_result.ok).toBe(false);
      expect(row.last_fetch_result.reason).toMatch(reason);
      expect(row.fetching_until).toBeNull();
    }
    expect(await items()).toHaveLength(1);
    expect((await items())[0].source_id).toBe(fine.id);
    const failed = await events('source.fetch_failed');
    expect(failed).toHaveLength(cases.length);
    // Shown on /sources.
    const admin = await createStaff(t.db, { role: 'admin' });
    const agent = await signedInAgent(t.app, admin.email);
    const page = await agent.get('/sources').expect(200);
    expect(page.text).toContain('failed: redirect loop');
    expect(page.text).toContain('failed: the feed answered HTTP 404');
    // Not due again until FEED_INTERVAL_MINUTES have passed.
    expect(await importDueSources(t)).toBe(0);
  });

  it('when a feed server hangs, then the import times out with a reason', async () => {
    feeds.routes.set('/hang', () => undefined); // never answers
    const source = await addSource('/hang');
    const r = await importFeedNow(t, source.id, { limits: { timeoutMs: 300 } });
    expect(r).toMatchObject({ ok: false });
    expect(r.reason).toMatch(/timed out/);
  });

  it('when private feeds are not allowed, then loopback addresses are refused, by literal and by DNS name', async () => {
    feeds.routes.set('/ok', xmlRoute(rss([])));
    await expect(fetchFeed(`${feeds.url}/ok`, { allowPrivate: false })).rejects.toThrow(/private, loopback or link-local/);
    const byName = feeds.url.replace('127.0.0.1', 'localhost') + '/ok';
    await expect(fetchFeed(byName, { allowPrivate: false })).rejects.toThrow(/private, loopback or link-local/);
    await expect(fetchFeed('file:///etc/passwd', { allowPrivate: true })).rejects.toThrow(/only http and https/);
    expect(feeds.hits.get('/ok')).toBeUndefined();
  });

  it('when an import is asked for from the sources page or the CLI path, then it reports counts; a paused source is refused', async () => {
    feeds.routes.set('/page', xmlRoute(rss([rssItem({ guid: 'p', link: 'https://publisher.example/p', title: 'P' })])));
    const source = await addSource('/page');
    const mod = await createStaff(t.db, { role: 'moderator' });
    const agent = await signedInAgent(t.app, mod.email);
    const csrf = await csrfOf(agent, '/sources');
    await agent.post(`/sources/${source.id}/fetch`).type('form').send({ _csrf: csrf }).expect(303).expect('Location', '/sources');
    const page = await agent.get('/sources').expect(200);
    expect(page.text).toContain('Import done: 1 new, 0 updated, 0 unchanged, 0 skipped.');
    // A moderator may not pause; an admin may, and then imports are refused.
    await agent.post(`/sources/${source.id}/pause`).type('form').send({ _csrf: csrf }).expect(403);
    const admin = await createStaff(t.db, { role: 'admin' });
    const adminAgent = await signedInAgent(t.app, admin.email);
    const adminCsrf = await csrfOf(adminAgent, '/sources');
    await adminAgent.post(`/sources/${source.id}/pause`).type('form').send({ _csrf: adminCsrf }).expect(303);
    await expect(importFeedNow(t, source.id)).rejects.toMatchObject({ status: 409, code: 'SOURCE.NOT_ACTIVE' });
    expect(await importDueSources(t)).toBe(0);
    expect((await events('source.paused')).map((e) => e.actor_id)).toEqual([admin.id]);
  });
});
