import type { Browser } from 'playwright-core';
import type { Item } from '../../src/modules/items';
import { makeItem, makeSource } from '../support/factories';
import { seriousViolations } from './support/axe';
import { createStaff } from '../support/staff';
import { closeUnfinishedTabs, launchBrowser, openTab, signIn, Site, startSite } from './support/browser';
import { approveAs, linkIn, mailTo, submitNotice } from './support/journeys';
import { createWebhookWorker } from '../../src/modules/webhooks';
import { processBatches } from '../../src/modules/batches';
import { createLogger } from '../../src/shared/logger';
import { startWebhookReceiver, verifySignature, WebhookReceiver } from '../support/webhook-receiver';

/**
 * Journey: a rights holder signs in to the portal by the emailed link, fills in the profile, makes
 * standing statements, uploads a CSV of 1,000 URLs and watches the batch page until it says done,
 * sends a notice from the pre-filled form (no statements to tick), finds it in
 * the list and opens its status page; registers a webhook and receives a signed delivery when a
 * moderator decides; axe on every portal page on the way. Then an admin marks
 * them a trusted flagger and their next notice leads the queue; suspended, they see a clear
 * refusal saying until when and why.
 */
describe("journey: the rights holders' portal", () => {
  let site: Site;
  let browser: Browser;
  let item: Item;
  let batchItems: Item[];
  let rx: WebhookReceiver;
  const rights = 'legal@analytical.example';

  beforeAll(async () => {
    [site, browser, rx] = await Promise.all([startSite({ ALLOW_PRIVATE_WEBHOOKS: 'true' }), launchBrowser(), startWebhookReceiver()]);
    const source = await makeSource(site.t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    item = await makeItem(site.t.db, source, { title: 'Tides of the harbour' });
    batchItems = [];
    for (let i = 0; i < 10; i++) batchItems.push(await makeItem(site.t.db, source));
  });
  afterEach(closeUnfinishedTabs);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await rx?.close();
  });

  it('when a rights holder signs in by link, saves standing statements, uploads a CSV of 1,000 URLs, sends a notice and registers a webhook, then the batch is watched until done, the notice is listed, a signed webhook arrives when a moderator decides, and the pages pass axe', async () => {
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

    // A CSV of 1,000 URLs: 10 works of 100 URLs, the first of each an item on this site, the rest elsewhere.
    const csv = ['work_description,original_url,infringing_url'];
    for (let w = 0; w < 10; w++)
      for (let u = 0; u < 100; u++)
        csv.push(
          `Analytical Press book ${w + 1}: the full text,https://analytical.example/books/${w + 1},` +
            (u === 0 ? site.url(`/items/${batchItems[w].slug}`) : `https://mirror-${w + 1}.example/copy/${u}`),
        );
    await page.goto(site.url('/portal/batches'));
    a11y.push(...(await seriousViolations(page)));
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'works.csv', mimeType: 'text/csv', buffer: Buffer.from(csv.join('\r\n') + '\r\n') });
    await submit('Upload the batch');
    expect(new URL(page.url()).pathname).toMatch(/^\/portal\/batches\/[0-9a-f-]{36}$/);
    expect(await page.locator('.flash').textContent()).toContain('Your batch of 10 works (1000 URLs) was accepted');
    // The batch job (the server's worker; here run once, as the tests drive workers) makes the notices
    // while the page, refreshing itself, is watched until it says it is done.
    expect(await processBatches({ ...site.t, logger: createLogger('silent') })).toBe(1);
    await page.waitForFunction(
      () => {
        // Runs in the page (the tests are compiled without the DOM types); survives the page's refreshes.
        const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document;
        return /^Done: /.test(doc.querySelector('h1')?.textContent ?? '');
      },
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Done: batch of 10 works, 1000 URLs');
    expect(await page.locator('#batch-progress progress').getAttribute('value')).toBe('100');
    expect(await page.locator('#batch-progress').textContent()).toContain('1000 of 1000 URLs processed.');
    expect(await page.locator('#batch-progress').getAttribute('role')).toBe('status');
    a11y.push(...(await seriousViolations(page)));
    expect(await site.t.db.query(`SELECT status, works, urls, processed, errors FROM batches`)).toEqual([
      { status: 'done', works: 10, urls: 1000, processed: 1000, errors: [] },
    ]);
    expect(
      await site.t.db.query(
        `SELECT count(DISTINCT n.id)::int AS notices, count(*)::int AS urls, count(t.item_id)::int AS matched
           FROM notices n JOIN notice_targets t ON t.notice_id = n.id WHERE n.email = $1 AND n.statements_source = 'standing'`,
        [rights],
      ),
    ).toEqual([{ notices: 10, urls: 1000, matched: 10 }]);

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
    const [n] = await site.t.db.query(`SELECT reference, status, statements_source FROM notices WHERE channel = 'form'`);
    expect(n).toEqual({ reference: expect.stringMatching(/^TD-/), status: 'pending', statements_source: 'standing' });

    // A webhook: registered on the portal, its secret shown once.
    await page.goto(site.url('/portal/webhooks'));
    a11y.push(...(await seriousViolations(page)));
    await page.getByLabel("Your receiver's URL").fill(`${rx.base}/takedowns`);
    await submit('Register the webhook');
    const secret = (await page.locator('.flash code.secret').textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    a11y.push(...(await seriousViolations(page)));

    // A moderator decides; the delivery worker sends the events, signed.
    const moderator = await createStaff(site.t.db, { role: 'moderator' });
    await approveAs(site, moderator, n.reference);
    const hooks = createWebhookWorker({ ...site.t, logger: createLogger('silent') });
    try {
      expect(await hooks.drain()).toMatchObject({ delivered: 3, failed: 0 });
    } finally {
      await hooks.stop();
    }
    const decided = rx.at('/takedowns').find((r) => JSON.parse(r.body).type === 'notice.decided')!;
    expect(verifySignature(decided.headers['takedown-signature'] as string, decided.body, secret).ok).toBe(true);
    expect(JSON.parse(decided.body).data).toMatchObject({
      reference: n.reference,
      status: 'approved',
      targets: [{ url: site.url(`/items/${item.slug}`), outcome: 'removed' }],
    });
    await page.getByRole('link', { name: `${rx.base}/takedowns` }).click();
    await page.waitForLoadState('load');
    expect(await page.locator('main').textContent()).toContain('HTTP 200');
    a11y.push(...(await seriousViolations(page)));
    expect(a11y).toEqual([]);
    await tab.finish('done');
    // Its own time budget: axe on the finished batch page (a table of its 1,000 URLs, the page size) takes
    // about 40 s of this journey's 80 on this machine, which left no room under the suite's 90 s.
  }, 180_000);

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
    // The two sent from the form (the batch's ten came in the first test).
    expect(await site.t.db.query(`SELECT count(*)::int AS n FROM notices WHERE email = $1 AND channel = 'form'`, [rights])).toEqual([
      { n: 2 },
    ]);
    expect(a11y).toEqual([]);
    await tab.finish('done');
    await staffTab.finish('done');
  });
});
