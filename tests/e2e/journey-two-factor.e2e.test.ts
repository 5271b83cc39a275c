import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { createStaff, PASSWORD } from '../support/staff';
import { seriousViolations } from './support/axe';
import { closeUnfinishedTabs, launchBrowser, openTab, Site, startSite } from './support/browser';

/**
 * Journey: with REQUIRE_2FA=admin an unenrolled admin is sent to enrolment, scans (reads) the key,
 * turns TOTP on and keeps the recovery codes; signs in again with a code; adds a passkey (Chromium's
 * virtual authenticator, over CDP) and signs in with it; a second browser signs in with a recovery
 * code, and the first ends that "stolen" session from /account/sessions (the other browser is then
 * told its session was signed out).
 */
describe('journey: two-factor sign-in and ending a stolen session', () => {
  let site: Site;
  let browser: Browser;
  const admin = { email: 'admin@desk.example' };

  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite({ REQUIRE_2FA: 'admin' }, { hostname: 'localhost' }), launchBrowser()]);
    await createStaff(site.t.db, { role: 'admin', email: admin.email });
  });
  afterEach(closeUnfinishedTabs);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  const passwordStep = async (page: Page, next: (u: URL) => boolean) => {
    await page.goto(site.url('/login'));
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([page.waitForURL(next), page.getByRole('button', { name: /sign in/i }).click()]);
  };

  it('when an unenrolled admin signs in, then they enrol TOTP and a passkey, sign in with each (and with the passkey alone), and end a session opened elsewhere', async () => {
    const a11y: string[] = [];
    const tab = await openTab(browser, 'journey-2fa');
    const { page } = tab;
    await passwordStep(page, (u) => u.pathname === '/account/2fa');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Set up two-factor sign-in');
    // The QR code is an image the browser could load under the CSP (no CSP errors: see tab.finish()).
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    expect(
      await qr.evaluate((el) => {
        const img = el as unknown as { complete: boolean; naturalWidth: number };
        return img.complete && img.naturalWidth > 0;
      }),
    ).toBe(true);
    a11y.push(...(await seriousViolations(page)));
    const key = (await page.locator('#totp-key').textContent())!.trim();
    const totp = new TOTP({ secret: Secret.fromBase32(key) });
    await page.getByLabel('Code from the app').fill(totp.generate());
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/account/2fa'),
      page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click(),
    ]);
    const codes = await page.locator('.recovery-codes code').allTextContents();
    expect(codes).toHaveLength(10);
    a11y.push(...(await seriousViolations(page)));

    // Sign out and in again: the code page follows the password. The next step's code (the one
    // used at enrolment is spent).
    await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.getByRole('button', { name: /Sign out/ }).click()]);
    await passwordStep(page, (u) => u.pathname === '/login/2fa');
    a11y.push(...(await seriousViolations(page)));
    await page.getByLabel('Code').fill(totp.generate({ timestamp: Date.now() + 30_000 }));
    await Promise.all([page.waitForURL((u) => u.pathname === '/staff'), page.getByRole('button', { name: 'Sign in' }).click()]);

    // A passkey: Chromium's virtual authenticator stands in for a security key (automatic touch).
    const cdp = await tab.context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'usb',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await page.getByRole('link', { name: /Passkeys/ }).click();
    await page.waitForURL((u) => u.pathname === '/account/passkeys');
    await page.getByLabel('Name for this passkey').fill('Desk key');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('Passkey "Desk key" added.').waitFor();
    expect(await page.locator('main table tbody tr').allTextContents()).toEqual([expect.stringContaining('Desk key')]);
    a11y.push(...(await seriousViolations(page)));
    expect((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials).toHaveLength(1);

    // Sign in with the passkey instead of a code.
    await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.getByRole('button', { name: /Sign out/ }).click()]);
    await passwordStep(page, (u) => u.pathname === '/login/2fa');
    a11y.push(...(await seriousViolations(page)));
    await Promise.all([page.waitForURL((u) => u.pathname === '/staff'), page.getByRole('button', { name: 'Use a passkey' }).click()]);
    const [signedIn] = await site.t.db.query(`SELECT details FROM audit_events WHERE action = 'user.logged_in' ORDER BY id DESC LIMIT 1`);
    expect(signedIn.details).toMatchObject({ secondFactor: 'passkey' });
    const [passkey] = await site.t.db.query(`SELECT name, counter, last_used_at FROM passkeys`);
    expect(passkey.name).toBe('Desk key');
    expect(passkey.last_used_at).not.toBeNull();

    // And with the passkey alone (it was saved with user verification: two factors in one).
    await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.getByRole('button', { name: /Sign out/ }).click()]);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/staff'),
      page.getByRole('button', { name: 'Use a passkey instead' }).click(),
    ]);
    const [alone] = await site.t.db.query(`SELECT details FROM audit_events WHERE action = 'user.logged_in' ORDER BY id DESC LIMIT 1`);
    expect(alone.details).toMatchObject({ secondFactor: 'passkey', passwordless: true });

    // A second browser signs in with a recovery code.
    const thief = await openTab(browser, 'journey-2fa-other', {
      userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36',
    });
    await passwordStep(thief.page, (u) => u.pathname === '/login/2fa');
    await thief.page.getByLabel('Code').fill(codes[0]);
    await Promise.all([thief.page.waitForURL((u) => u.pathname === '/staff'), thief.page.getByRole('button', { name: 'Sign in' }).click()]);

    // The first browser sees it and signs it out.
    await page.goto(site.url('/account/sessions'));
    const row = page.locator('main table tbody tr', { hasText: 'Chrome on Android' });
    a11y.push(...(await seriousViolations(page)));
    await Promise.all([page.waitForURL((u) => u.pathname === '/account/sessions'), row.getByRole('button', { name: /Sign out/ }).click()]);
    expect(await page.locator('main').textContent()).toContain('That session is signed out.');
    await thief.page.goto(site.url('/users'));
    expect(new URL(thief.page.url()).pathname).toBe('/login');
    // The other browser is told why, and it is on the record.
    expect(await thief.page.locator('.flash').textContent()).toContain(
      'This session was signed out from the sessions page of your account.',
    );
    a11y.push(...(await seriousViolations(thief.page)));
    const [refused] = await site.t.db.query(`SELECT details FROM audit_events WHERE action = 'session.refused'`);
    expect(refused.details).toMatchObject({ reason: 'revoked', path: '/users' });
    await thief.finish();

    expect(a11y).toEqual([]);
    await tab.finish();
  });
});
