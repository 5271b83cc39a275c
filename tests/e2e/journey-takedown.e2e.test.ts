import type { Browser } from 'playwright-core';
import type { Item } from '../../src/modules/items';
import { makeItem, makeSource } from '../support/factories';
import { closeUnfinishedTabs, launchBrowser, openTab, Site, startSite } from './support/browser';

/**
 * Journey 1: a reader opens an item, follows "Submit a DMCA takedown request", finds the form
 * pre-filled, gets an error, fixes it, lands on the status page; the acknowledgement email's link
 * opens that same page.
 */
describe('journey 1: a takedown request from an item page', () => {
  let site: Site;
  let browser: Browser;
  let item: Item;

  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite(), launchBrowser()]);
    const source = await makeSource(site.t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    item = await makeItem(site.t.db, source, {
      title: 'Tides of the harbour',
      originalUrl: 'https://harbourgazette.example/2026/05/tides',
    });
  });
  afterEach(closeUnfinishedTabs);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('when a reader reports an item with a wrong signature, then fixes it, then the status page and the emailed link show the notice', async () => {
    const tab = await openTab(browser, 'journey-1-takedown');
    const { page } = tab;
    const itemUrl = site.url(`/items/${item.slug}`);

    // The item page, and its takedown link (the footer has a general one too: take the article's).
    await page.goto(itemUrl);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Tides of the harbour');
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/takedown'),
      page.locator('article').getByRole('link', { name: 'Submit a DMCA takedown request' }).click(),
    ]);

    // The form, pre-filled with the page's address; the URL check says it is on this site.
    const urls = page.getByLabel(/URLs on this site to remove/);
    expect(await urls.inputValue()).toBe(itemUrl);
    await page.locator('#url-check').getByText('On this site: Tides of the harbour').waitFor();

    await page.getByLabel('Full name', { exact: true }).fill('Ada Lovelace');
    await page.getByLabel('Email', { exact: true }).fill('ada@analytical.example');
    await page.getByLabel('Postal address').fill('12 Marylebone Road, London, United Kingdom');
    await page.getByLabel('Country').selectOption('GB');
    await page.getByLabel('the owner of the rights').check();
    await page.getByLabel('Describe the work').fill('My article "Tides of the harbour", first published on harbourgazette.example.');
    await page.locator('#goodFaith').check();
    await page.locator('#accuracy').check();
    await page.getByLabel('Type your full name as your electronic signature').fill('Someone Else');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Send the notice' }).click()]);
    await page.waitForSelector('.error-summary');

    // The error: in the summary (focused, so it is read out) and next to the field, the values kept.
    const summary = page.locator('.error-summary');
    expect(await summary.getAttribute('role')).toBe('alert');
    await page.waitForFunction("document.activeElement && document.activeElement.classList.contains('error-summary')");
    expect(await summary.textContent()).toContain('exactly as in the name field');
    const signature = page.getByLabel('Type your full name as your electronic signature');
    expect(await signature.getAttribute('aria-invalid')).toBe('true');
    expect((await signature.getAttribute('aria-describedby'))?.split(' ')).toContain('signature-error');
    expect(await page.locator('#signature-error').textContent()).toContain('exactly as in the name field');
    expect(await page.getByLabel('Full name', { exact: true }).inputValue()).toBe('Ada Lovelace');
    expect(await urls.inputValue()).toBe(itemUrl);
    expect(await page.locator('#goodFaith').isChecked()).toBe(true);
    await tab.screenshot('error');

    // The summary's link takes the reader to the field; fix it and send.
    await summary.getByRole('link').first().click();
    await page.waitForFunction("document.activeElement && document.activeElement.id === 'signature'");
    await signature.fill('Ada Lovelace');
    await Promise.all([
      page.waitForURL((u) => /^\/takedown\/TD-\d{6}$/.test(u.pathname)),
      page.getByRole('button', { name: 'Send the notice' }).click(),
    ]);

    // The status page: the reference, the status, and the URL as on this site.
    const statusUrl = page.url();
    const reference = /TD-\d{6}/.exec(statusUrl)![0];
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(`Your notice ${reference}`);
    const row = page.getByRole('row').filter({ hasText: itemUrl });
    expect(await row.getByRole('cell').nth(1).textContent()).toBe('yes');
    expect(await page.locator('.status-line').textContent()).toMatch(/Status:/);

    // The acknowledgement email arrives, and its link opens the same status page.
    await site.worker.drain();
    const mails = site.sink.to('ada@analytical.example');
    expect(mails).toHaveLength(1);
    expect(mails[0].parsed.subject).toContain(reference);
    const link = new RegExp(`${site.baseUrl.replace(/[.]/g, '\\.')}/takedown/${reference}\\?token=[\\w-]+`).exec(
      mails[0].parsed.text ?? '',
    )![0];
    expect(link).toBe(statusUrl);
    await page.goto('about:blank');
    await page.goto(link);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(`Your notice ${reference}`);
    expect(await page.getByRole('row').filter({ hasText: itemUrl }).count()).toBe(1);

    await tab.finish();
  });
});
