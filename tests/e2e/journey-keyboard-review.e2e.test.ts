import type { Browser } from 'playwright-core';
import type { Item } from '../../src/modules/items';
import { makeItem, makeSource } from '../support/factories';
import { createStaff } from '../support/staff';
import { seriousViolations } from './support/axe';
import { closeUnfinishedTabs, launchBrowser, openTab, signIn, Site, startSite } from './support/browser';
import { COMPLAINANT, describeFocus, focused, linkIn, mailTo, submitNotice, tabTo } from './support/journeys';

/**
 * Journey 2: a moderator works the queue with the keyboard alone — reaches the notice, opens it,
 * claims it, approves it — then the item answers 451 in the browser, and the complainant's status
 * page (the link in their acknowledgement email) shows the outcome; the keyless address in the
 * decision email says how to open it.
 */
describe('journey 2: a moderator approves a notice with the keyboard', () => {
  let site: Site;
  let browser: Browser;
  let item: Item;
  const moderator = { email: 'mo@desk.example' };

  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite(), launchBrowser()]);
    await createStaff(site.t.db, { role: 'moderator', email: moderator.email });
    const source = await makeSource(site.t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    item = await makeItem(site.t.db, source, { title: 'Notes on the Engine' });
  });
  afterEach(closeUnfinishedTabs);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('when a moderator claims and approves from the queue by keyboard, then the item answers 451 and the complainant sees the outcome', async () => {
    const itemUrl = site.url(`/items/${item.slug}`);
    const { reference } = await submitNotice(site, [itemUrl]);
    const a11y: string[] = [];

    const tab = await openTab(browser, 'journey-2-moderator');
    const { page } = tab;
    await signIn(page, site, moderator.email);
    await page.goto(site.url('/queue'));
    a11y.push(...(await seriousViolations(page)));

    // The first Tab lands on the skip link; Enter moves focus into the main content.
    await page.keyboard.press('Tab');
    expect(describeFocus(await focused(page))).toBe('a "Skip to content"');
    await page.keyboard.press('Enter');
    expect((await focused(page)).id).toBe('main');

    // From there, Tab reaches the notice's link in the queue (past the filters), and Enter opens it.
    const toLink = await tabTo(page, (f) => f.tag === 'A' && f.text === reference);
    expect(toLink.map(describeFocus)).toContain('button "Show"');
    await Promise.all([page.waitForURL((u) => u.pathname === `/notices/${reference}`), page.keyboard.press('Enter')]);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain(`Notice ${reference}`);
    a11y.push(...(await seriousViolations(page)));

    // Claim: reachable by Tab, pressed with Enter. The page comes back saying so, status in_review.
    await tabTo(page, (f) => f.tag === 'BUTTON' && f.text === 'Claim');
    await Promise.all([
      page.waitForURL((u) => u.pathname === `/notices/${reference}`),
      page.waitForEvent('load'),
      page.keyboard.press('Enter'),
    ]);
    await page.getByRole('status').getByText(`${reference}: claimed`).waitFor();
    expect(await page.locator('h1 .tag').textContent()).toBe('in_review');
    // Focus lands on the message saying what happened (so it is read out), not back at the top of the page.
    await page.locator('.flash:focus').waitFor();
    expect((await focused(page)).text).toBe(`${reference}: claimed; it is yours to decide.`);
    a11y.push(...(await seriousViolations(page)));

    // Approve: the item's checkbox (ticked) and the note come first, then the button, pressed with Space.
    const toApprove = await tabTo(page, (f) => f.tag === 'BUTTON' && f.text === 'Approve and remove');
    const inForm = toApprove.map(describeFocus);
    expect(inForm).toContain('textarea#approve-reason');
    expect(inForm).not.toContain('a "Skip to content"');
    const box = toApprove.find((f) => f.tag === 'INPUT' && f.type === 'checkbox');
    expect(box).toBeDefined();
    expect(await page.locator(`#${box!.id}`).isChecked()).toBe(true);
    expect(await page.locator(`label[for="${box!.id}"]`).textContent()).toBe(itemUrl);
    await Promise.all([
      page.waitForURL((u) => u.pathname === `/notices/${reference}`),
      page.waitForEvent('load'),
      page.keyboard.press('Space'),
    ]);
    await page.getByRole('status').getByText(`${reference}: approved`).waitFor();
    await page.locator('.flash:focus').waitFor();
    expect(await page.locator('h1 .tag').textContent()).toBe('approved');
    expect(await page.getByRole('row').filter({ hasText: itemUrl }).getByRole('cell').last().textContent()).toBe('removed');
    a11y.push(...(await seriousViolations(page)));

    // The item's public page now answers 451, saying why, with the notice's reference.
    const res = await page.goto(itemUrl);
    expect(res?.status()).toBe(451);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Unavailable for legal reasons');
    const facts = page.locator('dl.facts');
    expect(await facts.textContent()).toContain(reference);
    expect(await facts.textContent()).toContain(COMPLAINANT.organization);
    expect(await page.getByText('Notes on the Engine').count()).toBe(0);
    await tab.finish();

    // The complainant opens the link from their acknowledgement email: the outcome is there.
    const ack = await mailTo(site, COMPLAINANT.email, /We received your notice/);
    const statusLink = linkIn(site, ack, `/takedown/${reference}?token=`);
    const decided = await mailTo(site, COMPLAINANT.email, /content removed/);
    expect(decided.parsed.subject).toContain(reference);
    const complainant = await openTab(browser, 'journey-2-complainant');
    // The decision email names the notice's page without its key (only its hash is kept): following
    // it says how to open the page, instead of a bare "not found".
    const keyless = linkIn(site, decided, `/takedown/${reference}`);
    expect(new URL(keyless).search).toBe('');
    expect((await complainant.page.goto(keyless))?.status()).toBe(404);
    expect(await complainant.page.getByRole('heading', { level: 1 }).textContent()).toBe('Open your notice with your private link');
    expect(await complainant.page.locator('main').textContent()).toContain(`We received your notice ${reference}`);
    a11y.push(...(await seriousViolations(complainant.page)));
    const statusRes = await complainant.page.goto(statusLink);
    expect(statusRes?.status()).toBe(200);
    expect(await complainant.page.getByRole('heading', { level: 1 }).textContent()).toBe(`Your notice ${reference}`);
    expect(await complainant.page.locator('.status-line').textContent()).toMatch(/Status:\s*approved: content removed/);
    expect(await complainant.page.locator('.status-line strong').getAttribute('class')).toContain('status-approved');
    const row = complainant.page.getByRole('row').filter({ hasText: itemUrl });
    expect(await row.getByRole('cell').last().textContent()).toMatch(/removed/i);
    a11y.push(...(await seriousViolations(complainant.page)));
    await complainant.finish();

    expect(a11y).toEqual([]);
  });
});
