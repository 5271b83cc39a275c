import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { withTransaction } from '../../src/db/transaction';
import { seedDemo } from '../../src/demo/seed-demo';
import { createSource, importItemsFile, Item, removeItems } from '../../src/modules/items';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { createStaff, csrfOf, signedInAgent, tokenFor } from '../support/staff';

const SYSTEM = { type: 'system' as const };

describe('staff pages and the API of the registry', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await truncateAll(t.db);
  });

  it('when anonymous visitors or moderators reach admin-only source actions, then they are refused and nothing changes', async () => {
    const source = await withTransaction(t.db, (tx) =>
      createSource(tx, { name: 'S', domains: ['s.example'], at: new Date(), actor: SYSTEM }),
    );
    await request(t.app).get('/sources').expect(303).expect('Location', '/login?next=%2Fsources');
    await request(t.app).get('/items').expect(303);
    await request(t.app).get(`/items/${source.id}/admin`).expect(303);
    const mod = await createStaff(t.db, { role: 'moderator' });
    const agent = await signedInAgent(t.app, mod.email);
    const page = await agent.get('/sources').expect(200);
    expect(page.text).not.toContain('Add a source');
    const csrf = await csrfOf(agent, '/sources');
    await agent.post('/sources').type('form').send({ _csrf: csrf, name: 'X', domains: 'x.example' }).expect(403);
    await agent.post(`/sources/${source.id}/block`).type('form').send({ _csrf: csrf }).expect(403);
    // Without the CSRF token, even an admin is refused.
    const admin = await createStaff(t.db, { role: 'admin' });
    const adminAgent = await signedInAgent(t.app, admin.email);
    await adminAgent.post(`/sources/${source.id}/block`).type('form').send({}).expect(403);
    const [row] = await t.db.query('SELECT status FROM sources WHERE id = $1', [source.id]);
    expect(row.status).toBe('active');
    expect(await t.db.query(`SELECT count(*)::int AS n FROM sources`)).toEqual([{ n: 1 }]);
  });

  it('when an admin adds a source with bad fields, then 422 with each error by its field; with good ones, it is created and audited', async () => {
    const admin = await createStaff(t.db, { role: 'admin' });
    const agent = await signedInAgent(t.app, admin.email);
    const csrf = await csrfOf(agent, '/sources');
    const bad = await agent
      .post('/sources')
      .type('form')
      .send({ _csrf: csrf, name: '', domains: 'not a domain!', feedUrl: 'javascript:alert(1)', contactEmail: 'nope' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('id="src-name-error"');
    expect(bad.text).toContain('id="src-feed-error"');
    expect(bad.text).toContain('id="src-contact-error"');
    expect(bad.text).toContain('value="javascript:alert(1)"');
    await agent
      .post('/sources')
      .type('form')
      .send({
        _csrf: csrf,
        name: 'Good Publisher',
        domains: 'WWW.Good.example, news.good.example',
        feedUrl: 'https://good.example/feed.xml',
        contactEmail: 'Ed@Good.example',
      })
      .expect(303);
    const [s] = await t.db.query('SELECT * FROM sources');
    expect(s).toMatchObject({
      name: 'Good Publisher',
      domains: ['good.example', 'news.good.example'],
      contact_email: 'ed@good.example',
      status: 'active',
    });
    expect((await t.db.query(`SELECT actor_id FROM audit_events WHERE action = 'source.created'`))[0].actor_id).toBe(admin.id);
  });

  it('when staff search items by title, page URL or original URL and filter by source and status, then the matching items are listed', async () => {
    await seedDemo(t);
    const items = await t.db.getRepository(Item).find({ relations: { source: true } });
    const target = items.find((i) => i.title.startsWith('Barley'))!;
    const other = items.find((i) => i.sourceId !== target.sourceId)!;
    await withTransaction(t.db, (tx) =>
      removeItems(tx, {
        itemIds: [other.id],
        noticeId: '00000000-0000-4000-8000-000000000009',
        reference: 'TD-000009',
        claimant: 'Org',
        legalBasis: 'copyright',
        actor: SYSTEM,
        at: new Date(),
      }),
    );
    const mod = await createStaff(t.db, { role: 'moderator' });
    const agent = await signedInAgent(t.app, mod.email);
    const byTitle = await agent.get('/items').query({ q: 'risotto' }).expect(200);
    expect(byTitle.text).toContain(`/items/${target.id}/admin`);
    expect(byTitle.text).not.toContain(`/items/${other.id}/admin`);
    const byPage = await agent
      .get('/items')
      .query({ q: `http://localhost:3000/items/${target.slug}?utm_source=x` })
      .expect(200);
    expect(byPage.text).toContain(`/items/${target.id}/admin`);
    const byOriginal = await agent
      .get('/items')
      .query({ q: target.originalUrl.replace('https://', 'https://www.') + '/' })
      .expect(200);
    expect(byOriginal.text).toContain(`/items/${target.id}/admin`);
    const removed = await agent.get('/items').query({ status: 'removed' }).expect(200);
    expect(removed.text).toContain(`/items/${other.id}/admin`);
    expect(removed.text).not.toContain(`/items/${target.id}/admin`);
    const bySource = await agent.get('/items').query({ source: target.sourceId }).expect(200);
    expect(bySource.text).not.toContain(`/items/${other.id}/admin`);
    await agent.get('/items').query({ q: `'; DROP TABLE items; --` }).expect(200);
    await agent.get('/items').query({ status: 'nonsense' }).expect(422);

    const detail = await agent.get(`/items/${other.id}/admin`).expect(200);
    expect(detail.text).toContain('First fetched by us');
    expect(detail.text).toContain(other.rawSha256);
    expect(detail.text).toContain('item.removed');
    expect(detail.text).toContain('TD-000009');
  });

  it('when items are paged, then each page continues where the last ended (keyset), with no repeats', async () => {
    const source = await withTransaction(t.db, (tx) =>
      createSource(tx, { name: 'Many', domains: ['many.example'], at: new Date(), actor: SYSTEM }),
    );
    await t.db.query(
      `INSERT INTO items (source_id, slug, title, original_url, original_url_normalised, guid, first_fetched_at, last_fetched_at, listed_at, raw_sha256)
       SELECT $1, 'item-' || g, 'Item ' || g, 'https://many.example/' || g, 'https://many.example/' || g, g::text, now(), now(), now() - g * interval '1 minute', repeat('0', 64)
       FROM generate_series(1, 130) g`,
      [source.id],
    );
    const token = await tokenFor(t.db, await createStaff(t.db, { role: 'moderator' }));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(t.app)
        .get('/api/v1/items')
        .query(cursor ? { cursor } : {})
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      seen.push(...res.body.items.map((i: { slug: string }) => i.slug));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(130);
    expect(new Set(seen).size).toBe(130);
    expect(seen[0]).toBe('item-1');
    // The front page pages the same way.
    const first = await request(t.app).get('/').expect(200);
    const next = /href="\/\?before=([^"]+)"/.exec(first.text)![1];
    const second = await request(t.app).get(`/?before=${next}`).expect(200);
    expect(second.text).toContain('/items/item-21"');
    expect(second.text).not.toContain('/items/item-20"');
  });

  it('when items are added through the API, then valid ones are created (201), repeats change nothing, and bad input gets 422 by field', async () => {
    const source = await withTransaction(t.db, (tx) =>
      createSource(tx, { name: 'API Pub', domains: ['api.example'], at: new Date(), actor: SYSTEM }),
    );
    const token = await tokenFor(t.db, await createStaff(t.db, { role: 'moderator' }));
    const auth = { Authorization: `Bearer ${token}` };
    await request(t.app).post('/api/v1/items').send({}).expect(401);
    const body = {
      sourceId: source.id,
      title: 'Via the API',
      originalUrl: 'https://api.example/posts/1',
      publishedAt: '2026-01-05T10:00:00Z',
      content: '<p>Hi<script>x()</script></p>',
      rights: { copyright: '© API Pub' },
    };
    const created = await request(t.app).post('/api/v1/items').set(auth).send(body).expect(201);
    expect(created.body).toMatchObject({
      outcome: 'created',
      item: { title: 'Via the API', content: '<p>Hi</p>', status: 'published', rights: { copyright: '© API Pub' } },
    });
    expect(created.body.item.url).toBe(`http://localhost:3000/items/${created.body.item.slug}`);
    const again = await request(t.app).post('/api/v1/items').set(auth).send(body).expect(200);
    expect(again.body.outcome).toBe('unchanged');
    const dup = await request(t.app)
      .post('/api/v1/items')
      .set(auth)
      .send({ ...body, guid: 'other', originalUrl: 'https://www.api.example/posts/1/?utm_source=x' })
      .expect(409);
    expect(dup.body.code).toBe('ITEM.DUPLICATE');
    const bad = await request(t.app)
      .post('/api/v1/items')
      .set(auth)
      .send({ sourceId: 'x', title: '', originalUrl: 'javascript:alert(1)', publishedAt: 'yesterday', extra: 1 })
      .expect(422);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'extra',
      'originalUrl',
      'publishedAt',
      'sourceId',
      'title',
    ]);
    const got = await request(t.app).get(`/api/v1/items/${created.body.item.id}`).set(auth).expect(200);
    expect(got.body.originalUrlNormalised).toBe('https://api.example/posts/1');
    await request(t.app).get('/api/v1/items/00000000-0000-4000-8000-000000000000').set(auth).expect(404);
    expect(
      (await t.db.query(`SELECT action FROM audit_events WHERE action LIKE 'item.%'`)).map((e: { action: string }) => e.action),
    ).toEqual(['item.created']);
  });

  it('when sources are managed through the API, then admins create, everyone with a token lists and imports', async () => {
    const mod = await tokenFor(t.db, await createStaff(t.db, { role: 'moderator' }));
    const admin = await tokenFor(t.db, await createStaff(t.db, { role: 'admin' }));
    const body = { name: 'Feedless', domains: ['feedless.example'] };
    await request(t.app).post('/api/v1/sources').set('Authorization', `Bearer ${mod}`).send(body).expect(403);
    const created = await request(t.app).post('/api/v1/sources').set('Authorization', `Bearer ${admin}`).send(body).expect(201);
    const list = await request(t.app).get('/api/v1/sources').set('Authorization', `Bearer ${mod}`).expect(200);
    expect(list.body.sources.map((s: { name: string }) => s.name)).toEqual(['Feedless']);
    const fetch = await request(t.app).post(`/api/v1/sources/${created.body.id}/fetch`).set('Authorization', `Bearer ${mod}`).expect(409);
    expect(fetch.body.code).toBe('SOURCE.NO_FEED');
    await request(t.app).post('/api/v1/sources').set('Authorization', `Bearer ${admin}`).send({ name: 'x', domains: [] }).expect(422);
  });

  it('when a JSON Lines file is imported, then valid lines become items, invalid ones are reported by line number', async () => {
    const source = await withTransaction(t.db, (tx) =>
      createSource(tx, { name: 'File Pub', domains: ['file.example'], at: new Date(), actor: SYSTEM }),
    );
    const dir = mkdtempSync(path.join(os.tmpdir(), 'td-jsonl-'));
    const file = path.join(dir, 'items.jsonl');
    const line = (i: number) =>
      JSON.stringify({ sourceId: source.id, title: `File item ${i}`, originalUrl: `https://file.example/${i}`, content: `<p>${i}</p>` });
    writeFileSync(
      file,
      [line(1), line(2), '{not json', JSON.stringify({ sourceId: source.id, title: 'No URL' }), '', line(1)].join('\n') + '\n',
    );
    const r = await importItemsFile(t, file, { actor: SYSTEM, now: () => new Date() });
    expect(r).toMatchObject({ lines: 6, created: 2, unchanged: 0 });
    expect(r.skipped).toEqual({ 'duplicate entry in the same import': 1 });
    expect(r.invalid.map((i) => i.line)).toEqual([3, 4]);
    const again = await importItemsFile(t, file, { actor: SYSTEM, now: () => new Date() });
    expect(again).toMatchObject({ created: 0, unchanged: 2 });
    expect(await t.db.query(`SELECT count(*)::int AS n FROM items`)).toEqual([{ n: 2 }]);
  });
});
