import request from 'supertest';
import { seedDemo } from '../../src/demo/seed-demo';
import { seedDemoImages } from '../../src/demo/seed-demo-images';
import { createTestContext, TestContext } from '../support/context';
import { createStaff } from '../support/staff';

/** The demo of a fresh `npm start` (issue 20): what the server seeds after the demo notices. */
describe('demo images on a first start', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
  });
  afterAll(() => t.close());

  it('when the demo is seeded, then a notice removed the photo from its article (still 200, placeholder) and its recompressed copy arrived without it', async () => {
    await seedDemo(t);
    await createStaff(t.db, { role: 'admin' });
    const made = await seedDemoImages(t);
    expect(made).not.toBeNull();
    const { article, notice, copy } = made!;

    const page = await request(t.app).get(`/items/${article}`).expect(200);
    expect(page.text).toContain('Image removed following a copyright notice');
    expect(page.text).toContain(`/transparency/notices/${notice}`);
    expect(page.text).not.toContain('harbour-at-dawn.jpg');
    const [n] = await t.db.query(`SELECT status FROM notices WHERE reference = $1`, [notice]);
    expect(n.status).toBe('approved');

    const copyPage = await request(t.app).get(`/items/${copy}`).expect(200);
    expect(copyPage.text).toContain('Image removed following a copyright notice');
    expect(copyPage.text).not.toContain('harbour-at-dawn-recompressed.jpg');
    const [g] = await t.db.query(`SELECT g.status, g.removal FROM item_images g JOIN items i ON i.id = g.item_id WHERE i.slug = $1`, [
      copy,
    ]);
    expect(g).toMatchObject({ status: 'removed', removal: { reference: notice, match: { distance: expect.any(Number) } } });
    // The photos are ours to serve.
    await request(t.app).get('/static/demo/harbour-at-dawn.jpg').expect(200).expect('Content-Type', 'image/jpeg');
  });
});
