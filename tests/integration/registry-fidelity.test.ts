import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { withTransaction } from '../../src/db/transaction';
import { importFeedNow } from '../../src/modules/feeds';
import { createSource } from '../../src/modules/items';
import { CreateItemAliases1796600000001 } from '../../migrations/1796600000001-CreateItemAliases';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { startFeedServer, xmlRoute } from '../support/feed-server';

/**
 * Issue 21, on feeds written for the test in the shapes seen in the wild (tests/fixtures/feeds):
 * FeedBurner RSS with feedburner:origLink, Atom with rel="alternate" / rel="self" (and a FeedBurner
 * Atom entry), a permalink guid differing from the link, a CDATA title with markup and numeric
 * entities. The publisher's address is the original URL; a notice naming the publisher's address,
 * the proxy's, or our page matches the same item.
 */
const FIXTURES = path.resolve(__dirname, '../fixtures/feeds');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
const BASE = 'http://localhost:3000';
const SYSTEM = { type: 'system' as const };

const notice = (infringingUrls: string[]) => ({
  name: 'Perry White',
  organization: 'Daily Planet Inc',
  email: 'legal@dailyplanet.example',
  address: '1 Planet Plaza, Metropolis',
  country: 'US',
  role: 'owner',
  workDescription: 'Our articles, first published on our site.',
  infringingUrls,
  goodFaith: true,
  accuracy: true,
  signature: 'Perry White',
});

