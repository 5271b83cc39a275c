import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { chromium, Browser, BrowserContext, BrowserContextOptions, ConsoleMessage, Dialog, Page } from 'playwright-core';
import { freePort } from '../../../src/db/embedded';
import { createMailWorker, MailWorker } from '../../../src/modules/mail';
import { createLogger } from '../../../src/shared/logger';
import { createTestContext, TestContext } from '../../support/context';
import { PASSWORD } from '../../support/staff';
import { SmtpSink, startSmtpSink } from '../../support/smtp-sink';

/**
 * The browser-test harness: the real app on a real port, Debian's Chromium driven by playwright-core,
 * one browser context per test, and a watcher that fails the test on anything the page does wrong.
 *
 *   const site = await startSite();                  // app + SMTP sink + mail worker, on 127.0.0.1
 *   const browser = await launchBrowser();
 *   const tab = await openTab(browser, 'journey-1'); // fresh context; records errors and dialogs
 *   await tab.page.goto(site.url('/'));
 *   ...
 *   await tab.finish();                             // screenshot to test-artifacts/, then asserts nothing went wrong
 *   afterEach(closeUnfinishedTabs);                 // a failed test's last page is saved too
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for the closed network here: without them Chromium reaches for Google's hosts and hangs. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export const ARTIFACTS_DIR = path.resolve(__dirname, '../../../test-artifacts');

/** Launches headless Chromium. Playwright gives it a new empty user-data dir of its own. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with 'apt-get install -y chromium' (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

export interface Site {
  t: TestContext;
  /** `http://127.0.0.1:<port>` (or `localhost`), also the app's PUBLIC_BASE_URL. */
  baseUrl: string;
  url(pathname: string): string;
  sink: SmtpSink;
  worker: MailWorker;
  close(): Promise<void>;
}

/**
 * The real app on a fresh database, listening on 127.0.0.1 with PUBLIC_BASE_URL set to its own address.
 * `hostname: 'localhost'` names it so instead (same socket): WebAuthn refuses an IP address as the
 * relying party's id, so a passkey journey needs a host name.
 */
export async function startSite(env: Record<string, string> = {}, opts: { hostname?: 'localhost' } = {}): Promise<Site> {
  const port = await freePort();
  const baseUrl = `http://${opts.hostname ?? '127.0.0.1'}:${port}`;
  const sink = await startSmtpSink();
  const t = await createTestContext({
    env: { PUBLIC_BASE_URL: baseUrl, SMTP_URL: sink.url, INTAKE_PER_HOUR: '1000', ...env },
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = t.app.listen(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
  const worker = createMailWorker({ db: t.db, config: t.config, logger: createLogger('silent'), clock: t.clock });
  return {
    t,
    baseUrl,
    url: (p) => new URL(p, baseUrl).toString(),
    sink,
    worker,
    async close() {
      await worker.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sink.stop();
      await t.close();
    },
  };
}

export interface Problem {
  kind: 'pageerror' | 'console' | 'dialog' | 'subresource' | 'requestfailed';
  text: string;
  url?: string;
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** Everything that went wrong so far: uncaught errors, console errors, dialogs, failed sub-resources. */
  problems: Problem[];
  /** Saves a screenshot of the page as it is now to test-artifacts/<name>-<label>.png. */
  screenshot(label?: string): Promise<string>;
  /** Screenshot of the final page, close the context, then fail if anything went wrong. */
  finish(label?: string): Promise<void>;
}

// Chromium logs every 4xx/5xx answer as a console error, documents included; a 422 form page or a 451
// item page is expected, so these are left out and sub-resources are checked by status instead.
const FAILED_LOAD = /^Failed to load resource: the server responded with a status of \d+/;

export function safeName(s: string): string {
  return (
    s
      .replace(/[^\w.-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 120) || 'page'
  );
}

/**
 * A new browser context and page for one test. Dialogs are dismissed (so a test never hangs on one)
 * and recorded as problems; so are uncaught page errors, console errors (CSP violations among them),
 * and any sub-resource (CSS, script, image on our origin) that fails to load.
 */
const openTabs = new Set<Tab>();

/**
 * For afterEach: a tab its test did not finish (the test failed before `finish()`) gets a screenshot
 * labelled "unfinished", then is closed. Its problems are printed, since the failure hides them.
 */
export async function closeUnfinishedTabs(): Promise<void> {
  for (const tab of [...openTabs]) {
    openTabs.delete(tab);
    if (!tab.page.isClosed()) await tab.screenshot('unfinished').catch(() => undefined);
    if (tab.problems.length) console.warn('browser problems in an unfinished test:', tab.problems);
    await tab.context.close().catch(() => undefined);
  }
}

export async function openTab(browser: Browser, name: string, options: BrowserContextOptions = {}): Promise<Tab> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  const page = await context.newPage();
  const problems: Problem[] = [];
  page.on('pageerror', (e: Error) => problems.push({ kind: 'pageerror', text: e.message, url: page.url() }));
  // Republished content hotlinks to its publishers' images; those hosts are out of reach here and
  // not this site's fault, so only failures on our own origin count.
  const foreign = (url: string) => {
    try {
      return !/^(about|data|blob):/.test(url) && new URL(url).origin !== new URL(page.url()).origin;
    } catch {
      return false;
    }
  };
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() !== 'error' || FAILED_LOAD.test(m.text())) return;
    if (m.text().startsWith('Failed to load resource') && foreign(m.location().url)) return;
    problems.push({ kind: 'console', text: m.text(), url: m.location().url });
  });
  page.on('dialog', (d: Dialog) => {
    problems.push({ kind: 'dialog', text: `${d.type()}: ${d.message()}`, url: page.url() });
    d.dismiss().catch(() => undefined);
  });
  page.on('response', (r) => {
    const type = r.request().resourceType();
    if (type !== 'document' && r.status() >= 400 && !foreign(r.url()))
      problems.push({ kind: 'subresource', text: `${r.status()} ${type}`, url: r.url() });
  });
  page.on('requestfailed', (r) => {
    // A navigation that replaces the page aborts its pending fetches: not a fault of the page.
    if (r.failure()?.errorText === 'net::ERR_ABORTED' || foreign(r.url())) return;
    problems.push({ kind: 'requestfailed', text: `${r.resourceType()}: ${r.failure()?.errorText ?? 'failed'}`, url: r.url() });
  });

  const screenshot = async (label = 'final') => {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const file = path.join(ARTIFACTS_DIR, `${safeName(name)}-${safeName(label)}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
  const tab: Tab = {
    context,
    page,
    problems,
    screenshot,
    async finish(label = 'final') {
      openTabs.delete(tab);
      try {
        if (!page.isClosed()) await screenshot(label);
      } finally {
        await context.close();
      }
      expect(problems).toEqual([]);
    },
  };
  openTabs.add(tab);
  return tab;
}

/** Signs in through the real login form, in the browser; lands on the staff home. */
export async function signIn(page: Page, site: Site, email: string, password = PASSWORD): Promise<void> {
  await page.goto(site.url('/login'));
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/staff'), page.getByRole('button', { name: /sign in/i }).click()]);
}
