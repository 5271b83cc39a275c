import type { Browser } from 'playwright-core';
import type { User } from '../../src/modules/auth';
import { makeItem, makeSource } from '../support/factories';
import { createStaff } from '../support/staff';
import { seriousViolations } from './support/axe';
import { closeUnfinishedTabs, launchBrowser, openTab, signIn, Site, startSite } from './support/browser';
import { approveAs, linkIn, mailTo, submitNotice } from './support/journeys';

/**
 * Journey: a source complains about a removal through the link in the removal email; a moderator
 * other than the one who decided reverses it, and the article is published again.
 */
describe('journey: a source complains about a removal and gets its article back', () => {
  let site: Site;
  let browser: Browser;
  let decider: User;

  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite({ ODS_BODIES: 'Appeals Centre Europe|https://www.appealscentre.eu' }), launchBrowser()]);
    decider = await createStaff(site.t.db, { role: 'moderator', email: 'decider@desk.example' });
    await createStaff(site.t.db, { role: 'moderator', email: 'reviewer@desk.example' });
  });
  afterEach(closeUnfinishedTabs);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('when the source complains and a second moderator reverses the decision, then the item answers 200 again and the source is told, with the ODS bodies', async () => {
    const source = await makeSource(site.t.db, {
      name: 'Harbour Gazette',
      domains: ['harbourgazette.example'],
      contactEmail: 'editor@harbourgazette.example',
    });
    const item = await makeItem(site.t.db, source, { title: 'Tides of the harbour' });
    const { reference } = await submitNotice(site, [site.url(`/items/${item.slug}`)]);
    await approveAs(site, decider, reference);
    const a11y: string[] = [];

    const removal = await mailTo(site, 'editor@harbourgazette.example', /Your content was removed/);
    const link = linkIn(site, removal, '/complaints/source/');
    const tab = await openTab(browser, 'journey-complaint-source');
    await tab.page.goto(link);
    a11y.push(...(await seriousViolations(tab.page)));
    await tab.page.getByLabel('Your name').fill('Grace Hopper');
    await tab.page.getByLabel('Your email (for the outcome)').fill('editor@harbourgazette.example');
    await tab.page
      .getByLabel('Why is the decision wrong?')
      .fill("This is our own reporting, published before the notice sender's article.");
    await Promise.all([
      tab.page.waitForURL((u) => u.pathname === '/complaints/received'),
      tab.page.getByRole('button', { name: 'Send the complaint' }).click(),
    ]);
    expect(await tab.page.getByRole('heading', { level: 1 }).textContent()).toBe('Complaint received');
    await tab.finish();

    const staff = await openTab(browser, 'journey-complaint-staff');
    const { page } = staff;
    await signIn(page, site, 'reviewer@desk.example');
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/complaints'),
      page
        .getByRole('link', { name: /Complaints/ })
        .first()
        .click(),
    ]);
    a11y.push(...(await seriousViolations(page)));
    await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/complaints/')), page.getByRole('link', { name: reference }).click()]);
    await page.getByLabel(/Reverse it/).check();
    await page.getByLabel('Reason (sent to both parties)').fill('The source published the article first; the removal is reversed.');
    a11y.push(...(await seriousViolations(page)));
    await Promise.all([
      page.waitForURL((u) => u.pathname.startsWith('/complaints/')),
      page.getByRole('button', { name: 'Decide the complaint' }).click(),
    ]);
    expect(await page.locator('main').textContent()).toContain('reversed');

    const article = await page.goto(site.url(`/items/${item.slug}`));
    expect(article?.status()).toBe(200);
    const outcome = await mailTo(site, 'editor@harbourgazette.example', /Your complaint about notice .*: decision reversed/);
    expect(outcome.parsed.text).toContain('Appeals Centre Europe: https://www.appealscentre.eu');
    expect(a11y).toEqual([]);
    await staff.finish();
  });
});
