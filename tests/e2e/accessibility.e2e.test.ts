import request from 'supertest';
import type { Browser, Page } from 'playwright-core';
import { withTransaction } from '../../src/db/transaction';
import { SYSTEM } from '../../src/modules/audit';
import { Item, removeItems } from '../../src/modules/items';
import { makeItem, makeSource } from '../support/factories';
import { createStaff } from '../support/staff';
import { seriousViolations } from './support/axe';
import { closeUnfinishedTabs, launchBrowser, openTab, signIn, Site, startSite } from './support/browser';

/**
 * axe on every page there is (public and staff, the staff ones signed in as an admin through the
 * real login form): no serious or critical violation. Plus: the takedown form by keyboard alone.
 */
describe('accessibility', () => {
  let site: Site;
  let browser: Browser;
  let item: Item;
  let removed: Item;
  let statusPath: string;
  let emailId: string;
  const admin = { email: 'admin-a11y@example.org' };

  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite(), launchBrowser()]);
    const { db } = site.t;
    await createStaff(db, { role: 'admin', email: admin.email });
    const source = await makeSource(db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    item = await makeItem(db, source, { title: 'Tides of the harbour' });
    removed = await makeItem(db, source, { title: 'A removed article' });
    // A notice through the API, so the status page, the outbox and the 451 page have something to show.
    const res = await request(site.t.app)
      .post('/api/v1/notices')
      .send({
        name: 'Ada Lovelace',
        email: 'ada@analytical.example',
        address: '12 Marylebone Road, London',
        country: 'GB',
        role: 'owner',
        workDescription: 'My article, first published on our site.',
        infringingUrls: [site.url(`/items/${removed.slug}`)],
        goodFaith: true,
        accuracy: true,
        signature: 'Ada Lovelace',
      })
      .expect(201);
    statusPath = new URL(res.body.statusUrl).pathname + new URL(res.body.statusUrl).search;
    const [notice] = await db.query('SELECT id FROM notices WHERE reference = $1', [res.body.reference]);
    await withTransaction(db, (tx) =>
      removeItems(tx, {
        itemIds: [removed.id],
        noticeId: notice.id,
        reference: res.body.reference,
        claimant: null,
        legalBasis: '17 U.S.C. § 512(c) (copyright)',
        actor: SYSTEM,
        at: new Date(),
      }),
    );
    await site.worker.drain();
    [{ id: emailId }] = await db.query('SELECT id FROM outbound_emails ORDER BY created_at LIMIT 1');
  });
  afterEach(closeUnfinishedTabs);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  async function audit(page: Page, paths: [string, number][]): Promise<string[]> {
    const found: string[] = [];
    for (const [p, status] of paths) {
      const res = await page.goto(site.url(p));
      expect(`${p} ${res?.status()}`).toBe(`${p} ${status}`);
      found.push(...(await seriousViolations(page)));
    }
    return found;
  }

  it('when a page has a serious violation, then the check finds it (the checker is not a no-op)', async () => {
    const tab = await openTab(browser, 'a11y-self-check');
    await tab.page.goto(site.url('/'));
    await tab.page.evaluate(`document.querySelector('main').insertAdjacentHTML('beforeend', '<input id="unlabelled" type="text">')`);
    const found = await seriousViolations(tab.page);
    expect(found.some((f) => f.startsWith('/: label (critical)'))).toBe(true);
    await tab.context.close();
  });

  it('when a page has low-contrast text, then the check finds it (color-contrast is serious, so it is not filtered out)', async () => {
    const tab = await openTab(browser, 'a11y-self-check-contrast');
    await tab.page.goto(site.url('/'));
    // A planted style="color:…" attribute proves nothing here: the CSP (style-src 'self') blocks
    // inline style attributes, so the text keeps the stylesheet's dark ink and axe rightly passes it.
    await tab.page.evaluate(
      `document.querySelector('main').insertAdjacentHTML('beforeend', '<p id="blocked" style="color:#ccc">Planted pale text</p>')`,
    );
    expect(await tab.page.evaluate(`getComputedStyle(document.getElementById('blocked')).color`)).toBe('rgb(27, 31, 36)');
    expect(tab.problems.splice(0).map((p) => p.text)).toEqual([
      expect.stringContaining("violates the following Content Security Policy directive 'style-src 'self''"),
    ]);
    // Styles set through the CSSOM are not inline markup, so the CSP lets them apply: now the text is pale.
    await tab.page.evaluate(`(() => {
      const p = document.createElement('p');
      p.id = 'pale';
      p.textContent = 'Planted pale text that nobody can read';
      p.style.color = '#cccccc';
      document.querySelector('main').appendChild(p);
    })()`);
    const found = await seriousViolations(tab.page);
    expect(found).toEqual([expect.stringMatching(/^\/: color-contrast \(serious\) .* at #pale$/)]);
    await tab.context.close();
  });

  it('when every public page is checked with axe, then none has a serious or critical violation', async () => {
    const tab = await openTab(browser, 'a11y-public');
    const found = await audit(tab.page, [
      ['/', 200],
      [`/items/${item.slug}`, 200],
      [`/items/${removed.slug}`, 451],
      ['/items/no-such-item', 404],
      [`/takedown?url=${encodeURIComponent(site.url(`/items/${item.slug}`))}`, 200],
      [statusPath, 200],
      ['/login', 200],
    ]);
    // The form answered with errors (422), and the login form with a wrong password.
    await tab.page.goto(site.url('/takedown'));
    await tab.page.getByRole('button', { name: 'Send the notice' }).click();
    await tab.page.waitForSelector('.error-summary');
    found.push(...(await seriousViolations(tab.page)));
    await tab.page.goto(site.url('/login'));
    await tab.page.getByLabel('Email').fill(admin.email);
    await tab.page.getByLabel('Password').fill('not the password at all');
    await tab.page.getByRole('button', { name: 'Sign in' }).click();
    await tab.page.waitForSelector('[role=alert]');
    found.push(...(await seriousViolations(tab.page)));
    expect(found).toEqual([]);
    await tab.finish();
  });

  it('when every staff page is checked with axe, signed in as an admin, then none has a serious or critical violation', async () => {
    const tab = await openTab(browser, 'a11y-staff');
    await signIn(tab.page, site, admin.email);
    const found = await audit(tab.page, [
      ['/staff', 200],
      ['/account/password', 200],
      ['/users', 200],
      ['/sources', 200],
      ['/items', 200],
      [`/items/${item.id}/admin`, 200],
      [`/items/${removed.id}/admin`, 200],
      ['/outbox', 200],
      [`/outbox/${emailId}`, 200],
      ['/audit/verify', 200],
      // Account security and complaints (SPEC §17, §18); their later states are checked in their journeys.
      ['/account/2fa', 200],
      ['/account/passkeys', 200],
      ['/account/sessions', 200],
      ['/account/confirm?next=%2Fusers', 200],
      ['/complaints', 200],
    ]);
    expect(found).toEqual([]);
    await tab.finish();
  });

  it('when the takedown form is filled in with the keyboard alone, then it is sent and the status page opens', async () => {
    const tab = await openTab(browser, 'a11y-keyboard-takedown');
    const { page } = tab;
    await page.goto(site.url(`/takedown?url=${encodeURIComponent(site.url(`/items/${item.slug}`))}`));
    const typed: Record<string, string> = {
      name: 'Ada Lovelace',
      email: 'ada@analytical.example',
      address: '12 Marylebone Road, London',
      workDescription: 'My article, first published on our site.',
      signature: 'Ada Lovelace',
    };
    const visited: string[] = [];
    for (let i = 0; i < 80 && !visited.includes('submit'); i += 1) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate<{ id: string; tag: string; text: string }>(
        '({ id: document.activeElement.id, tag: document.activeElement.tagName, text: document.activeElement.textContent.trim() })',
      );
      if (focused.id in typed) await page.keyboard.type(typed[focused.id]);
      else if (focused.id === 'country') await page.keyboard.type('United Kingdom');
      else if (focused.id === 'goodFaith' || focused.id === 'accuracy') await page.keyboard.press('Space');
      if (focused.tag === 'BUTTON' && focused.text === 'Send the notice') {
        visited.push('submit');
        await Promise.all([page.waitForURL((u) => /^\/takedown\/TD-\d{6}$/.test(u.pathname)), page.keyboard.press('Enter')]);
      } else if (focused.id) visited.push(focused.id);
    }
    // Every field was reached in order, and the notice went through.
    expect(visited).toEqual(expect.arrayContaining([...Object.keys(typed), 'country', 'role', 'goodFaith', 'accuracy', 'submit']));
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toMatch(/^Your notice TD-\d{6}$/);
    await tab.finish();
  });
});
