import type { Browser, Page } from 'playwright-core';
import type { User } from '../../src/modules/auth';
import type { Item, Source } from '../../src/modules/items';
import { claimNotice } from '../../src/modules/review';
import { makeItem, makeSource } from '../support/factories';
import { createStaff } from '../support/staff';
import { seriousViolations } from './support/axe';
import { closeUnfinishedTabs, launchBrowser, openTab, signIn, Site, startSite } from './support/browser';
import { focused, submitNotice, tabTo } from './support/journeys';

/**
 * Moderators at speed (SPEC §15): a moderator selects the 30 notices of one vendor that match a
 * filter and rejects them in one confirmed step, then works the rest of the queue with the
 * keyboard shortcuts alone (claim, reject and next, approve, next, ask, back to the queue, move,
 * tick, open), seeing a colleague's claim appear live on the queue, with axe on every new page state
 * and no shortcut firing while typing in a field.
 */
describe('journey: a bulk reject by filter, then the rest of the queue by keyboard', () => {
  let site: Site;
  let browser: Browser;
  let vendor: Source;
  let other: Source;
  const vendorItems: Item[] = [];
  const otherItems: Item[] = [];
  const moderator = { email: 'ana@desk.example' };
  let colleague: User;

  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite({ INTAKE_PER_HOUR: '10000', SENDER_BURST: '10000' }), launchBrowser()]);
    await createStaff(site.t.db, { role: 'moderator', email: moderator.email, name: 'Ana Moderator' });
    colleague = await createStaff(site.t.db, { role: 'moderator', email: 'ben@desk.example', name: 'Ben Brandt' });
    vendor = await makeSource(site.t.db, { name: 'Vendor Wire', domains: ['vendorwire.example'] });
    other = await makeSource(site.t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    for (let i = 0; i < 30; i++) vendorItems.push(await makeItem(site.t.db, vendor, { title: `Wire story ${i}` }));
    for (let i = 0; i < 4; i++) otherItems.push(await makeItem(site.t.db, other, { title: `Harbour story ${i}` }));
  });
  afterEach(closeUnfinishedTabs);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  const statuses = async (refs: string[]) =>
    (await site.t.db.query(`SELECT status FROM notices WHERE reference = ANY($1) ORDER BY reference`, [refs])).map(
      (r: { status: string }) => r.status,
    );
  const liveText = (page: Page) => page.locator('#kb-live').textContent();
  /** Waits until the live region says `text` (a string it contains, or a pattern). */
  const waitLive = (page: Page, text: string | RegExp) =>
    // A function, not a string: a string predicate is evaluated with eval, which the staff pages' CSP refuses.
    page.waitForFunction(
      ({ source, part }) => {
        // Runs in the page (the tests are compiled without the DOM types).
        const doc = (globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null } }).document;
        const said = doc.getElementById('kb-live')?.textContent ?? '';
        return source !== null ? new RegExp(source).test(said) : said.includes(part);
      },
      { source: text instanceof RegExp ? text.source : null, part: typeof text === 'string' ? text : '' },
    );

  it('when a moderator rejects the 30 notices of one vendor in one confirmed step and works the rest with shortcuts, then every notice ends as decided', async () => {
    const bulk: string[] = [];
    for (const item of vendorItems) bulk.push((await submitNotice(site, [site.url(`/items/${item.slug}`)])).reference);
    const rest: string[] = [];
    for (const item of otherItems) rest.push((await submitNotice(site, [site.url(`/items/${item.slug}`)])).reference);
    const a11y: string[] = [];

    const tab = await openTab(browser, 'journey-bulk-keyboard');
    const { page } = tab;
    await signIn(page, site, moderator.email);
    await page.goto(site.url('/queue'));

    // The filter: this vendor's notices. "All 30 matching this filter" is offered.
    await page.getByLabel('Source').selectOption({ label: 'Vendor Wire' });
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('source') === vendor.id),
      page.getByRole('button', { name: 'Show' }).click(),
    ]);
    await page.getByText('all 30 matching this filter').waitFor();
    a11y.push(...(await seriousViolations(page)));
    await page.getByLabel('all 30 matching this filter').check();
    await page.getByLabel('Action').selectOption('reject');
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/queue/bulk'),
      page.getByRole('button', { name: 'Review and confirm…' }).click(),
    ]);

    // The confirmation: the count, a preview, the reason; nothing is done yet.
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('reject: 30 notices?');
    expect(await page.locator('main tbody tr').count()).toBe(20);
    expect(await page.locator('main').textContent()).toContain('…and 10 more.');
    expect(await statuses(bulk)).toEqual(Array(30).fill('pending'));
    a11y.push(...(await seriousViolations(page)));
    await page.getByLabel('Licensed / permitted').check();
    await Promise.all([
      page.waitForURL((u) => u.pathname.startsWith('/queue/jobs/')),
      page.getByRole('button', { name: 'Confirm: reject 30 notices' }).click(),
    ]);
    await page.getByRole('status').filter({ hasText: '30 done, 0 refused' }).waitFor();
    a11y.push(...(await seriousViolations(page)));
    expect(await statuses(bulk)).toEqual(Array(30).fill('rejected'));
    expect(await site.t.db.query(`SELECT count(*)::int AS n FROM outbound_emails WHERE template = 'notice-rejected'`)).toEqual([{ n: 30 }]);

    // The rest, with the keyboard alone, while a colleague works too: Ben's claim of the last one
    // appears on the queue without a reload (the live stream; the counts came when it connected).
    await page.goto(site.url('/queue'));
    await page.locator('#kb-hint').waitFor(); // the script is running: its hint is shown
    await page.locator('#live-counts-text', { hasText: /^Live: 4 open \(4 pending, 0 in review, 0 needs info\)/ }).waitFor();
    const deps = { db: site.t.db, clock: site.t.clock, config: site.t.config, sessionSecret: site.t.sessionSecret };
    await claimNotice(deps, { reference: rest[3], actor: { id: colleague.id, email: colleague.email, role: 'moderator' } });
    await page.locator('#live-counts-change', { hasText: `${rest[3]} is now in review (Ben Brandt).` }).waitFor();
    await page.locator('#live-counts-text', { hasText: /^Live: 4 open \(3 pending, 1 in review, 0 needs info\)/ }).waitFor();
    a11y.push(...(await seriousViolations(page)));
    // The help first.
    await page.keyboard.press('?');
    await page.locator('#kb-help').waitFor();
    expect((await focused(page)).id).toBe('kb-help');
    a11y.push(...(await seriousViolations(page)));
    await page.keyboard.press('Escape');
    await page.locator('#kb-help').waitFor({ state: 'hidden' });

    // j moves to the first notice (focus on its link; the live region says which); c claims it.
    await page.keyboard.press('j');
    await waitLive(page, `Notice 1 of 4: ${rest[0]}, pending`);
    expect((await focused(page)).text).toBe(rest[0]);
    await Promise.all([page.waitForURL((u) => u.pathname === `/notices/${rest[0]}`), page.keyboard.press('c')]);
    await page.getByRole('status').getByText(`${rest[0]}: claimed`).waitFor();
    a11y.push(...(await seriousViolations(page)));

    // r: focus goes to the reject form's first reason; Space picks it; "Reject and next" decides and opens the next one.
    await page.keyboard.press('r');
    await waitLive(page, /^Reject: choose a reason/);
    expect((await focused(page)).type).toBe('radio');
    await page.keyboard.press('Space');
    await tabTo(page, (f) => f.tag === 'BUTTON' && f.text === 'Reject and next');
    await Promise.all([page.waitForURL((u) => u.pathname === `/notices/${rest[1]}`), page.keyboard.press('Enter')]);
    await page.getByRole('status').getByText(`${rest[0]}: rejected; the complainant is emailed. Next: ${rest[1]}.`).waitFor();
    a11y.push(...(await seriousViolations(page)));

    // c claims this one; a goes to "Approve and remove"; Enter approves.
    await page.locator('#kb-hint').waitFor();
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('c')]);
    await page.getByRole('status').getByText(`${rest[1]}: claimed`).waitFor();
    await page.keyboard.press('a');
    await waitLive(page, /^Approve: Enter removes/);
    expect((await focused(page)).text).toBe('Approve and remove');
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    await page.getByRole('status').getByText(`${rest[1]}: approved`).waitFor();
    a11y.push(...(await seriousViolations(page)));

    // j opens the next notice of the queue; c claims it; i goes to the question, where typing "j" and "k" is only typing.
    await page.locator('#kb-hint').waitFor();
    await Promise.all([page.waitForURL((u) => u.pathname === `/notices/${rest[2]}`), page.keyboard.press('j')]);
    await page.locator('#kb-hint').waitFor();
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('c')]);
    await page.getByRole('status').getByText(`${rest[2]}: claimed`).waitFor();
    await page.keyboard.press('i');
    expect((await focused(page)).id).toBe('question');
    const question = 'Which journal published the original? Just checking the key date.';
    await page.keyboard.type(question);
    expect(new URL(page.url()).pathname).toBe(`/notices/${rest[2]}`);
    expect(await page.locator('#question').inputValue()).toBe(question);
    expect(await liveText(page)).not.toMatch(/next notice|Notice \d+ of/);
    await tabTo(page, (f) => f.tag === 'BUTTON' && f.text === 'Send the question');
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    await page.getByRole('status').getByText(`${rest[2]}: question sent`).waitFor();
    a11y.push(...(await seriousViolations(page)));

    // u goes back to the queue (two open notices left: the one waiting for an answer and Ben's);
    // j, j, k move down and up again, x ticks the notice and o opens it.
    await Promise.all([page.waitForURL((u) => u.pathname === '/queue'), page.keyboard.press('u')]);
    await page.locator('#kb-hint').waitFor();
    await page.keyboard.press('j');
    await waitLive(page, /^Notice 1 of 2: TD-/);
    await page.keyboard.press('j');
    await waitLive(page, /^Notice 2 of 2: TD-/);
    await page.keyboard.press('k');
    await waitLive(page, /^Notice 1 of 2: TD-/);
    const first = /^Notice 1 of 2: (TD-\d+)/.exec((await liveText(page)) ?? '')![1];
    expect([rest[2], rest[3]]).toContain(first);
    expect((await focused(page)).text).toBe(first);
    // x ticks it for a bulk action (the form's own checkbox).
    await page.keyboard.press('x');
    await waitLive(page, `${first} selected`);
    expect(await page.getByLabel(`Select ${first}`).isChecked()).toBe(true);
    a11y.push(...(await seriousViolations(page)));
    await Promise.all([page.waitForURL((u) => u.pathname === `/notices/${first}`), page.keyboard.press('o')]);
    await page.locator('#kb-hint').waitFor();
    await tab.finish();

    // Ben's notice stays his, in review.
    expect(await statuses(rest)).toEqual(['rejected', 'approved', 'needs_info', 'in_review']);
    expect(a11y).toEqual([]);
  });
});
