import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { withTransaction } from '../../src/db/transaction';
import { SYSTEM } from '../../src/modules/audit';
import { restoreDueCounterNotices } from '../../src/modules/counter-notices';
import { seedDemo } from '../../src/demo/seed-demo';
import { importFeedNow } from '../../src/modules/feeds';
import { createSource, Source } from '../../src/modules/items';
import { backfillFingerprints, findMatches, signatureOf } from '../../src/modules/staydown';
import { ManualClock, systemClock } from '../../src/shared/clock';
import { approvedNotice, COMPLAINANT } from '../support/approve-fixture';
import type { TestContext } from '../support/context';
import { rss, rssItem, startFeedServer, xmlRoute } from '../support/feed-server';
import { createMailingContext, MailingContext } from '../support/mailing';
import type { SmtpSink } from '../support/smtp-sink';
import { createStaff, csrfOf, signedInAgent, tokenFor } from '../support/staff';

const BASE = 'http://localhost:3000';
const NOW = new Date('2026-06-01T10:00:00Z');

const TITLE = 'Harbour bridge closes for a year of repairs';
const PARAS = [
  'The old swing bridge over the inner harbour will close to traffic from the first of July, the port authority said on Monday, after engineers found corrosion in two of the four main girders during a routine inspection this spring.',
  'Repairs are expected to take at least twelve months and to cost about forty million, most of it paid by the regional transport fund. Ferries between the north quay and the fish market will run every ten minutes during the day to replace the crossing.',
  'Shop owners on Quay Street fear the closure will keep customers away. "We lived through the tram works five years ago and half of us nearly went under," said Marta Kowalski, who has sold bicycles near the bridge since 1998.',
  'The authority promised a temporary footbridge by September, wide enough for prams and wheelchairs, and free parking at the ferry terminal until the bridge reopens. Cyclists will be allowed on the ferries at no extra charge.',
  'The bridge was built in 1911 and last restored in the nineteen eighties, when its wooden deck was replaced with steel. It still swings open twice a day to let tall ships into the inner basin, a sight that draws tourists every summer.',
  'Councillors will vote on the final budget for the works in June, and residents can see the plans at the town library until the end of the month or comment on them online through the council website.',
];
const html = (paras: string[]) => paras.map((p) => `<p>${p}</p>`).join('\n');
const words = PARAS.join(' ').split(' ');

/** The six ways content comes back (SPEC §13, issue 15). */
const VARIANTS: [string, { title: string; body: string; sameSource?: boolean }][] = [
  ['the same content under a new guid and URL from the same feed', { title: TITLE, body: html(PARAS), sameSource: true }],
  ['the same content from a second source', { title: TITLE, body: html(PARAS) }],
  [
    'markup and whitespace changes',
    {
      title: `  ${TITLE.toUpperCase()}  `,
      body: PARAS.map(
        (p) => `<div class="entry">\n  <span>${p.replace(/ /g, '  \n ').replace(/"/g, '&quot;').replace(/,/g, '&#44;')}</span></div>`,
      ).join('<br/><br/>'),
    },
  ],
  [
    'a new title and an added boilerplate paragraph',
    {
      title: 'Quay Street traders brace for long bridge closure',
      body: `${html(PARAS)}\n<p>This article originally appeared on Harbour Gazette and is republished with permission. Subscribe to our newsletter for more local news.</p>`,
    },
  ],
  ['truncated to 70%', { title: TITLE, body: `<p>${words.slice(0, Math.floor(words.length * 0.7)).join(' ')}</p>` }],
  [
    'two paragraphs swapped and a sentence changed',
    {
      title: TITLE,
      body: html([
        PARAS[0],
        PARAS[2],
        PARAS[1],
        PARAS[3].replace(
          'The authority promised a temporary footbridge by September',
          'A temporary footbridge should open in the autumn, officials said',
        ),
        PARAS[4],
        PARAS[5],
      ]),
    },
  ],
];

