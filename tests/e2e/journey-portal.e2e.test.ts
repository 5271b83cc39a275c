import type { Browser } from 'playwright-core';
import type { Item } from '../../src/modules/items';
import { makeItem, makeSource } from '../support/factories';
import { seriousViolations } from './support/axe';
import { createStaff } from '../support/staff';
import { closeUnfinishedTabs, launchBrowser, openTab, signIn, Site, startSite } from './support/browser';
import { linkIn, mailTo, submitNotice } from './support/journeys';

/**
 * Journey: a rights holder signs in to the portal by the emailed link, fills in the profile, makes
 * standing statements, sends a notice from the pre-filled form (no statements to tick), finds it in
 * the list and opens its status page; axe on every portal page on the way. Then an admin marks
 * them a trusted flagger and their next notice leads the queue; suspended, they see a clear
 * refusal saying until when and why.
 */
describe("journey: the rights holders' portal", () => {
  let site: Site;
  let browser: Browser;
  let item: Item;
  const rights = 'legal@analytical.example';

  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite(), launchBrowser()]);
    const source = await makeSource(site.t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    item = await makeItem(site.t.db, source, { title: 'Tides of the harbour' });
  });
  afterEach(closeUnfinishedTabs);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('when a rights holder signs in by link, saves standing statements and sends a notice, then it is listed with its URL and the pages pass axe', async () => {
    const a11y: string[] = [];
    const tab = await openTab(browser, 'journey-portal');
    const { page } = tab;
    const submit = (name: string) => Promise.all([page.waitForEvent('load'), page.getByRole('button', { name, exact: true }).click()]);

    await page.goto(site.url('/portal'));
    expect(new URL(page.url()).pathname).toBe('/portal/login');
    a11y.push(...(await seriousViolations(page)));
    await page.getByLabel('Your email address').fill(rights);
    await submit('Email me a sign-in link');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Check your email');
    a11y.push(...(await seriousViolations(page)));

    const mail = await mailTo(site, rights, /sign-in link/);
    await page.goto(linkIn(site, mail, '/portal/login/link?token='));
    a11y.push(...(await seriousViolations(page)));
    await submit('Sign in');
    expect(new URL(page.url()).pathname).toBe('/portal');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your notices');
    a11y.push(...(await seriousViolations(page)));

    await page.goto(site.url('/portal/profile'));
    await page.locator('#name').fill('Ada Lovelace');
    await page.getByLabel('Organization').fill('Analytical Press Ltd');
    await page.getByLabel('the owner of the rights').check();
    await page.getByLabel('Postal address').fill('12 Marylebone Road, London');
    await page.getByLabel('Country (two-letter code, e.g. US)').fill('GB');
    await submit('Save');
    expect(await page.locator('.flash').textContent()).toContain('Your profile was saved.');
    a11y.push(...(await seriousViolations(page)));
    await page.locator('#goodFaith').check();
    await page.locator('#accuracy').check();
    await page.getByLabel('Type your full name as your electronic signature').fill('Ada Lovelace');
    await submit('Save my standing statements');
    expect(await page.locator('main').textContent()).toContain('In force: version 1');
    a11y.push(...(await seriousViolations(page)));

    await page.goto(site.url('/portal/notices/new'));
    expect(await page.locator('#name').inputValue()).toBe('Ada Lovelace');
    expect(await page.locator('main').textContent()).toContain('Your standing statements of');
    await page.getByLabel('Describe the work').fill('My article "Tides", first published on our site.');
    await page.getByLabel('URLs on this site to remove').fill(site.url(`/items/${item.slug}`));
    a11y.push(...(await seriousViolations(page)));
    await submit('Send the notice');
    expect(new URL(page.url()).pathname).toMatch(/^\/portal\/notices\/TD-\d+$/);
    expect(await page.locator('main').textContent()).toContain(site.url(`/items/${item.slug}`));
    a11y.push(...(await seriousViolations(page)));

    await page.goto(site.url('/portal'));
    expect(await page.locator('table').textContent()).toMatch(/TD-\d+/);
    a11y.push(...(await seriousViolations(page)));
    for (const p of ['/portal/tokens', '/portal/batches']) {
      await page.goto(site.url(p));
      a11y.push(...(await seriousViolations(page)));
    }
    const [n] = await site.t.db.query(`SELECT status, statements_source FROM notices`);
    expect(n).toEqual({ status: 'pending', statements_source: 'standing' });
    expect(a11y).toEqual([]);
    await tab.finish('done');
  });

  it('when an admin marks the submitter trusted, then their next notice leads the queue; suspended, the portal form says until when and why; the admin pages pass axe', async () => {
    const a11y: string[] = [];
    await createStaff(site.t.db, { role: 'admin', email: 'admin@desk.example' });
    const older = await submitNotice(site, [site.url(`/items/${item.slug}`)], { email: 'someone@elsewhere.example' });

    const staffTab = await openTab(browser, 'journey-portal-admin');
    const admin = staffTab.page;
    const press = (name: string) => Promise.all([admin.waitForEvent('load'), admin.getByRole('button', { name, exact: true }).click()]);
    await signIn(admin, site, 'admin@desk.example');
    await admin.goto(site.url('/submitters'));
    expect(await admin.getByRole('heading', { level: 1 }).textContent()).toBe('Submitters');
    a11y.push(...(await seriousViolations(admin)));
    await Promise.all([admin.waitForEvent('load'), admin.getByRole('link', { name: rights }).click()]);
    a11y.push(...(await seriousViolations(admin)));
    await press('Mark as trusted flagger');
    expect(await admin.locator('.flash-ok').textContent()).toContain('Marked as a trusted flagger');

    // The rights holder signs in again and sends their next notice.
    site.sink.clear();
    const tab = await openTab(browser, 'journey-portal-trusted');
    const { page } = tab;
    const submit = (name: string) => Promise.all([page.waitForEvent('load'), page.getByRole('button', { name, exact: true }).click()]);
    await page.goto(site.url('/portal/login'));
    await page.getByLabel('Your email address').fill(rights);
    await submit('Email me a sign-in link');
    await page.goto(linkIn(site, await mailTo(site, rights, /sign-in link/), '/portal/login/link?token='));
    await submit('Sign in');
    await page.goto(site.url('/portal/notices/new'));
    await page.getByLabel('Describe the work').fill('My article "Currents", first published on our site.');
    await page.getByLabel('URLs on this site to remove').fill(site.url(`/items/${item.slug}`));
    await submit('Send the notice');
    const reference = /TD-\d+/.exec(new URL(page.url()).pathname)![0];

    // It leads the queue, ahead of the older notice.
    await admin.goto(site.url('/queue'));
    const firstRow = admin.locator('table tbody tr').first();
    expect(await firstRow.textContent()).toContain(reference);
    expect(await firstRow.textContent()).toContain('trusted flagger');
    expect(await admin.locator('main').textContent()).toContain(older.reference);

    // Suspended: the portal says so, and sending is refused with the reason.
    await admin.goto(site.url('/submitters'));
    await Promise.all([admin.waitForEvent('load'), admin.getByRole('link', { name: rights }).click()]);
    await admin.getByLabel('For how many days').fill('14');
    await admin.getByLabel(/^Reason/).fill('Several notices named articles you do not own.');
    await press('Suspend');
    expect(await admin.locator('.flash-ok').textContent()).toContain('Suspended until');
    a11y.push(...(await seriousViolations(admin)));

    await page.goto(site.url('/portal/notices/new'));
    const refusal = page.locator('#refused');
    expect(await refusal.textContent()).toContain('Your notices are refused for now.');
    expect(await refusal.textContent()).toContain('Several notices named articles you do not own.');
    a11y.push(...(await seriousViolations(page)));
    await page.getByLabel('Describe the work').fill('My article "Currents", first published on our site.');
    await page.getByLabel('URLs on this site to remove').fill(site.url(`/items/${item.slug}`));
    await submit('Send the notice');
    expect(await page.locator('#refused').textContent()).toMatch(/refused until \d{4}-\d{2}-\d{2}T/);
    expect(await site.t.db.query(`SELECT count(*)::int AS n FROM notices WHERE email = $1`, [rights])).toEqual([{ n: 2 }]);
    expect(a11y).toEqual([]);
    await tab.finish('done');
    await staffTab.finish('done');
  });
});
