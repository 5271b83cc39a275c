import type { Browser } from 'playwright-core';
import type { Item } from '../../src/modules/items';
import { makeItem, makeSource } from '../support/factories';
import { createStaff } from '../support/staff';
import { seriousViolations } from './support/axe';
import { closeUnfinishedTabs, launchBrowser, openTab, signIn, Site, startSite } from './support/browser';
import { approveAs, COMPLAINANT, linkIn, mailTo, submitNotice } from './support/journeys';
import type { User } from '../../src/modules/auth';

/**
 * Journey 3: after an approval, the publisher follows the counter-notice link in the removal email
 * (the 451 page links to the same form), gets an error, fixes it, sends the counter-notice and sees
 * the confirmation; every party is emailed and the moderators see it waiting for restoration.
 */
describe('journey 3: a counter-notice through its form', () => {
  let site: Site;
  let browser: Browser;
  let item: Item;
  let moderator: User;
  const publisher = { name: 'Grace Hopper', email: 'editor@harbourgazette.example' };

  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite(), launchBrowser()]);
    moderator = await createStaff(site.t.db, { role: 'moderator', email: 'mo@desk.example' });
    const source = await makeSource(site.t.db, {
      name: 'Harbour Gazette',
      domains: ['harbourgazette.example'],
      contactEmail: publisher.email,
    });
    item = await makeItem(site.t.db, source, { title: 'Notes on the Engine' });
  });
  afterEach(closeUnfinishedTabs);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('when the publisher counter-notifies through the emailed link, with an error then fixed, then it is confirmed, emailed to every party and waiting for the moderators', async () => {
    const itemUrl = site.url(`/items/${item.slug}`);
    const { reference } = await submitNotice(site, [itemUrl]);
    await approveAs(site, moderator, reference);
    const a11y: string[] = [];

    // The removal email to the source's contact carries the counter-notice link for this notice.
    const removal = await mailTo(site, publisher.email, /Your content was removed/);
    const formLink = linkIn(site, removal, '/counter-notice?');
    expect(formLink).toBe(site.url(`/counter-notice?notice=${reference}`));

    const tab = await openTab(browser, 'journey-3-counter-notice');
    const { page } = tab;
    // The 451 page links to the same form.
    expect((await page.goto(itemUrl))?.status()).toBe(451);
    expect(
      new URL((await page.getByRole('link', { name: 'send a counter-notice' }).getAttribute('href')) ?? '', site.baseUrl).toString(),
    ).toBe(formLink);

    // The emailed link opens the form with the notice and the removed item filled in.
    expect((await page.goto(formLink))?.status()).toBe(200);
    expect(await page.getByLabel('Reference of the takedown notice').inputValue()).toBe(reference);
    expect((await page.getByLabel(/URLs of the removed material/).inputValue()).trim()).toBe(itemUrl);
    expect(await page.locator('main').getByText('Notes on the Engine').count()).toBe(1);
    a11y.push(...(await seriousViolations(page)));

    await page.getByLabel('Full name', { exact: true }).fill(publisher.name);
    await page.getByLabel('Email', { exact: true }).fill(publisher.email);
    await page.getByLabel('Telephone').fill('+1 202 555 0143');
    await page.getByLabel('Postal address').fill('1 Harbour Street, Arlington, VA 22201, USA');
    await page.getByLabel('Country').selectOption('US');
    await page.locator('#mistake').check();
    await page.locator('#consent').check();
    await page.getByLabel('Type your full name as your electronic signature').fill('G. Hopper');
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Send the counter-notice' }).click()]);

    // The error: summary focused, the message beside the signature, every value kept.
    const summary = page.locator('.error-summary');
    await summary.waitFor();
    await page.waitForFunction("document.activeElement && document.activeElement.classList.contains('error-summary')");
    expect(await summary.textContent()).toContain('exactly as in the name field');
    const signature = page.getByLabel('Type your full name as your electronic signature');
    expect(await signature.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#signature-error').textContent()).toContain('exactly as in the name field');
    expect(await page.getByLabel('Reference of the takedown notice').inputValue()).toBe(reference);
    expect((await page.getByLabel(/URLs of the removed material/).inputValue()).trim()).toBe(itemUrl);
    expect(await page.getByLabel('Country').inputValue()).toBe('US');
    expect(await page.locator('#mistake').isChecked()).toBe(true);
    expect(await page.locator('#consent').isChecked()).toBe(true);
    expect(await page.locator('main').getByText('Notes on the Engine').count()).toBe(1);
    a11y.push(...(await seriousViolations(page)));
    await tab.screenshot('error');

    await summary.getByRole('link').first().click();
    await page.waitForFunction("document.activeElement && document.activeElement.id === 'signature'");
    await signature.fill(publisher.name);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/counter-notice/received'),
      page.getByRole('button', { name: 'Send the counter-notice' }).click(),
    ]);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Counter-notice received');
    expect(await page.locator('main').textContent()).toContain(`against notice ${reference}`);
    const restoreOn = /restore=(\d{4}-\d{2}-\d{2})/.exec(page.url())![1];
    expect(await page.locator('main strong').textContent()).toBe(restoreOn);
    a11y.push(...(await seriousViolations(page)));
    await tab.finish();

    // Emails: the publisher's acknowledgement, the complainant's copy of the counter-notice, the moderators' alert.
    const ack = await mailTo(site, publisher.email, /We received your counter-notice/);
    expect(ack.parsed.subject).toContain(reference);
    expect(ack.parsed.text).toContain(itemUrl);
    const forwarded = await mailTo(site, COMPLAINANT.email, /Counter-notice received against your notice/);
    expect(forwarded.parsed.text).toContain(`Name: ${publisher.name}`);
    expect(forwarded.parsed.text).toContain('Address: 1 Harbour Street, Arlington, VA 22201, USA (US)');
    expect(forwarded.parsed.text).toContain(`Signature: ${publisher.name}`);
    const alert = await mailTo(site, moderator.email, /Counter-notice against/);
    expect(linkIn(site, alert, '/counter-notices')).toBe(site.url('/counter-notices'));

    // The moderator sees it waiting for restoration, and the notice countered.
    const mod = await openTab(browser, 'journey-3-moderator');
    await signIn(mod.page, site, moderator.email);
    await Promise.all([
      mod.page.waitForURL((u) => u.pathname === '/counter-notices'),
      mod.page.getByRole('link', { name: /Counter-notices/ }).click(),
    ]);
    const row = mod.page.getByRole('row').filter({ hasText: reference });
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toContain(publisher.name);
    expect(await row.textContent()).toContain('waiting');
    expect(await row.locator('time').last().getAttribute('datetime')).toMatch(new RegExp(`^${restoreOn}`));
    a11y.push(...(await seriousViolations(mod.page)));
    await Promise.all([
      mod.page.waitForURL((u) => u.pathname === `/notices/${reference}`),
      row.getByRole('link', { name: reference }).click(),
    ]);
    expect(await mod.page.locator('h1 .tag').textContent()).toBe('countered');
    await mod.finish();

    expect(a11y).toEqual([]);
  });
});