/** Written independently about the same event: shared facts and a quote, different words. */
const SAME_EVENT = [
  {
    title: 'Swing bridge to shut for twelve months',
    body: html([
      'Drivers will lose their shortest route across the harbour this summer. Inspectors discovered rust damage in the girders of the 1911 swing bridge, and the port authority decided to close it from July.',
      'The bill, roughly forty million, will largely come from the regional transport fund. Extra ferry sailings are planned, and a footbridge for pedestrians should follow in September.',
      'Bicycle seller Marta Kowalski told our reporter that traders remember the tram works well. "We lived through the tram works five years ago and half of us nearly went under," she said.',
      'Council members are due to approve the budget next month; the drawings can be viewed at the library.',
    ]),
  },
  {
    title: 'Opinion: the bridge closure is a chance to rethink the harbour',
    body: html([
      'Every city has a structure it cannot imagine living without, and for us it is the swing bridge. Its closure for a year of repairs will hurt, but it also gives us room to ask what the waterfront is for.',
      'Why not keep more ferries after it reopens? Why not make the quay car-free at weekends? A year without through traffic is an experiment we would never dare to run on purpose.',
      'The traders on Quay Street deserve support, not just sympathy: rate relief for the months of disruption would cost little compared with the repair budget itself.',
    ]),
  },
];

