import request from 'supertest';
import type { Browser, Page } from 'playwright-core';
import { withTransaction } from '../../src/db/transaction';
import { createUser, User } from '../../src/modules/auth';
import type { Source } from '../../src/modules/items';
import { makeItem, makeSource } from '../support/factories';
import { startFeedServer } from '../support/feed-server';
import { PASSWORD, tokenFor } from '../support/staff';
import { seriousViolations } from './support/axe';
import { closeUnfinishedTabs, launchBrowser, openTab, signIn, Site, startSite } from './support/browser';

/**
 * Live presence and the team dashboard in Chromium (SPEC §15): two moderators on one notice see
 * each other, a colleague's claim appears without a reload, nothing is disabled (the stale page
 * still gets the 409), and axe finds no serious violation on the notice page with presence shown,
 * on the dashboard, nor on the evidence page with its differing passages marked.
 */
/** Waits until the element's text is `want` (or matches it), polling as a reader would see it. */
async function textBecomes(page: Page, id: string, want: string | RegExp, ms = 10_000): Promise<void> {
  const el = page.locator(`#${id}`);
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    last = (await el.textContent()) ?? '';
    if (typeof want === 'string' ? last === want : want.test(last)) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`#${id} never read ${String(want)}; last: "${last}"`);
}

describe('journey: live presence, the dashboard and the evidence page', () => {
  let site: Site;
  let browser: Browser;
  let ana: User;
  let ben: User;
  let reference: string;
  let source: Source;

  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite({ LIVE_HEARTBEAT_SECONDS: '2' }), launchBrowser()]);
    const { db } = site.t;
    const staff = (name: string, email: string) =>
      withTransaction(db, (tx) =>
        createUser(tx, { at: new Date(), actor: { type: 'system' }, email, name, role: 'moderator', password: PASSWORD }),
      ).then((r) => r.user);
    ana = await staff('Ana Ortega', 'ana@desk.example');
    ben = await staff('Ben Brandt', 'ben@desk.example');
    source = await makeSource(db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    const items = [await makeItem(db, source), await makeItem(db, source)];
    const submit = async (slug: string) =>
      (
        await request(site.t.app)
          .post('/api/v1/notices')
          .send({
            name: 'Ada Lovelace',
            email: 'ada@analytical.example',
            address: '12 Marylebone Road, London',
            country: 'GB',
            role: 'owner',
            workDescription: 'My article.',
            infringingUrls: [site.url(`/items/${slug}`)],
            goodFaith: true,
            accuracy: true,
            signature: 'Ada Lovelace',
          })
          .expect(201)
      ).body.reference as string;
    reference = await submit(items[0].slug);
    // One decision already made, so the dashboard's charts have a bar.
    const decided = await submit(items[1].slug);
    const token = await tokenFor(db, ana);
    await request(site.t.app).post(`/api/v1/notices/${decided}/claim`).set('Authorization', `Bearer ${token}`).expect(200);
    await request(site.t.app)
      .post(`/api/v1/notices/${decided}/decision`)
      .set('Authorization', `Bearer ${token}`)
      .send({ action: 'reject', reason: 'The work is not identified.' })
      .expect(200);
  });
  afterEach(closeUnfinishedTabs);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('when two moderators open one notice and one claims it, then the other sees who is viewing and holding it live, can still act, and gets the 409 that names who acted', async () => {
    const a = await openTab(browser, 'live-ana');
    const b = await openTab(browser, 'live-ben');
    await signIn(a.page, site, ana.email);
    await signIn(b.page, site, ben.email);
    await a.page.goto(site.url(`/notices/${reference}`));
    await b.page.goto(site.url(`/notices/${reference}`));

    const presence = a.page.locator('#live-presence-text');
    await presence.waitFor({ state: 'visible' });
    await textBecomes(a.page, 'live-presence-text', 'Ben Brandt is viewing');
    await textBecomes(b.page, 'live-presence-text', 'Ana Ortega is viewing');
    expect(await seriousViolations(a.page)).toEqual([]);

    // Ben claims; Ana's page says so without a reload, and keeps its Claim button.
    await Promise.all([b.page.waitForURL(site.url(`/notices/${reference}`)), b.page.getByRole('button', { name: 'Claim' }).click()]);
    await textBecomes(a.page, 'live-presence-text', 'Ben Brandt is viewing · held by Ben Brandt');
    await expect(a.page.locator('#live-presence-change').textContent()).resolves.toMatch(
      /This notice changed since you opened it: now in review, held by Ben Brandt\. Reload to see it\./,
    );
    const claim = a.page.getByRole('button', { name: 'Claim' });
    expect(await claim.isEnabled()).toBe(true);
    expect(await seriousViolations(a.page)).toEqual([]);
    const [res] = await Promise.all([a.page.waitForResponse((r) => r.url().endsWith(`/notices/${reference}/claim`)), claim.click()]);
    expect(res.status()).toBe(409);
    await expect(a.page.locator('main').textContent()).resolves.toMatch(/ben@desk\.example/);
    const [row] = await site.t.db.query(`SELECT status, assignee_id FROM notices WHERE reference = $1`, [reference]);
    expect(row).toEqual({ status: 'in_review', assignee_id: ben.id });

    // Ben leaves: Ana's (reloaded) page no longer lists him as viewing.
    await a.page.goto(site.url(`/notices/${reference}`));
    await textBecomes(a.page, 'live-presence-text', /Ben Brandt is viewing/);
    await b.page.goto(site.url('/queue'));
    await textBecomes(a.page, 'live-presence-text', 'Held by Ben Brandt');
    // The queue shows the live counts.
    await textBecomes(b.page, 'live-counts-text', /^Live: 1 open \(0 pending, 1 in review, 0 needs info\) · 0 overdue$/);
    await b.finish();
    await a.finish();
  });

  it('when a moderator opens the dashboard, then it shows the charts with their tables and axe finds no serious violation', async () => {
    const tab = await openTab(browser, 'dashboard');
    await signIn(tab.page, site, ana.email);
    const res = await tab.page.goto(site.url('/dashboard'));
    expect(res?.status()).toBe(200);
    await expect(tab.page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Team dashboard');
    expect(await tab.page.locator('svg[role="img"]').count()).toBe(3);
    const table = tab.page.getByRole('table', { name: 'Decisions per moderator per day (UTC)' });
    await expect(table.locator('thead').textContent()).resolves.toMatch(/Ana Ortega/);
    await expect(table.locator('tfoot').textContent()).resolves.toMatch(/^30 days\s*1\s*1$/);
    expect(await seriousViolations(tab.page)).toEqual([]);
    await tab.finish();
  });

  it('when a moderator follows a notice to its evidence, then our copy and the claimed original are side by side with the differences marked, and axe finds no serious violation', async () => {
    // The claimed original on a local server (the test configuration allows loopback addresses).
    const original = await startFeedServer();
    try {
      const item = await makeItem(site.t.db, source, { title: 'Harbour evidence' });
      const [{ content }] = await site.t.db.query(`SELECT content FROM items WHERE id = $1`, [item.id]);
      const ours = String(content).replace(/<[^>]+>/g, '');
      original.routes.set('/article', (_req, res) => {
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end(
          `<!doctype html><html><body><nav>Home</nav><article><p>${ours.replace('harbour', 'old harbour')}</p></article></body></html>`,
        );
      });
      const res = await request(site.t.app)
        .post('/api/v1/notices')
        .send({
          name: 'Ada Lovelace',
          email: 'ada@analytical.example',
          address: '12 Marylebone Road, London',
          country: 'GB',
          role: 'owner',
          workDescription: 'My article.',
          originalUrls: [`${original.url}/article`],
          infringingUrls: [site.url(`/items/${item.slug}`)],
          goodFaith: true,
          accuracy: true,
          signature: 'Ada Lovelace',
        })
        .expect(201);
      const tab = await openTab(browser, 'evidence');
      await signIn(tab.page, site, ana.email);
      await tab.page.goto(site.url(`/notices/${res.body.reference}`));
      await Promise.all([
        tab.page.waitForURL((u) => u.pathname === `/notices/${res.body.reference}/evidence`),
        tab.page.getByRole('link', { name: /^Evidence side by side/ }).click(),
      ]);
      await tab.page.getByText(/^Similarity: \d+(\.\d)?%/).waitFor();
      const oursPane = tab.page.getByRole('region', { name: 'Our copy' });
      const theirs = tab.page.getByRole('region', { name: 'Claimed original' });
      expect(await oursPane.locator('mark.differs').count()).toBe(0);
      expect(await theirs.locator('mark.differs').allTextContents()).toEqual([expect.stringContaining('old')]);
      expect(await theirs.textContent()).not.toContain('Home');
      expect(original.hits.get('/article')).toBe(1);
      expect(await seriousViolations(tab.page)).toEqual([]);
      await tab.finish();
    } finally {
      await original.close();
    }
  });
});
