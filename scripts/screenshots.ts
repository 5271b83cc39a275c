/**
 * Takes the README's screenshots (docs/screenshots/*.png): `npm run screenshots`.
 *
 * It starts the app as `npm start` does on a first start — an embedded PostgreSQL in a fresh data
 * directory, migrations, the demo sources, items and notices, the mail worker — on 127.0.0.1, signs
 * in as a moderator and an admin it creates, and walks the three tours in Debian's Chromium
 * (`playwright-core`; `CHROMIUM_PATH` overrides /usr/bin/chromium). A console error on any page
 * (a CSP violation included) fails the run. Everything it started is stopped at the end.
 */
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createContainer } from '../src/container';
import { freePort } from '../src/db/embedded';
import { withTransaction } from '../src/db/transaction';
import { seedDemoNotices } from '../src/demo/seed-demo-notices';
import { createUser } from '../src/modules/auth';
import { seedDemo } from '../src/demo/seed-demo';
import { createMailWorker } from '../src/modules/mail';
import { createLogger } from '../src/shared/logger';

const OUT = path.resolve(__dirname, '../../docs/screenshots');
const PASSWORD = 'screenshot-tour-password-1';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'takedown-screenshots-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: base,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
  });
  const container = await createContainer(config, { migrate: true, logger: createLogger('warn') });
  let server: Server | undefined;
  let browser: Browser | undefined;
  try {
    // Inside the try: a browser that fails to start must still stop the database started above.
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
    for (const [role, email, name] of [
      ['admin', 'admin@desk.example', 'Ada Admin'],
      ['moderator', 'mo@desk.example', 'Mo Moderator'],
    ] as const) {
      await withTransaction(container.db, (tx) =>
        createUser(tx, { at: container.clock.now(), actor: { type: 'system' }, email, name, role, password: PASSWORD, notify: false }),
      );
    }
    await seedDemo(container);
    const demo = await seedDemoNotices(container);
    if (!demo) throw new Error('no demo notices were created');
    await createMailWorker(container).drain(); // the outbox shows delivered emails
    const app = createApp(container);
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(port, '127.0.0.1', () => resolve(s));
    });
    mkdirSync(OUT, { recursive: true });

    const context = await browser.newContext({ viewport: { width: 1200, height: 820 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      // The 451 page's own status and the browser's favicon probe are not faults of a page.
      const from = m.location().url;
      if (m.type() !== 'error' || from === page.url() || from.endsWith('/favicon.ico')) return;
      errors.push(`${page.url()}: ${m.text()} (${from})`);
    });
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
    const shot = async (name: string) => {
      await page.screenshot({ path: path.join(OUT, `${name}.png`) });
      console.log(`docs/screenshots/${name}.png  ${page.url().replace(base, '')}`);
    };

    // ---- Rights holder: an item page, the notice form, the status page, a removed item ----
    await page.goto(`${base}/`);
    await page.locator('main a[href^="/items/"]').first().click();
    await shot('1-item-page');
    await page
      .locator('#main')
      .getByRole('link', { name: /takedown request/i })
      .click();
    await page.fill('#name', 'Jo Example');
    await shot('2-takedown-form');
    const status = await submitNotice(page);
    await page.goto(status);
    await shot('3-status-page');
    const [removed] = await container.db.query(
      `SELECT i.slug FROM items i JOIN notices n ON n.id = i.removed_by_notice_id WHERE n.reference = $1`,
      [demo.approved],
    );
    await page.goto(`${base}/items/${encodeURIComponent(removed.slug)}`);
    await shot('4-removed-item-451');

    // ---- Moderator: the queue, a notice beside the registry ----
    await signIn(page, base, 'mo@desk.example');
    await page.goto(`${base}/queue`);
    await shot('5-queue');
    await page.goto(`${base}/notices/${demo.pending}`);
    await shot('6-notice-review');
    await page.goto(`${base}/counter-notices`);
    await shot('7-counter-notices');
    await page
      .getByRole('button', { name: /sign out/i })
      .first()
      .click();

    // ---- Admin: the audit trail, the outbox, the transparency report, the API reference ----
    await signIn(page, base, 'admin@desk.example');
    await page.goto(`${base}/audit`);
    await shot('8-audit-history');
    await page.goto(`${base}/outbox`);
    await shot('9-outbox');
    await page.goto(`${base}/transparency`);
    await shot('10-transparency');
    await page.goto(`${base}/api/docs`);
    await page.locator('.swagger-ui .opblock').first().waitFor();
    await shot('11-api-docs');

    if (errors.length) throw new Error(`console errors:\n${errors.join('\n')}`);
  } finally {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await container.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The public form, filled in as a rights holder would; returns the status page it lands on. */
async function submitNotice(page: Page): Promise<string> {
  await page.fill('#name', 'Jo Example');
  await page.fill('#email', 'jo@publisher.example');
  await page.fill('#address', '1 Example Road, Springfield');
  await page.selectOption('#country', 'US');
  await page.check('#role');
  await page.fill('#workDescription', 'My essay, first published on my own site.');
  await page.check('#goodFaith');
  await page.check('#accuracy');
  await page.fill('#signature', 'Jo Example');
  await Promise.all([page.waitForURL(/\/takedown\/TD-/), page.getByRole('button', { name: 'Send the notice' }).click()]);
  return page.url();
}

async function signIn(page: Page, base: string, email: string) {
  await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL((u) => u.pathname === '/staff'), page.getByRole('button', { name: /sign in/i }).click()]);
}

function chromiumPath(): string {
  // A developer tool, not the app (the app reads the environment in config.ts only).
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