describe('registry fidelity on real-world feed shapes', () => {
  let t: TestContext;
  let feeds: Awaited<ReturnType<typeof startFeedServer>>;

  beforeAll(async () => {
    t = await createTestContext();
    feeds = await startFeedServer();
  });
  afterAll(async () => {
    await feeds.close();
    await t.close();
  });
  beforeEach(async () => {
    await truncateAll(t.db);
    feeds.routes.clear();
  });

  const importFixture = async (file: string, domains: string[], type?: string) => {
    feeds.routes.set(`/${file}`, xmlRoute(fixture(file), type));
    const source = await withTransaction(t.db, (tx) =>
      createSource(tx, { name: file, domains, feedUrl: `${feeds.url}/${file}`, at: new Date(), actor: SYSTEM }),
    );
    const result = await importFeedNow(t, source.id);
    expect(result).toMatchObject({ ok: true });
    return { source, result };
  };
  const item = async (title: string) => (await t.db.query(`SELECT * FROM items WHERE title = $1`, [title]))[0] as Record<string, any>;
  const aliases = async (itemId: string) =>
    (await t.db.query(`SELECT kind, url_normalised FROM item_aliases WHERE item_id = $1 ORDER BY kind, url_normalised`, [itemId])) as {
      kind: string;
      url_normalised: string;
    }[];
  const matches = async (urls: string[]) => {
    const res = await request(t.app).post('/api/v1/notices').send(notice(urls)).expect(201);
    return res.body.targets as { url: string; matched: boolean; itemId: string | null }[];
  };

  it('when a FeedBurner RSS feed is imported, then the publisher’s addresses are the original URLs and a notice naming the publisher’s, the proxy’s or our page matches the item', async () => {
    await importFixture('feedburner-rss.xml', ['dailyplanet.example']);
    const bridge = await item('Council approves new harbour bridge');
    expect(bridge).toMatchObject({
      original_url:
        'https://www.dailyplanet.example/news/2026/11/council-approves-harbour-bridge/?utm_source=feedburner&utm_medium=feed&utm_campaign=Feed%3A+dailyplanet%2Fnews',
      original_url_normalised: 'https://dailyplanet.example/news/2026/11/council-approves-harbour-bridge',
      author: 'Lois Lane',
    });
    const tide = await item('Tide tables for the week');
    expect(tide.original_url_normalised).toBe('https://dailyplanet.example/news/2026/11/tide-tables');
    expect(await aliases(bridge.id)).toEqual([
      { kind: 'original', url_normalised: 'https://dailyplanet.example/news/2026/11/council-approves-harbour-bridge' },
      { kind: 'proxy', url_normalised: 'http://feeds.dailyplanet.example/~r/dailyplanet/news/~3/AbCdEf123' },
    ]);
    expect((await aliases(tide.id)).map((a) => a.kind)).toEqual(['original', 'proxy']);

    const targets = await matches([
      'https://www.dailyplanet.example/news/2026/11/council-approves-harbour-bridge/', // the publisher's, as a rights holder writes it
      'http://feeds.dailyplanet.example/~r/dailyplanet/news/~3/AbCdEf123/', // the proxy's
      `${BASE}/items/${bridge.slug}`, // our page
      'https://feedproxy.google.com/~r/dailyplanet/news/~3/ZyXw987/', // the other entry's proxy
    ]);
    expect(targets.map((x) => x.itemId)).toEqual([bridge.id, bridge.id, bridge.id, tide.id]);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM notice_targets WHERE item_id = $1`, [bridge.id]);
    expect(n).toBe(3);
  });

  it('when an Atom feed has self, edit, replies and alternate links, then the alternate is the original; a FeedBurner Atom entry uses its origLink; author names are text', async () => {
    await importFixture('atom-alternate.xml', ['blog.example'], 'application/atom+xml');
    const birds = await item('Birds of the estuary');
    expect(birds).toMatchObject({ original_url: 'https://blog.example/2026/11/birds-of-the-estuary.html', author: 'Mary Anning' });
    expect((await aliases(birds.id)).map((a) => a.url_normalised)).toEqual(['https://blog.example/2026/11/birds-of-the-estuary.html']); // self/edit/replies are not the article
    const fossils = await item('Fossils after the storm');
    expect(fossils.original_url).toBe('https://blog.example/2026/11/fossils-after-the-storm.html');
    const targets = await matches([
      'http://feedproxy.google.com/~r/FieldNotes/~3/QwErTy/fossils-after-the-storm.html',
      'https://blog.example/2026/11/fossils-after-the-storm.html',
    ]);
    expect(targets.map((x) => x.itemId)).toEqual([fossils.id, fossils.id]);
  });

  it('when a permalink guid differs from the link, then the guid is the original and the link and a canonical link in the content match too', async () => {
    await importFixture('permalink-guid.xml', ['gazette.example']);
    const ferry = await item('Ferry timetable changes');
    expect(ferry.original_url).toBe('https://gazette.example/articles/77-ferry-timetable-changes');
    expect(await aliases(ferry.id)).toEqual([
      { kind: 'canonical', url_normalised: 'https://gazette.example/a/77' },
      { kind: 'link', url_normalised: 'https://gazette.example/redirect?article=77&src=rss' },
      { kind: 'original', url_normalised: 'https://gazette.example/articles/77-ferry-timetable-changes' },
    ]);
    const market = await item('Market day moves');
    expect(market.original_url).toBe('https://gazette.example/articles/78-market-day-moves');
    const targets = await matches([
      'https://gazette.example/redirect?src=rss&article=77',
      'https://gazette.example/a/77',
      'https://gazette.example/articles/77-ferry-timetable-changes',
      'https://gazette.example/redirect?article=78&src=rss',
    ]);
    expect(targets.map((x) => x.itemId)).toEqual([ferry.id, ferry.id, ferry.id, market.id]);
  });

  it('when a title is CDATA with markup and numeric entities, then the registry and the page show it as text', async () => {
    await importFixture('classifieds-cdata.xml', ['classifieds.example']);
    const [flat] = await t.db.query(`SELECT * FROM items`);
    expect(flat.title).toBe('Bright flat by the park $4300 3bd 1930ft2');
    expect(flat.author).toBe('Park & Sons Lettings');
    const page = await request(t.app).get(`/items/${flat.slug}`).expect(200);
    expect(page.text).toContain('Bright flat by the park $4300 3bd 1930ft2');
    expect(page.text).not.toContain('&#x0024;');
    expect(page.text).not.toContain('&lt;sup&gt;');
    expect(page.text).toContain('Park &amp; Sons Lettings'); // escaped as usual
  });

  it('when an item was imported before (the proxy as its original URL, a title with markup), then the next import moves it to the publisher’s URL and text, keeping the proxy as an alias', async () => {
    await importFixture('feedburner-rss.xml', ['dailyplanet.example']);
    const bridge = await item('Council approves new harbour bridge');
    // As the previous version recorded it: the proxy address, and no aliases.
    await t.db.query(`DELETE FROM item_aliases`);
    await t.db.query(
      `UPDATE items SET original_url = 'http://feeds.dailyplanet.example/~r/dailyplanet/news/~3/AbCdEf123/',
                        original_url_normalised = 'http://feeds.dailyplanet.example/~r/dailyplanet/news/~3/AbCdEf123', title = 'Council approves <b>new</b> harbour bridge' WHERE id = $1`,
      [bridge.id],
    );
    const [source] = await t.db.query(`SELECT id FROM sources`);
    const again = await importFeedNow(t, source.id);
    expect(again).toMatchObject({ ok: true, created: 0, updated: 1, unchanged: 1 });
    const now = (await t.db.query(`SELECT * FROM items WHERE id = $1`, [bridge.id]))[0];
    expect(now).toMatchObject({
      original_url_normalised: 'https://dailyplanet.example/news/2026/11/council-approves-harbour-bridge',
      title: 'Council approves new harbour bridge',
      slug: bridge.slug,
    });
    expect((await aliases(bridge.id)).map((a) => a.kind)).toEqual(['original', 'proxy']);
    const third = await importFeedNow(t, source.id);
    expect(third).toMatchObject({ ok: true, created: 0, updated: 0, unchanged: 2 });
  });

  it('when the alias migration runs on a registry with items, then each item’s original URL becomes its first alias', async () => {
    const source = await makeSource(t.db);
    const a = await makeItem(t.db, source, { originalUrl: 'https://www.publisher.example/a/?utm_source=x' });
    const b = await makeItem(t.db, source, { originalUrl: 'https://publisher.example/b' });
    const runner = t.db.createQueryRunner();
    try {
      await runner.query(`DROP TABLE item_aliases`);
      await new CreateItemAliases1796600000001().up(runner);
    } finally {
      await runner.release();
    }
    const rows = await t.db.query(`SELECT item_id, kind, url_normalised FROM item_aliases ORDER BY url_normalised`);
    expect(rows).toEqual([
      { item_id: a.id, kind: 'original', url_normalised: 'https://publisher.example/a' },
      { item_id: b.id, kind: 'original', url_normalised: 'https://publisher.example/b' },
    ]);
  });
});
