import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { AUDIT_CSV_COLUMNS } from '../../src/modules/audit/export-audit';
import type { User } from '../../src/modules/auth';
import { makeItem, makeSource } from '../support/factories';
import { createStaff } from '../support/staff';
import { seriousViolations } from './support/axe';
import { closeUnfinishedTabs, launchBrowser, openTab, signIn, Site, startSite } from './support/browser';
import { approveAs, submitNotice } from './support/journeys';

/**
 * Journey 4: an admin searches the audit history with the form's filters, verifies the chain, and
 * downloads the CSV export of what they found (whatever control the page offers for it: a link or
 * a form's button), which holds the header and exactly those events.
 */
describe('journey 4: an admin searches, verifies and exports the audit history', () => {
  let site: Site;
  let browser: Browser;
  let moderator: User;
  const admin = { email: 'admin@desk.example' };

  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite(), launchBrowser()]);
    await createStaff(site.t.db, { role: 'admin', email: admin.email });
    moderator = await createStaff(site.t.db, { role: 'moderator', email: 'mo@desk.example' });
  });
  afterEach(closeUnfinishedTabs);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  /** The `action` column of each row of the history table. */
  const actionsShown = (page: Page) => page.locator('main table tbody tr td:nth-child(4)').allTextContents();

  it('when an admin filters the history to one notice, then the chain verifies intact and the CSV export holds exactly those events', async () => {
    const source = await makeSource(site.t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    const [item, other] = [await makeItem(site.t.db, source), await makeItem(site.t.db, source)];
    const { reference } = await submitNotice(site, [site.url(`/items/${item.slug}`)]);
    await approveAs(site, moderator, reference);
    const { reference: otherReference } = await submitNotice(site, [site.url(`/items/${other.slug}`)], {
      name: 'Bo Peep',
      signature: 'Bo Peep',
      organization: '',
    });
    const today = new Date().toISOString().slice(0, 10);
    const a11y: string[] = [];

    const tab = await openTab(browser, 'journey-4-audit');
    const { page } = tab;
    await signIn(page, site, admin.email);
    await Promise.all([page.waitForURL((u) => u.pathname === '/audit'), page.getByRole('link', { name: /Audit history/ }).click()]);

    // Search: notice events of one notice, today.
    const search = page.getByRole('search');
    await search.getByLabel('Action').fill('notice.*');
    await search.getByLabel('Subject').fill(reference);
    await search.getByLabel('From').fill(today);
    await search.getByLabel('To (inclusive)').fill(today);
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('subject') === reference),
      search.getByRole('button', { name: 'Search' }).click(),
    ]);
    const shown = await actionsShown(page);
    expect(shown).toEqual(expect.arrayContaining(['notice.submitted', 'notice.claimed', 'notice.approved']));
    expect(shown.every((a) => a.startsWith('notice.'))).toBe(true);
    const table = page.locator('main table');
    expect(await table.textContent()).toContain(reference);
    expect(await table.textContent()).not.toContain(otherReference);
    // The filters stay in the form.
    expect(await search.getByLabel('Action').inputValue()).toBe('notice.*');
    expect(await search.getByLabel('Subject').inputValue()).toBe(reference);
    a11y.push(...(await seriousViolations(page)));

    // Download the CSV of these events.
    const csvControl = page.getByRole('link', { name: 'CSV', exact: true }).or(page.getByRole('button', { name: /CSV/ }));
    const [download] = await Promise.all([page.waitForEvent('download'), csvControl.click()]);
    expect(download.suggestedFilename()).toMatch(/^audit-events-\d{14}\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.trimEnd().split(/\r?\n/);
    expect(lines[0]).toBe(AUDIT_CSV_COLUMNS.join(','));
    const actionAt = AUDIT_CSV_COLUMNS.indexOf('action');
    const subjectAt = AUDIT_CSV_COLUMNS.indexOf('subject_id');
    // No field of these events holds a comma before the details column, so a plain split reads them.
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((r) => r[actionAt]).sort()).toEqual([...shown].sort());
    expect(rows.every((r) => r[subjectAt] === reference)).toBe(true);
    expect(csv).not.toContain(otherReference);

    // Verify the chain: intact, and it counts the events so far (the export's own record among them).
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/audit/verify'),
      page
        .getByRole('link', { name: /Verify the chain/ })
        .or(page.getByRole('button', { name: /Verify/ }))
        .click(),
    ]);
    const verdict = page.getByRole('status');
    expect(await verdict.textContent()).toMatch(/The chain is intact\.\s+\d+ events verified/);
    await tab.screenshot('verify');
    const verified = Number(/(\d+) events verified/.exec((await verdict.textContent()) ?? '')![1]);
    expect(verified).toBeGreaterThan(rows.length);

    // The export itself is in the history, with the filter it used.
    await page.goto(site.url('/audit?action=audit.exported'));
    expect(await actionsShown(page)).toEqual(['audit.exported']);
    expect(await page.locator('main table tbody tr').first().textContent()).toContain(admin.email);
    expect(await page.locator('main table tbody tr').first().textContent()).toContain(reference);

    expect(a11y).toEqual([]);
    await tab.finish();
  });
});
