import request from 'supertest';
import sharp from 'sharp';
import { withTransaction } from '../../src/db/transaction';
import { SYSTEM } from '../../src/modules/audit';
import { restoreDueCounterNotices } from '../../src/modules/counter-notices';
import { importFeedNow } from '../../src/modules/feeds';
import { hashPendingImages } from '../../src/modules/images';
import { createSource, Source } from '../../src/modules/items';
import { syntheticPhoto, TRANSFORMS } from '../../src/demo/synthetic-photos';
import { ManualClock, systemClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import { approveForTest, submitNoticeFor } from '../support/approve-fixture';
import type { TestContext } from '../support/context';
import { rss, rssItem, startFeedServer, xmlRoute } from '../support/feed-server';
import { createMailingContext, MailingContext } from '../support/mailing';
import type { SmtpSink } from '../support/smtp-sink';
import { createStaff, csrfOf, signedInAgent, tokenFor } from '../support/staff';

const BASE = 'http://localhost:3000';
const NOW = new Date('2026-06-01T10:00:00Z');
const PLACEHOLDER = 'Image removed following a copyright notice';
const TEXT = (topic: string) =>
  `<p>${topic}: the harbour authority said on Monday that the works would start in July and last a year, with ferries replacing the crossing.</p>`;

/** SPEC §19 end to end: real images made by sharp, served over HTTP, imported from real feeds. */
describe('images: a notice about a photo removes the photo, not the article', () => {
  const clock = new ManualClock(NOW);
  let mailing: MailingContext;
  let t: TestContext;
  let sink: SmtpSink;
  let feeds: Awaited<ReturnType<typeof startFeedServer>>;
  let origin: Source;
  let partner: Source;
  let photo: Buffer;

  const one = async (sql: string, params: unknown[] = []) => (await t.db.query(sql, params))[0];
  const count = async (sql: string, params: unknown[] = []) => (await one(`SELECT count(*)::int AS n FROM ${sql}`, params)).n as number;
  const serveImage = (path: string, body: Buffer, type = 'image/jpeg') =>
    feeds.routes.set(path, (_req, res) => {
      res.setHeader('Content-Type', type);
      res.end(body);
    });
  const serveFeed = (path: string, entries: { guid: string; link: string; title: string; img?: string }[]) =>
    feeds.routes.set(
      path,
      xmlRoute(
        rss(
          entries.map((e) =>
            rssItem({
              guid: e.guid,
              link: e.link,
              title: e.title,
              encoded: `${TEXT(e.title)}${e.img ? `<p><img src="${feeds.url}${e.img}" alt="The swing bridge at dawn"></p>` : ''}<p>More to follow.</p>`,
            }),
          ),
        ),
      ),
    );
  const source = (name: string, path: string, domain: string, contactEmail: string) =>
    withTransaction(t.db, (tx) =>
      createSource(tx, { name, domains: [domain], feedUrl: feeds.url + path, contactEmail, actor: SYSTEM, at: NOW }),
    );
  const hashAll = () => hashPendingImages({ db: t.db, clock: t.clock, config: t.config, logger: createLogger('silent') });
  const itemAt = (url: string) => one(`SELECT id, slug, status FROM items WHERE original_url = $1`, [url]);
  const imageOf = (itemId: string) => one(`SELECT * FROM item_images WHERE item_id = $1 ORDER BY position LIMIT 1`, [itemId]);

  beforeAll(async () => {
    feeds = await startFeedServer();
    mailing = await createMailingContext({ clock, workerClock: systemClock, env: { INTAKE_PER_HOUR: '1000' } });
    ({ t, sink } = mailing);
    photo = await syntheticPhoto(7);
  });
  afterAll(async () => {
    await mailing.close();
    await feeds.close();
  });

  /** The demo's story: an article with a photo, imported and hashed; a notice names the photo; approved. */
  async function photoRemovedByNotice() {
    serveImage('/photos/bridge.jpg', photo);
    serveFeed('/origin.xml', [
      { guid: 'hg-1', link: 'https://harbourgazette.example/2026/bridge', title: 'Bridge to close', img: '/photos/bridge.jpg' },
    ]);
    expect(await importFeedNow(t, origin.id)).toMatchObject({ ok: true, created: 1 });
    const article = await itemAt('https://harbourgazette.example/2026/bridge');
    expect(await imageOf(article.id)).toMatchObject({ fetch_status: 'pending', position: 1, alt: 'The swing bridge at dawn' });
    expect(await hashAll()).toBe(1);
    const { reference, statusUrl } = await submitNoticeFor(t.app, [`${feeds.url}/photos/bridge.jpg`]);
    await approveForTest(t.db, reference, NOW);
    return { article, reference, statusUrl, image: await imageOf(article.id) };
  }

  /** The partner imports the photo resized and recompressed (cd-1) and another shot of its scene (cd-2), not yet hashed. */
  async function copyAndOtherShotImported() {
    serveImage(
      '/cdn/harbour-small.jpg',
      await sharp(await TRANSFORMS.resized(photo))
        .jpeg({ quality: 45 })
        .toBuffer(),
    );
    serveImage('/cdn/other-shot.jpg', await syntheticPhoto(7, { shot: 1 }));
    serveFeed('/partner.xml', [
      { guid: 'cd-1', link: 'https://coastaldigest.example/bridge', title: 'Harbour crossing shuts', img: '/cdn/harbour-small.jpg' },
      { guid: 'cd-2', link: 'https://coastaldigest.example/bridge-2', title: 'Another view of the harbour', img: '/cdn/other-shot.jpg' },
    ]);
    expect(await importFeedNow(t, partner.id)).toMatchObject({ ok: true, created: 2 });
  }

  /** The source's counter-notice through the API. */
  const counterNotice = (reference: string, removedUrls: string[]) =>
    request(t.app).post('/api/v1/counter-notices').send({
      notice: reference,
      name: 'Grace Hopper',
      email: 'grace@harbourgazette.example',
      phone: '+1 202 555 0142',
      address: '1 Harbour Street, Annapolis, MD 21401',
      country: 'US',
      removedUrls,
      explanation: 'We took this photo ourselves.',
      mistake: true,
      consent: true,
      signature: 'Grace Hopper',
    });

  beforeEach(async () => {
    await mailing.reset();
    clock.set(NOW);
    origin = await source('Harbour Gazette', '/origin.xml', 'harbourgazette.example', 'editor@harbourgazette.example');
    partner = await source('Coastal Digest', '/partner.xml', 'coastaldigest.example', 'desk@coastaldigest.example');
    serveFeed('/partner.xml', []);
  });

  it('when an imported image is hashed, then its SHA-256, 64-bit perceptual hash and our own thumbnail are stored', async () => {
    serveImage('/photos/bridge.jpg', photo);
    serveFeed('/origin.xml', [
      { guid: 'hg-1', link: 'https://harbourgazette.example/2026/bridge', title: 'Bridge to close', img: '/photos/bridge.jpg' },
    ]);
    await importFeedNow(t, origin.id);
    expect(await hashAll()).toBe(1);
    const img = await one(`SELECT fetch_status, sha256, phash::text AS phash, width, height, format, thumbnail FROM item_images`);
    expect(img).toMatchObject({ fetch_status: 'fetched', width: 1000, height: 700, format: 'jpeg' });
    expect(img.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(BigInt(img.phash)).not.toBe(0n);
    const thumb = await sharp(img.thumbnail).metadata();
    expect(thumb.format).toBe('jpeg');
    expect(Math.max(thumb.width!, thumb.height!)).toBeLessThanOrEqual(160);
  });

  it('when a notice naming the photo is approved, then the article stays 200 with the placeholder, the target is removed, the image audited, banked, purged and the source emailed', async () => {
    const { article, reference, image } = await photoRemovedByNotice();
    const target = await one(
      `SELECT t.outcome, t.item_id, t.image_id FROM notice_targets t JOIN notices n ON n.id = t.notice_id WHERE n.reference = $1`,
      [reference],
    );
    expect(target).toEqual({ outcome: 'removed', item_id: article.id, image_id: image.id });
    expect((await itemAt('https://harbourgazette.example/2026/bridge')).status).toBe('published');
    expect(image).toMatchObject({ status: 'removed', removal: { reference } });

    const page = await request(t.app).get(`/items/${article.slug}`).expect(200);
    expect(page.text).toContain(PLACEHOLDER);
    expect(page.text).toContain(`href="/transparency/notices/${reference}"`);
    expect(page.text).not.toContain('/photos/bridge.jpg');
    expect(page.text).toContain('More to follow.');

    const audit = await one(`SELECT subject_id, details FROM audit_events WHERE action = 'item.image_removed'`);
    expect(audit).toMatchObject({ subject_id: article.id, details: { imageId: image.id, reference, noticeId: expect.any(String) } });
    expect(await count(`audit_events WHERE action = 'item.removed'`)).toBe(0);
    expect(await one(`SELECT image_id, phash::text AS phash, retired_at FROM image_fingerprints`)).toEqual({
      image_id: image.id,
      phash: image.phash,
      retired_at: null,
    });
    expect(await count(`edge_purges WHERE $1 = ANY(keys)`, [`item-${article.id}`])).toBeGreaterThanOrEqual(1);

    await mailing.worker.drain();
    const mail = sink.to('editor@harbourgazette.example').find((m) => /Your content was removed/.test(m.parsed.subject ?? ''));
    expect(mail?.parsed.text).toContain(`the image ${feeds.url}/photos/bridge.jpg (only the image; the article stays published)`);
    expect(mail?.parsed.text).toContain('/counter-notice?notice=');
  });

  it("when a notice names a photo while an open notice names its article, then it is flagged as that notice's duplicate", async () => {
    serveImage('/photos/bridge.jpg', photo);
    serveFeed('/origin.xml', [
      { guid: 'hg-1', link: 'https://harbourgazette.example/2026/bridge', title: 'Bridge to close', img: '/photos/bridge.jpg' },
    ]);
    await importFeedNow(t, origin.id);
    const article = await itemAt('https://harbourgazette.example/2026/bridge');
    const first = await submitNoticeFor(t.app, [`/items/${article.slug}`]);
    const second = await submitNoticeFor(t.app, [`${feeds.url}/photos/bridge.jpg`]);
    const { flags } = await one(`SELECT flags FROM notices WHERE reference = $1`, [second.reference]);
    const duplicate = flags.find((f: { code: string }) => f.code === 'duplicate');
    expect(duplicate?.reason).toContain(first.reference);
    expect(
      await one(`SELECT item_id, image_id FROM notice_targets t JOIN notices n ON n.id = t.notice_id WHERE n.reference = $1`, [
        second.reference,
      ]),
    ).toEqual({
      item_id: article.id,
      image_id: (await imageOf(article.id)).id,
    });
  });

  it('when the complainant and a moderator look at the notice, then both see "image in <article>" with a thumbnail we serve', async () => {
    const { reference, statusUrl, image } = await photoRemovedByNotice();
    const status = await request(t.app)
      .get(new URL(statusUrl).pathname + new URL(statusUrl).search)
      .expect(200);
    expect(status.text).toContain('image in “Bridge to close”');
    const token = new URL(statusUrl).searchParams.get('token')!;
    const thumbPath = `/takedown/${reference}/images/${image.id}?token=${encodeURIComponent(token)}`;
    expect(status.text).toContain(thumbPath.replace(/&/g, '&amp;'));
    expect(status.text).not.toContain(`src="${feeds.url}`);
    const thumb = await request(t.app).get(thumbPath).expect(200);
    expect(thumb.headers['content-type']).toBe('image/jpeg');
    await request(t.app).get(`/takedown/${reference}/images/${image.id}?token=wrong`).expect(404);

    const mod = await createStaff(t.db, { role: 'moderator' });
    const agent = await signedInAgent(t.app, mod.email);
    const detail = await agent.get(`/notices/${reference}`).expect(200);
    expect(detail.text).toContain(`src="/images/${image.id}/thumbnail"`);
    expect((await agent.get(`/images/${image.id}/thumbnail`).expect(200)).headers['content-type']).toBe('image/jpeg');
    await request(t.app)
      .get(`/images/${image.id}/thumbnail`)
      .expect((r) => expect([302, 303, 401]).toContain(r.status));
  });

  it('when another article later carries the same photo resized and recompressed, then it arrives without it: removed at import, audited with the matched notice', async () => {
    const { reference, image: original } = await photoRemovedByNotice();
    await copyAndOtherShotImported();
    expect(await hashAll()).toBe(2);

    const copy = await itemAt('https://coastaldigest.example/bridge');
    expect(copy.status).toBe('published');
    const img = await imageOf(copy.id);
    expect(img.status).toBe('removed');
    expect(img.removal).toMatchObject({ reference, match: { matchedImageId: original.id, distance: expect.any(Number) } });
    expect(img.removal.match.distance).toBeLessThanOrEqual(t.config.policy.imageStaydownDistance);
    const audit = await one(`SELECT actor_type, details FROM audit_events WHERE action = 'item.image_removed' AND subject_id = $1`, [
      copy.id,
    ]);
    expect(audit).toMatchObject({ actor_type: 'system', details: { reference, match: { matchedImageId: original.id } } });
    const page = await request(t.app).get(`/items/${copy.slug}`).expect(200);
    expect(page.text).toContain(PLACEHOLDER);
    expect(page.text).not.toContain('/cdn/harbour-small.jpg');

    // Another photo of the same scene is not the same photo.
    const other = await itemAt('https://coastaldigest.example/bridge-2');
    expect((await imageOf(other.id)).status).toBe('shown');
    expect((await request(t.app).get(`/items/${other.slug}`).expect(200)).text).toContain('/cdn/other-shot.jpg');

    // The transparency report counts the image removals apart from article removals.
    const report = await request(t.app).get('/transparency').set('Accept', 'application/json').expect(200);
    expect(report.body.months[0]).toMatchObject({
      month: '2026-06',
      urlsRemoved: 0,
      imagesRemoved: 2,
      imagesRemovedAtImport: 1,
      imagesRestored: 0,
    });

    const api = await request(t.app)
      .get(`/api/v1/items/${copy.id}`)
      .set('Authorization', `Bearer ${await tokenFor(t.db, await createStaff(t.db, { role: 'moderator' }))}`)
      .expect(200);
    expect(api.body.status).toBe('published');
    expect(api.body.images).toEqual([
      expect.objectContaining({
        id: img.id,
        status: 'removed',
        fetchStatus: 'fetched',
        removedBy: expect.objectContaining({ noticeReference: reference }),
      }),
    ]);
  });

  it('when an article carrying a copy of a removed photo is imported, then its page never shows the copy: left out until the check, the placeholder after it; a clear photo appears once checked, its page purged', async () => {
    const { reference } = await photoRemovedByNotice();
    await copyAndOtherShotImported();
    const copy = await itemAt('https://coastaldigest.example/bridge');
    const other = await itemAt('https://coastaldigest.example/bridge-2');

    // Imported, not yet hashed: both articles are up, neither photo is on its page, nothing claims a removal.
    for (const [item, img] of [
      [copy, '/cdn/harbour-small.jpg'],
      [other, '/cdn/other-shot.jpg'],
    ] as const) {
      expect(await imageOf(item.id)).toMatchObject({ fetch_status: 'pending', status: 'shown' });
      const page = await request(t.app).get(`/items/${item.slug}`).expect(200);
      expect(page.text).toContain('More to follow.');
      expect(page.text).not.toContain(img);
      expect(page.text).not.toContain(PLACEHOLDER);
      // The page changes when the check ends: no date validator that would let a cache keep it.
      expect(page.headers['last-modified']).toBeUndefined();
    }
    const purgesOf = (id: string) => count(`edge_purges WHERE $1 = ANY(keys)`, [`item-${id}`]);
    const otherPurgesBefore = await purgesOf(other.id);

    expect(await hashAll()).toBe(2);
    const copyPage = await request(t.app).get(`/items/${copy.slug}`).expect(200);
    expect(copyPage.text).toContain(PLACEHOLDER);
    expect(copyPage.text).toContain(`href="/transparency/notices/${reference}"`);
    expect(copyPage.text).not.toContain('/cdn/harbour-small.jpg');
    const otherPage = await request(t.app).get(`/items/${other.slug}`).expect(200);
    expect(otherPage.text).toContain(`src="${feeds.url}/cdn/other-shot.jpg"`);
    expect(otherPage.headers['last-modified']).toBeDefined();
    expect(await purgesOf(other.id)).toBe(otherPurgesBefore + 1);
  });

  it('when a moderator releases a false staydown match, then the image is shown again, audited, and never matched against that fingerprint again', async () => {
    await photoRemovedByNotice();
    serveImage('/cdn/harbour.png', await TRANSFORMS.png(photo));
    serveFeed('/partner.xml', [
      { guid: 'cd-1', link: 'https://coastaldigest.example/bridge', title: 'Harbour crossing shuts', img: '/cdn/harbour.png' },
    ]);
    await importFeedNow(t, partner.id);
    await hashAll();
    const copy = await itemAt('https://coastaldigest.example/bridge');
    const img = await imageOf(copy.id);
    expect(img.status).toBe('removed');

    const mod = await createStaff(t.db, { role: 'moderator' });
    const agent = await signedInAgent(t.app, mod.email);
    const admin = await agent.get(`/items/${copy.id}/admin`).expect(200);
    expect(admin.text).toContain(`action="/images/${img.id}/release"`);
    await agent
      .post(`/images/${img.id}/release`)
      .type('form')
      .send({ _csrf: await csrfOf(agent) })
      .expect(303);
    const after = await imageOf(copy.id);
    expect(after).toMatchObject({ status: 'shown', removal: null, released_from: [img.removal.match.fingerprintId] });
    expect(await one(`SELECT actor_type, details FROM audit_events WHERE action = 'item.image_released'`)).toMatchObject({
      actor_type: 'user',
      details: { imageId: img.id },
    });
    expect((await request(t.app).get(`/items/${copy.slug}`).expect(200)).text).toContain('/cdn/harbour.png');
    // Fetched again (e.g. the feed changed it): still not removed for the released fingerprint.
    await t.db.query(`UPDATE item_images SET fetch_status = 'pending', next_attempt_at = now() - interval '1 minute' WHERE id = $1`, [
      img.id,
    ]);
    await hashAll();
    expect((await imageOf(copy.id)).status).toBe('shown');
    await agent
      .post(`/images/${img.id}/release`)
      .type('form')
      .send({ _csrf: await csrfOf(agent) })
      .expect(409);
  });

  it('when a moderator releases a false staydown match through the API, then the image is shown again, audited, and a second release or an unknown image is refused in errors[]', async () => {
    await photoRemovedByNotice();
    serveImage('/cdn/harbour.png', await TRANSFORMS.png(photo));
    serveFeed('/partner.xml', [
      { guid: 'cd-1', link: 'https://coastaldigest.example/bridge', title: 'Harbour crossing shuts', img: '/cdn/harbour.png' },
    ]);
    await importFeedNow(t, partner.id);
    await hashAll();
    const copy = await itemAt('https://coastaldigest.example/bridge');
    const img = await imageOf(copy.id);
    expect(img.status).toBe('removed');
    const token = await tokenFor(t.db, await createStaff(t.db, { role: 'moderator' }));
    const release = (id: string) => request(t.app).post(`/api/v1/images/${id}/release`).set('Authorization', `Bearer ${token}`);

    const res = await release(img.id).expect(200);
    expect(res.body).toEqual({
      id: img.id,
      itemId: copy.id,
      url: `${feeds.url}/cdn/harbour.png`,
      position: 1,
      status: 'shown',
      releasedFrom: [img.removal.match.fingerprintId],
    });
    expect(await imageOf(copy.id)).toMatchObject({ status: 'shown', removal: null, released_from: [img.removal.match.fingerprintId] });
    expect(await one(`SELECT actor_type, subject_id, details FROM audit_events WHERE action = 'item.image_released'`)).toMatchObject({
      actor_type: 'user',
      subject_id: copy.id,
      details: { imageId: img.id, removal: { match: { fingerprintId: img.removal.match.fingerprintId } } },
    });
    expect(await count(`edge_purges WHERE $1 = ANY(keys)`, [`item-${copy.id}`])).toBeGreaterThanOrEqual(1);
    expect((await request(t.app).get(`/items/${copy.slug}`).expect(200)).text).toContain('/cdn/harbour.png');

    const again = await release(img.id).expect(409);
    expect(again.body.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/staydown match/) })]);
    await release('00000000-0000-4000-8000-000000000000').expect(404);
    expect(await count(`audit_events WHERE action = 'item.image_released'`)).toBe(1);
  });

  it('when a counter-notice restores the article page, then the image and its staydown copies come back and the fingerprint is retired', async () => {
    const { article, reference, image } = await photoRemovedByNotice();
    serveImage('/cdn/harbour-bright.jpg', await TRANSFORMS.brightened(photo));
    serveFeed('/partner.xml', [
      { guid: 'cd-1', link: 'https://coastaldigest.example/bridge', title: 'Harbour crossing shuts', img: '/cdn/harbour-bright.jpg' },
    ]);
    await importFeedNow(t, partner.id);
    await hashAll();
    const copy = await itemAt('https://coastaldigest.example/bridge');
    expect((await imageOf(copy.id)).status).toBe('removed');

    await counterNotice(reference, [`${BASE}/items/${article.slug}`]).expect(201);
    clock.set(new Date('2026-07-15T00:00:00Z'));
    expect(await restoreDueCounterNotices(t)).toBe(1);
    expect((await imageOf(article.id)).status).toBe('shown');
    expect((await imageOf(copy.id)).status).toBe('shown');
    expect(await count(`audit_events WHERE action = 'item.image_restored'`)).toBe(2);
    expect(await one(`SELECT retired_at IS NOT NULL AS retired FROM image_fingerprints WHERE image_id = $1`, [image.id])).toEqual({
      retired: true,
    });
    expect(await one(`SELECT outcome FROM notice_targets WHERE image_id = $1`, [image.id])).toEqual({ outcome: 'restored' });
    expect((await request(t.app).get(`/items/${article.slug}`).expect(200)).text).toContain('/photos/bridge.jpg');
  });

  it('when a counter-notice names one removed image by its URL, then only that image and its staydown copies come back, through the restoration, and a URL the notice did not remove is refused next to the field', async () => {
    const second = await syntheticPhoto(21);
    serveImage('/photos/bridge.jpg', photo);
    serveImage('/photos/quay.jpg', second);
    feeds.routes.set(
      '/origin.xml',
      xmlRoute(
        rss([
          rssItem({
            guid: 'hg-2',
            link: 'https://harbourgazette.example/2026/two-photos',
            title: 'Two photos of the harbour',
            encoded: `${TEXT('Two photos')}<p><img src="${feeds.url}/photos/bridge.jpg" alt="Bridge"></p><p><img src="${feeds.url}/photos/quay.jpg" alt="Quay"></p>`,
          }),
        ]),
      ),
    );
    await importFeedNow(t, origin.id);
    expect(await hashAll()).toBe(2);
    const article = await itemAt('https://harbourgazette.example/2026/two-photos');
    const { reference } = await submitNoticeFor(t.app, [`${feeds.url}/photos/bridge.jpg`, `${feeds.url}/photos/quay.jpg`]);
    await approveForTest(t.db, reference, NOW);
    // A copy of the first photo arrives elsewhere and is removed at import on the notice's account.
    serveImage('/cdn/bridge-copy.jpg', await TRANSFORMS.recompressed(photo));
    serveFeed('/partner.xml', [
      { guid: 'cd-1', link: 'https://coastaldigest.example/bridge', title: 'Harbour crossing shuts', img: '/cdn/bridge-copy.jpg' },
    ]);
    await importFeedNow(t, partner.id);
    await hashAll();
    const copy = await itemAt('https://coastaldigest.example/bridge');
    expect(await imageOf(copy.id)).toMatchObject({ status: 'removed', removal: { reference } });
    const imageAt = (file: string) => one(`SELECT id, status FROM item_images WHERE url = $1`, [`${feeds.url}/photos/${file}`]);
    expect(await imageAt('bridge.jpg')).toMatchObject({ status: 'removed' });
    expect(await imageAt('quay.jpg')).toMatchObject({ status: 'removed' });

    const counter = (removedUrls: string[]) => counterNotice(reference, removedUrls);
    // The form, opened from the removal email, lists the removed images by their URLs (the article itself was not removed).
    const form = await request(t.app).get(`/counter-notice?notice=${reference}`).expect(200);
    const listed = /<textarea id="removedUrls"[^>]*>([^<]*)<\/textarea>/.exec(form.text)![1].split('\n');
    expect(listed).toEqual([`${feeds.url}/photos/bridge.jpg`, `${feeds.url}/photos/quay.jpg`]);

    const refused = await counter([`${feeds.url}/photos/not-removed.jpg`]).expect(422);
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ field: 'removedUrls', message: expect.stringContaining(`the image ${feeds.url}/photos/bridge.jpg`) }),
    ]);
    expect(await count(`counter_notices`)).toBe(0);

    const accepted = await counter([`${feeds.url}/photos/bridge.jpg`]).expect(201);
    expect(accepted.body.items).toEqual([{ itemId: article.id, url: `${BASE}/items/${article.slug}` }]);
    clock.set(new Date('2026-07-15T00:00:00Z'));
    expect(await restoreDueCounterNotices(t)).toBe(1);

    expect(await imageAt('bridge.jpg')).toMatchObject({ status: 'shown' });
    expect(await imageAt('quay.jpg')).toMatchObject({ status: 'removed' });
    expect((await imageOf(copy.id)).status).toBe('shown');
    const restored: { details: { imageUrl: string } }[] = await t.db.query(
      `SELECT details FROM audit_events WHERE action = 'item.image_restored' ORDER BY id`,
    );
    expect(restored.map((r) => r.details.imageUrl).sort()).toEqual([`${feeds.url}/cdn/bridge-copy.jpg`, `${feeds.url}/photos/bridge.jpg`]);
    const live: { url: string }[] = await t.db.query(
      `SELECT g.url FROM image_fingerprints f JOIN item_images g ON g.id = f.image_id WHERE f.retired_at IS NULL`,
    );
    expect(live.map((r) => r.url)).toEqual([`${feeds.url}/photos/quay.jpg`]);
    const page = await request(t.app).get(`/items/${article.slug}`).expect(200);
    expect(page.text).toContain('/photos/bridge.jpg');
    expect(page.text).not.toContain('/photos/quay.jpg');
    expect(page.text).toContain(PLACEHOLDER);
  });

  it('when images are hostile (a 30,000 × 30,000 PNG header, a truncated JPEG, an SVG with script, a redirect to a private address), then each is refused as failed without a crash', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    serveImage('/evil/bomb.png', bombHeader(png, 30_000, 30_000), 'image/png');
    serveImage('/evil/truncated.jpg', photo.subarray(0, Math.floor(photo.length / 3)));
    serveImage('/evil/script.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'image/svg+xml');
    serveImage(
      '/evil/lying.png',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'),
      'image/png',
    );
    feeds.routes.set('/evil/redirect.jpg', (_req, res) => {
      res.statusCode = 302;
      res.setHeader('Location', 'http://169.254.169.254/latest/meta-data/');
      res.end();
    });
    const evil = ['bomb.png', 'truncated.jpg', 'script.svg', 'lying.png', 'redirect.jpg'];
    serveFeed(
      '/origin.xml',
      evil.map((f, i) => ({ guid: `e-${i}`, link: `https://harbourgazette.example/evil/${i}`, title: `Evil ${f}`, img: `/evil/${f}` })),
    );
    await importFeedNow(t, origin.id);
    // Private addresses are refused here (only the test's own host is let through, as an operator would list an internal host).
    const hashed = await hashPendingImages({
      db: t.db,
      clock: t.clock,
      config: { ...t.config, policy: { ...t.config.policy, allowPrivateFeeds: false } },
      logger: createLogger('silent'),
      privateHosts: ['127.0.0.1'],
    });
    expect(hashed).toBe(5);
    const rows: { url: string; fetch_status: string; fetch_error: string; phash: string | null }[] = await t.db.query(
      `SELECT url, fetch_status, fetch_error, phash FROM item_images ORDER BY url`,
    );
    const errorOf = (f: string) => rows.find((r) => r.url.endsWith(f))!;
    for (const f of evil) expect(errorOf(f)).toMatchObject({ fetch_status: 'failed', phash: null });
    expect(errorOf('bomb.png').fetch_error).toMatch(/pixel limit/);
    expect(errorOf('truncated.jpg').fetch_error).toMatch(/decode|premature|truncated|corrupt/i);
    expect(errorOf('script.svg').fetch_error).toMatch(/content type image\/svg\+xml/);
    expect(errorOf('lying.png').fetch_error).toMatch(/format svg is not accepted/);
    expect(errorOf('redirect.jpg').fetch_error).toMatch(/169\.254\.169\.254.*private/);
    // And the app still serves the pages, the images' places simply kept.
    await request(t.app)
      .get(`/items/${(await itemAt('https://harbourgazette.example/evil/0')).slug}`)
      .expect(200);
  });
});

/** A valid PNG whose IHDR claims `w` × `h` (CRC fixed), as a decompression bomb's header would. */
function bombHeader(png: Buffer, w: number, h: number): Buffer {
  const out = Buffer.from(png);
  out.writeUInt32BE(w, 16);
  out.writeUInt32BE(h, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