describe('staydown: removed content stays down', () => {
  const clock = new ManualClock(NOW);
  let mailing: MailingContext;
  let t: TestContext;
  let sink: SmtpSink;
  let feeds: Awaited<ReturnType<typeof startFeedServer>>;
  let origin: Source;
  let partner: Source;
  let originalSlug: string;
  let reference: string;

  const one = async (sql: string, params: unknown[] = []) => (await t.db.query(sql, params))[0];
  const count = async (sql: string, params: unknown[] = []) => (await one(`SELECT count(*)::int AS n FROM ${sql}`, params)).n as number;
  const itemAt = (url: string) => one(`SELECT id, slug, status, held, removal FROM items WHERE original_url = $1`, [url]);
  const feedOf = (entries: { guid: string; link: string; title: string; body: string }[]) =>
    rss(entries.map((e) => rssItem({ guid: e.guid, link: e.link, title: e.title.replace(/&/g, '&amp;'), encoded: e.body })));
  const serve = (path: string, entries: { guid: string; link: string; title: string; body: string }[]) =>
    feeds.routes.set(path, xmlRoute(feedOf(entries)));
  const source = (name: string, path: string, domain: string, contactEmail: string) =>
    withTransaction(t.db, (tx) =>
      createSource(tx, { name, domains: [domain], feedUrl: feeds.url + path, contactEmail, actor: SYSTEM, at: NOW }),
    );

  beforeAll(async () => {
    feeds = await startFeedServer();
    mailing = await createMailingContext({ clock, workerClock: systemClock, env: { INTAKE_PER_HOUR: '1000' } });
    ({ t, sink } = mailing);
  });
  afterAll(async () => {
    await mailing.close();
    await feeds.close();
  });

  /** The original is imported from its publisher's feed and removed by an approved notice. */
  beforeEach(async () => {
    await mailing.reset();
    clock.set(NOW);
    origin = await source('Harbour Gazette', '/origin.xml', 'harbourgazette.example', 'editor@harbourgazette.example');
    partner = await source('Coastal Digest', '/partner.xml', 'coastaldigest.example', 'desk@coastaldigest.example');
    serve('/origin.xml', [{ guid: 'hg-1', link: 'https://harbourgazette.example/2026/bridge', title: TITLE, body: html(PARAS) }]);
    serve('/partner.xml', []);
    expect(await importFeedNow(t, origin.id)).toMatchObject({ ok: true, created: 1 });
    const original = await itemAt('https://harbourgazette.example/2026/bridge');
    originalSlug = original.slug;
    ({ reference } = await approvedNotice(t.app, t.db, [`${BASE}/items/${original.slug}`], NOW));
  });

  it('when an item is removed, then its fingerprint and 20 LSH band rows join the bank in the removal, and a lookup uses the band index', async () => {
    const original = await itemAt('https://harbourgazette.example/2026/bridge');
    const fp = await one(
      `SELECT id, item_id, notice_id, raw_sha256, original_url_normalised, cardinality(shingles) AS n, removal FROM content_fingerprints`,
    );
    expect(fp).toMatchObject({
      item_id: original.id,
      original_url_normalised: 'https://harbourgazette.example/2026/bridge',
      removal: { reference },
    });
    expect(fp.n).toBeGreaterThan(200);
    expect(await count(`content_fingerprint_bands WHERE fingerprint_id = $1`, [fp.id])).toBe(20);
    await t.db.query('SET enable_seqscan = off'); // the planner's choice on a tiny table would be a scan; the index must exist
    const plan = (
      await t.db.query(`EXPLAIN SELECT fingerprint_id FROM content_fingerprint_bands WHERE band = ANY($1::bigint[])`, [[1, 2, 3]])
    )
      .map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN'])
      .join('\n');
    await t.db.query('RESET enable_seqscan');
    expect(plan).toMatch(/Index Only Scan|Index Scan|Bitmap Index Scan/);
  });

  it.each(VARIANTS)(
    'when a copy comes back as %s, then it is stored held, answers 451 naming the notice, and item.held is audited',
    async (_kind, v) => {
      const link = v.sameSource ? 'https://harbourgazette.example/2026/bridge-again' : 'https://coastaldigest.example/news/bridge';
      serve(v.sameSource ? '/origin.xml' : '/partner.xml', [
        ...(v.sameSource ? [{ guid: 'hg-1', link: 'https://harbourgazette.example/2026/bridge', title: TITLE, body: html(PARAS) }] : []),
        { guid: 'copy-1', link, title: v.title, body: v.body },
      ]);
      const result = await importFeedNow(t, v.sameSource ? origin.id : partner.id);
      expect(result).toMatchObject({ ok: true, held: 1 });
      const copy = await itemAt(link);
      const original = await itemAt('https://harbourgazette.example/2026/bridge');
      expect(copy.status).toBe('held');
      expect(copy.held).toMatchObject({ noticeReference: reference, matchedItemId: original.id, match: 'text' });
      expect(copy.held.similarity).toBeGreaterThanOrEqual(0.8);
      const page = await request(t.app).get(`/items/${copy.slug}`).expect(451);
      expect(page.headers.link).toBe(`<${BASE}>; rel="blocked-by"`);
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.text).toContain(reference);
      const audit = await one(`SELECT actor_type, details FROM audit_events WHERE action = 'item.held' AND subject_id = $1`, [copy.id]);
      expect(audit.details).toMatchObject({ matchedItemId: original.id, noticeReference: reference, noticeId: expect.any(String) });
      expect(audit.details.similarity).toBe(copy.held.similarity);
    },
  );

  it('when the same entry returns with the same original URL from another source, then the unique URL refuses it, and the bank matches its raw SHA-256 and URL exactly', async () => {
    serve('/partner.xml', [{ guid: 'hg-1', link: 'https://harbourgazette.example/2026/bridge', title: TITLE, body: html(PARAS) }]);
    const r = await importFeedNow(t, partner.id);
    expect(r.created ?? 0).toBe(0);
    expect(await count(`items WHERE status = 'published'`)).toBe(0);
    const fp = await one(`SELECT id, raw_sha256 FROM content_fingerprints`);
    const matches = await findMatches(
      t.db.manager,
      [
        { key: 1, rawSha256: fp.raw_sha256, originalUrlNormalised: 'https://elsewhere.example/x', signature: signatureOf('', '') },
        {
          key: 2,
          rawSha256: '0'.repeat(64),
          originalUrlNormalised: 'https://harbourgazette.example/2026/bridge',
          signature: signatureOf('', ''),
        },
        {
          key: 3,
          rawSha256: '1'.repeat(64),
          originalUrlNormalised: 'https://elsewhere.example/y',
          signature: signatureOf('Other', '<p>Nothing alike at all here.</p>'),
        },
      ],
      0.8,
    );
    expect(matches.get(1)).toMatchObject({ fingerprintId: fp.id, similarity: 1, match: 'raw_sha256' });
    expect(matches.get(2)).toMatchObject({ fingerprintId: fp.id, similarity: 1, match: 'original_url' });
    expect(matches.has(3)).toBe(false);
  });

  it('when articles about the same event were written independently, then they stay published and nothing is audited as held', async () => {
    serve(
      '/partner.xml',
      SAME_EVENT.map((a, i) => ({
        guid: `ind-${i}`,
        link: `https://coastaldigest.example/news/independent-${i}`,
        title: a.title,
        body: a.body,
      })),
    );
    expect(await importFeedNow(t, partner.id)).toMatchObject({ ok: true, created: 2 });
    expect(await count(`items WHERE status = 'published'`)).toBe(2);
    expect(await count(`audit_events WHERE action = 'item.held'`)).toBe(0);
    for (let i = 0; i < SAME_EVENT.length; i++)
      await request(t.app)
        .get(`/items/${(await itemAt(`https://coastaldigest.example/news/independent-${i}`)).slug}`)
        .expect(200);
  });

  it('when items were removed before staydown existed, then fingerprint-backfill adds them in batches with progress, a second run adds nothing, and copies are then held', async () => {
    await t.db.query(`DELETE FROM content_fingerprints`); // as before this feature: a removed item, an empty bank
    expect(await count(`content_fingerprint_bands`)).toBe(0);
    const progress: [number, number][] = [];
    const first = await backfillFingerprints(t, {
      actor: { type: 'system', label: 'cli' },
      batch: 1,
      onProgress: (d, n) => progress.push([d, n]),
    });
    expect(first).toEqual({ added: 1, total: 1 });
    expect(progress).toEqual([
      [0, 1],
      [1, 1],
    ]);
    expect(await count(`content_fingerprints WHERE removal->>'reference' = $1`, [reference])).toBe(1);
    expect(await count(`content_fingerprint_bands`)).toBe(20);
    expect(await count(`audit_events WHERE action = 'staydown.backfilled'`)).toBe(1);
    expect(await backfillFingerprints(t, { actor: { type: 'system', label: 'cli' } })).toEqual({ added: 0, total: 0 });
    serve('/partner.xml', [{ guid: 'copy-1', link: 'https://coastaldigest.example/news/bridge', title: TITLE, body: html(PARAS) }]);
    expect(await importFeedNow(t, partner.id)).toMatchObject({ held: 1 });
  });

  it('when the demo is followed (docs/staydown.md: remove the demo ferry article, import the demo syndication feed), then the copy is held and the unrelated entry published', async () => {
    await seedDemo(t, NOW);
    const ferry = await itemAt('https://harbourlight.example/2026/03/ferry-timetable-winter');
    const { reference: ref } = await approvedNotice(t.app, t.db, [`${BASE}/items/${ferry.slug}`], NOW);
    const server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const demoFeed = `http://127.0.0.1:${(server.address() as AddressInfo).port}/static/demo/syndicated-copy.xml`;
      const digest = await withTransaction(t.db, (tx) =>
        createSource(tx, { name: 'Coast Digest', domains: ['coastdigest.example'], feedUrl: demoFeed, actor: SYSTEM, at: NOW }),
      );
      expect(await importFeedNow(t, digest.id)).toMatchObject({ ok: true, created: 2, held: 1 });
    } finally {
      server.close();
    }
    const copy = await itemAt('https://coastdigest.example/2026/11/island-ferry-changes');
    expect(copy).toMatchObject({ status: 'held', held: { noticeReference: ref, matchedItemId: ferry.id } });
    await request(t.app).get(`/items/${copy.slug}`).expect(451);
    expect((await itemAt('https://coastdigest.example/2026/11/railway-cycle-lane')).status).toBe('published');
  });

  describe('with a held copy', () => {
    const link = 'https://coastaldigest.example/news/bridge';
    let copy: { id: string; slug: string };
    beforeEach(async () => {
      serve('/partner.xml', [{ guid: 'copy-1', link, title: VARIANTS[3][1].title, body: VARIANTS[3][1].body }]);
      expect(await importFeedNow(t, partner.id)).toMatchObject({ held: 1 });
      copy = await itemAt(link);
    });

    it('when anyone reads the public lists, then the held copy is in none of them, and the API shows heldBecause', async () => {
      for (const path of ['/', '/feed.xml', '/sitemap.xml']) {
        const res = await request(t.app).get(path).expect(200);
        expect(res.text).not.toContain(copy.slug);
        expect(res.text).not.toContain(originalSlug);
      }
      const mod = await createStaff(t.db, { role: 'moderator' });
      const token = await tokenFor(t.db, mod);
      const list = await request(t.app).get('/api/v1/items?status=held').set('Authorization', `Bearer ${token}`).expect(200);
      expect(list.body.items.map((i: { id: string }) => i.id)).toEqual([copy.id]);
      const original = await itemAt('https://harbourgazette.example/2026/bridge');
      const one = await request(t.app).get(`/api/v1/items/${copy.id}`).set('Authorization', `Bearer ${token}`).expect(200);
      expect(one.body.status).toBe('held');
      expect(one.body.heldBecause).toEqual({ noticeReference: reference, matchedItemId: original.id, similarity: expect.any(Number) });
      expect(one.body.heldBecause.similarity).toBeGreaterThanOrEqual(0.8);
    });

    it('when a moderator opens the held list, then the queue header counts it and the copy is shown beside the original with the differing passage marked', async () => {
      const mod = await createStaff(t.db, { role: 'moderator' });
      const agent = await signedInAgent(t.app, mod.email);
      expect((await agent.get('/queue').expect(200)).text).toMatch(/1 held item/);
      const page = await agent.get('/items?status=held').expect(200);
      expect(page.text).toContain('Removed original');
      expect(page.text).toContain(reference);
      expect(page.text).toMatch(/<mark title="not in the removed original">This article originally appeared/);
      expect(page.text).toContain(`action="/items/${copy.id}/release"`);
      const own = await agent.get(`/items/${copy.id}/admin`).expect(200);
      expect(own.text).toContain('Held (staydown)');
      expect(own.text).toContain(`/notices/${reference}`);
    });

    it('when a moderator releases it, then it is published, audited, and the same match never holds it again', async () => {
      const mod = await createStaff(t.db, { role: 'moderator' });
      const agent = await signedInAgent(t.app, mod.email);
      const csrf = await csrfOf(agent, '/items?status=held');
      await agent.post(`/items/${copy.id}/release`).type('form').send({ _csrf: csrf }).expect(303);
      expect((await itemAt(link)).status).toBe('published');
      await request(t.app).get(`/items/${copy.slug}`).expect(200);
      expect(await count(`staydown_exceptions WHERE item_id = $1`, [copy.id])).toBe(1);
      expect(await one(`SELECT actor_label, details FROM audit_events WHERE action = 'item.released'`)).toMatchObject({
        actor_label: mod.email,
        details: { before: 'held', after: 'published', noticeReference: reference },
      });
      // The publisher edits the copy: the changed entry is checked again, and the released match does not hold it.
      serve('/partner.xml', [{ guid: 'copy-1', link, title: VARIANTS[3][1].title, body: `${VARIANTS[3][1].body}<p>Updated at noon.</p>` }]);
      expect(await importFeedNow(t, partner.id)).toMatchObject({ ok: true, updated: 1 });
      expect((await itemAt(link)).status).toBe('published');
      // A second release is refused, not a 500.
      await agent.post(`/items/${copy.id}/release`).type('form').send({ _csrf: csrf }).expect(409);
    });

    it('when a moderator confirms it over the API, then it is removed under the same notice, the source is struck and emailed the counter-notice route, and its fingerprint joins the bank', async () => {
      const mod = await createStaff(t.db, { role: 'moderator' });
      const token = await tokenFor(t.db, mod);
      const res = await request(t.app).post(`/api/v1/items/${copy.id}/confirm`).set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.body).toMatchObject({ status: 'removed', noticeReference: reference });
      const row = await itemAt(link);
      expect(row).toMatchObject({ status: 'removed', held: null, removal: { reference } });
      const page = await request(t.app).get(`/items/${copy.slug}`).expect(451);
      expect(page.text).toContain(reference);
      expect(await one(`SELECT strike_count FROM sources WHERE id = $1`, [partner.id])).toEqual({ strike_count: 1 });
      expect(await count(`content_fingerprints WHERE item_id = $1 AND retired_at IS NULL`, [copy.id])).toBe(1);
      expect(await count(`audit_events WHERE action = 'item.hold_confirmed' AND subject_id = $1`, [copy.id])).toBe(1);
      expect(await count(`audit_events WHERE action = 'item.removed' AND subject_id = $1`, [copy.id])).toBe(1);
      expect(await count(`audit_events WHERE action = 'source.struck' AND subject_id = $1`, [partner.id])).toBe(1);
      await mailing.worker.drain();
      const mail = sink.to('desk@coastaldigest.example').find((m) => /Your content was removed/.test(m.parsed.subject ?? ''));
      expect(mail?.parsed.text).toContain(`${BASE}/counter-notice?notice=${reference}`);
      expect(mail?.parsed.text).toContain(`${BASE}/items/${copy.slug}`);
    });

    it('when the original is restored after a counter-notice, then its fingerprint is retired, the copy is released and audited, and the restoration emails mention it', async () => {
      const original = await itemAt('https://harbourgazette.example/2026/bridge');
      await request(t.app)
        .post('/api/v1/counter-notices')
        .send({
          notice: reference,
          name: 'Grace Hopper',
          email: 'grace@harbourgazette.example',
          phone: '+1 202 555 0142',
          address: '1 Harbour Street, Annapolis, MD 21401',
          country: 'US',
          removedUrls: [`${BASE}/items/${originalSlug}`],
          explanation: 'We wrote this article ourselves.',
          mistake: true,
          consent: true,
          signature: 'Grace Hopper',
        })
        .expect(201);
      clock.set(new Date('2026-07-15T00:00:00Z'));
      expect(await restoreDueCounterNotices(t)).toBe(1);
      expect((await itemAt(link)).status).toBe('published');
      expect(await one(`SELECT retired_at IS NOT NULL AS retired FROM content_fingerprints WHERE item_id = $1`, [original.id])).toEqual({
        retired: true,
      });
      expect(await count(`content_fingerprint_bands`)).toBe(0);
      expect(await one(`SELECT details FROM audit_events WHERE action = 'item.released' AND subject_id = $1`, [copy.id])).toMatchObject({
        details: { before: 'held', after: 'published', matchedItemId: original.id },
      });
      await mailing.worker.drain();
      for (const to of [COMPLAINANT.email, 'editor@harbourgazette.example']) {
        const mail = sink.to(to).find((m) => /Material restored/.test(m.parsed.subject ?? ''));
        expect(mail?.parsed.text).toContain('held back');
        expect(mail?.parsed.text).toContain(`${BASE}/items/${copy.slug}`);
      }
    });
  });
});
