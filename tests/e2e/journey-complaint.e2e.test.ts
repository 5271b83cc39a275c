import type { Browser } from 'playwright-core';
import type { User } from '../../src/modules/auth';
import { makeItem, makeSource } from '../support/factories';
import { createStaff } from '../support/staff';
import { seriousViolations } from './support/axe';
import { closeUnfinishedTabs, launchBrowser, openTab, signIn, Site, startSite } from './support/browser';
import { approveAs, COMPLAINANT, linkIn, mailTo, rejectAs, submitNotice } from './support/journeys';

/**
 * Journeys (SPEC §18): a source complains about a removal through the link in the removal email; a
 * moderator other than the one who decided reverses it, and the article is published again. A
 * notifier complains about a rejection from the status page; the decider may not decide it, a second
 * moderator reverses it, and the notice is back in the queue.
 */
describe('journeys: complaints against decisions, from both sides', () => {
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

  it('when a notifier complains about a rejection and a second moderator reverses it, then the decider could not, the notice is back in the queue, and the notifier is told with the ODS bodies', async () => {
    const source = await makeSource(site.t.db, { name: 'Quay Weekly', domains: ['quayweekly.example'] });
    const item = await makeItem(site.t.db, source, { title: 'Lanterns on the quay' });
    const { reference, statusUrl } = await submitNotice(site, [site.url(`/items/${item.slug}`)]);
    await rejectAs(site, decider, reference);
    const a11y: string[] = [];

    const tab = await openTab(browser, 'journey-complaint-notifier');
    await tab.page.goto(statusUrl);
    await Promise.all([
      tab.page.waitForURL((u) => u.pathname === `/takedown/${reference}/complaint`),
      tab.page.getByRole('link', { name: 'Complain about this decision' }).click(),
    ]);
    a11y.push(...(await seriousViolations(tab.page)));
    // A complaint with too little said: the form says so next to the field.
    await tab.page.getByLabel('Your name').fill(COMPLAINANT.name);
    await tab.page.getByLabel('Your email (for the outcome)').fill(COMPLAINANT.email);
    await tab.page.getByLabel('Why is the decision wrong?').fill('It is mine.');
    await tab.page.getByRole('button', { name: 'Send the complaint' }).click();
    await tab.page.getByText('Explain why the decision is wrong').first().waitFor();
    await tab.page
      .getByLabel('Why is the decision wrong?')
      .fill('The page copies our photo essay word for word; our original was published a week earlier.');
    await Promise.all([
      tab.page.waitForURL((u) => u.pathname === '/complaints/received'),
      tab.page.getByRole('button', { name: 'Send the complaint' }).click(),
    ]);
    expect(await tab.page.getByRole('heading', { level: 1 }).textContent()).toBe('Complaint received');
    await tab.finish();
    const receipt = await mailTo(site, COMPLAINANT.email, new RegExp(`We received your complaint about notice ${reference}`));
    expect(receipt.parsed.text).toContain('our original was published a week earlier');
    const alert = await mailTo(site, 'reviewer@desk.example', new RegExp(`New complaint about notice ${reference}`));
    const complaintLink = linkIn(site, alert, '/complaints/');

    // The decider opens it: no form, a clear message.
    const own = await openTab(browser, 'journey-complaint-decider');
    await signIn(own.page, site, 'decider@desk.example');
    await own.page.goto(complaintLink);
    expect(await own.page.locator('main').textContent()).toContain(
      'You decided this notice, so another moderator must decide this complaint.',
    );
    expect(await own.page.getByRole('button', { name: 'Decide the complaint' }).count()).toBe(0);
    await own.finish();

    // A second moderator, from the alert's link, reverses it.
    const staff = await openTab(browser, 'journey-complaint-notifier-staff');
    const { page } = staff;
    await signIn(page, site, 'reviewer@desk.example');
    await page.goto(complaintLink);
    await page.getByLabel(/Reverse it/).check();
    await page.getByLabel('Reason (sent to both parties)').fill('The rejection missed the earlier original; the notice is reviewed again.');
    a11y.push(...(await seriousViolations(page)));
    await Promise.all([
      page.waitForURL((u) => u.pathname.startsWith('/complaints/')),
      page.getByRole('button', { name: 'Decide the complaint' }).click(),
    ]);
    expect(await page.locator('main').textContent()).toContain('reversed');
    await page.goto(site.url('/queue'));
    expect(await page.getByRole('link', { name: reference }).count()).toBeGreaterThan(0);
    const [row] = await site.t.db.query('SELECT status, decision FROM notices WHERE reference = $1', [reference]);
    expect(row).toEqual({ status: 'pending', decision: null });

    const outcome = await mailTo(site, COMPLAINANT.email, new RegExp(`Your complaint about notice ${reference}: decision reversed`));
    expect(outcome.parsed.text).toContain('back in our review queue');
    expect(outcome.parsed.text).toContain('Appeals Centre Europe: https://www.appealscentre.eu');
    expect(a11y).toEqual([]);
    await staff.finish();
  });
});
