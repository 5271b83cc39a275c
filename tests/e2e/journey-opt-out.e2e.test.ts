import type { Browser } from 'playwright-core';
import type { Item } from '../../src/modules/items';
import { makeItem, makeSource } from '../support/factories';
import { createStaff } from '../support/staff';
import { seriousViolations } from './support/axe';
import { closeUnfinishedTabs, launchBrowser, openTab, Site, startSite } from './support/browser';
import { linkIn, mailTo } from './support/journeys';

/**
 * Journey 5: a publisher asks to stop the republishing of their site through the opt-out form,
 * opens the emailed link, sees what will happen and a button (the GET changes nothing), confirms,
 * and their articles are gone from the site (410 with a link to the original) while others stay.
 */
describe('journey 5: the publisher opt-out through the emailed link', () => {
  let site: Site;
  let browser: Browser;
  let mine: Item[];
  let others: Item;
  const admin = { email: 'admin@desk.example' };
  const publisher = { email: 'editor@harbourgazette.example' };

  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite(), launchBrowser()]);
    await createStaff(site.t.db, { role: 'admin', email: admin.email });
    const source = await makeSource(site.t.db, {
      name: 'Harbour Gazette',
      domains: ['harbourgazette.example'],
      contactEmail: publisher.email,
    });
    mine = [
      await makeItem(site.t.db, source, { title: 'Tides of the harbour', originalUrl: 'https://harbourgazette.example/2026/05/tides' }),
      await makeItem(site.t.db, source, { title: 'Gulls at dawn', originalUrl: 'https://harbourgazette.example/2026/05/gulls' }),
    ];
    const elsewhere = await makeSource(site.t.db, { name: 'Valley Courier', domains: ['valleycourier.example'] });
    others = await makeItem(site.t.db, elsewhere, { title: 'Orchards in bloom' });
  });
  afterEach(closeUnfinishedTabs);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('when the publisher requests an opt-out and confirms through the emailed link, then their articles answer 410 and leave the front page', async () => {
    const a11y: string[] = [];
    const tab = await openTab(browser, 'journey-5-opt-out');
    const { page } = tab;

    // From the policy page to the form.
    await page.goto(site.url('/dmca'));
    await Promise.all([page.waitForURL((u) => u.pathname === '/opt-out'), page.getByRole('link', { name: 'opt-out form' }).click()]);
    a11y.push(...(await seriousViolations(page)));

    // An address at another domain is refused beside its field, the domain kept; nothing is sent.
    await page.getByLabel("Your site's domain").fill('https://www.harbourgazette.example/');
    await page.getByLabel('An email address at that domain').fill('someone@elsewhere.example');
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Send me the confirmation link' }).click()]);
    await page.locator('.error-summary').waitFor();
    const email = page.getByLabel('An email address at that domain');
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#email-error').textContent()).not.toBe('');
    expect(await page.getByLabel("Your site's domain").inputValue()).toBe('https://www.harbourgazette.example/');
    a11y.push(...(await seriousViolations(page)));
    await site.worker.drain();
    expect(site.sink.messages.filter((m) => /republishing/.test(m.parsed.subject ?? '')).map((m) => m.envelope.to)).toEqual([]);

    // The listed contact address is accepted: "check your email".
    await email.fill(publisher.email);
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Send me the confirmation link' }).click()]);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Check your email');
    expect(await page.locator('main').textContent()).toContain(publisher.email);
    a11y.push(...(await seriousViolations(page)));

    // The emailed link: its GET shows what will happen and a button, and changes nothing yet.
    const mail = await mailTo(site, publisher.email, /Confirm: stop republishing/);
    const link = linkIn(site, mail, '/opt-out/confirm?token=');
    expect((await page.goto(link))?.status()).toBe(200);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Confirm the opt-out of harbourgazette.example');
    expect(await page.locator('main').textContent()).toContain('Harbour Gazette');
    a11y.push(...(await seriousViolations(page)));
    const [{ status: before }] = await site.t.db.query(`SELECT status FROM items WHERE id = $1`, [mine[0].id]);
    expect(before).toBe('published');

    // Confirm: the POST acts.
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Stop republishing harbourgazette.example' }).click()]);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Opt-out confirmed');
    expect(await page.locator('main').textContent()).toMatch(/2 articles were taken down/);
    a11y.push(...(await seriousViolations(page)));
    await tab.screenshot('confirmed');

    // Their articles answer 410 with a link to the original; another publisher's stays; the front page lists only that one.
    const reader = page;
    for (const item of mine) {
      expect((await reader.goto(site.url(`/items/${item.slug}`)))?.status()).toBe(410);
      expect(await reader.getByRole('link', { name: item.originalUrl }).getAttribute('href')).toBe(item.originalUrl);
    }
    a11y.push(...(await seriousViolations(reader)));
    expect((await reader.goto(site.url(`/items/${others.slug}`)))?.status()).toBe(200);
    await reader.goto(site.url('/'));
    const front = (await reader.locator('main').textContent()) ?? '';
    expect(front).toContain('Orchards in bloom');
    expect(front).not.toContain('Tides of the harbour');
    expect(front).not.toContain('Gulls at dawn');

    // The link is used up: opening it again says so and offers a new one.
    expect((await reader.goto(link))?.status()).toBe(410);
    expect(await reader.getByRole('link', { name: 'Ask for a new link' }).count()).toBe(1);
    await tab.finish();

    // The source is blocked (not struck), and the admins are told.
    const [source] = await site.t.db.query(`SELECT status, strike_count FROM sources WHERE name = 'Harbour Gazette'`);
    expect(source).toEqual({ status: 'blocked', strike_count: 0 });
    const told = await mailTo(site, admin.email, /Publisher opt-out: harbourgazette\.example/);
    expect(told.parsed.text).toContain('Harbour Gazette');

    expect(a11y).toEqual([]);
  });
});
