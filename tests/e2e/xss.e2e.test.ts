import request from 'supertest';
import { plainToInstance } from 'class-transformer';
import type { Browser } from 'playwright-core';
import { withTransaction } from '../../src/db/transaction';
import { SYSTEM } from '../../src/modules/audit';
import { addItem, Item } from '../../src/modules/items';
import { CreateItemDto } from '../../src/modules/items/items.dto';
import { makeSource } from '../support/factories';
import { createStaff } from '../support/staff';
import { closeUnfinishedTabs, launchBrowser, openTab, signIn, Site, startSite, Tab } from './support/browser';

/**
 * Classic XSS vectors in every text field of a notice (through the API) and of an item and its
 * source (through the registry's use cases), then every page that shows them opened in Chromium.
 * The page's CSP is bypassed on purpose: the test checks the escaping and the sanitiser, not the
 * CSP that would hide their failures. Any dialog, any `window.__xss`, any event-handler attribute or
 * javascript: URL in the DOM fails the test.
 */
const HIT = 'window.__xss=1';
export const VECTORS = [
  `<script>${HIT}</script>`,
  `<img src=x onerror="${HIT}">`,
  `<svg onload=${HIT}>`,
  '<svg/onload=alert(1)>',
  `<body onload=${HIT}>`,
  `<iframe src="javascript:parent.__xss=1"></iframe>`,
  `<a href="javascript:${HIT}">click</a>`,
  `"><script>${HIT}</script>`,
  `'><img src=x onerror=${HIT}>`,
  `</textarea><script>${HIT}</script>`,
  `</title><script>${HIT}</script>`,
  `<details open ontoggle=${HIT}>`,
  `<input autofocus onfocus=${HIT}>`,
  `<video><source onerror="${HIT}"></video>`,
  `<audio src=x onerror=${HIT}>`,
  `<marquee onstart=${HIT}>`,
  `<object data="javascript:${HIT}"></object>`,
  `<embed src="javascript:${HIT}">`,
  `<math><mtext><table><mglyph><style><img src=x onerror=${HIT}>`,
  `<noscript><p title="</noscript><img src=x onerror=${HIT}>">`,
  '<img src="x" onerror="&#119;indow.__xss=1">',
  `<scr<script>ipt>${HIT}</scr</script>ipt>`,
  `<IMG SRC=JaVaScRiPt:${HIT}>`,
  `<svg><script>${HIT}</script></svg>`,
  `<div style="background:url(javascript:${HIT})">x</div>`,
  `<form><button formaction=javascript:${HIT}>x</button></form>`,
  `<meta http-equiv="refresh" content="0;url=javascript:${HIT}">`,
  `{{constructor.constructor('${HIT}')()}}`,
  `<base href="javascript:${HIT}//">`,
  `" onmouseover="${HIT}" x="`,
  `' onfocus='${HIT}' autofocus x='`,
  'javascript:alert(1)',
  '<img src=x onerror=alert(1)>',
  `<svg><animate onbegin=${HIT} attributeName=x dur=1s>`,
  `<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>`,
  `<a href="&#106;avascript:${HIT}">x</a>`,
];

/** After the page loaded: did any payload run, or land in the DOM as live markup? */
const PROBE = `(() => {
  const onAttr = [];
  for (const el of document.querySelectorAll('*')) for (const a of el.attributes) if (/^on/i.test(a.name)) onAttr.push(el.tagName + ' ' + a.name);
  const jsUrl = [...document.querySelectorAll('[href],[src],[action],[formaction],[data]')]
    .filter((el) => ['href', 'src', 'action', 'formaction', 'data'].some((n) => /^\\s*javascript:/i.test(el.getAttribute(n) || '')))
    .map((el) => el.outerHTML.slice(0, 80));
  const scripts = [...document.scripts].filter((s) => !s.src || new URL(s.src).origin !== location.origin).map((s) => s.outerHTML.slice(0, 80));
  return { ran: window.__xss === 1, onAttr, jsUrl, scripts };
})()`;

describe('XSS: payloads in every field, opened in a browser', () => {
  let site: Site;
  let browser: Browser;
  const items: Item[] = [];
  const statusPaths: string[] = [];
  const admin = 'admin-xss@example.org';

  beforeAll(async () => {
    [site, browser] = await Promise.all([startSite({ SENDER_BURST: '1000' }), launchBrowser()]);
    const { db } = site.t;
    await createStaff(db, { role: 'admin', email: admin });
    for (const [i, v] of VECTORS.entries()) {
      const source = await makeSource(db, { name: `Source ${v}`, domains: [`xss${i}.example`] });
      const dto = plainToInstance(CreateItemDto, {
        sourceId: source.id,
        title: `Title ${v}`,
        author: `Author ${v}`,
        guid: `guid-${i}-${v}`,
        originalUrl: `https://xss${i}.example/article-${i}`,
        content: `<p>Before</p>${v}<p>After ${v}</p>`,
      });
      const { item } = await withTransaction(db, (tx) => addItem(tx, { dto, actor: SYSTEM, now: new Date() }));
      items.push(item);
      const notice = {
        name: `N ${v}`,
        organization: `Org ${v}`,
        email: `xss${i}@example.org`,
        address: `Address ${v}`,
        country: 'GB',
        role: 'agent',
        rightsOwner: `Owner ${v}`,
        workDescription: `Work described: ${v}`,
        signature: `N ${v}`,
        infringingUrls: [site.url(`/items/${item.slug}`), `https://elsewhere.example/${v}`],
        originalUrls: [`https://xss${i}.example/?q=${v}`],
        goodFaith: true,
        accuracy: true,
      };
      let res = await request(site.t.app).post('/api/v1/notices').send(notice);
      if (res.status === 422) {
        // The URL lists refuse what is not a URL: then the payload goes in encoded, the rest as it is.
        res = await request(site.t.app)
          .post('/api/v1/notices')
          .send({
            ...notice,
            infringingUrls: [site.url(`/items/${item.slug}`), `https://elsewhere.example/${encodeURIComponent(v)}`],
            originalUrls: [`https://xss${i}.example/?q=${encodeURIComponent(v)}`],
          });
      }
      expect(`${i} ${res.status} ${JSON.stringify(res.body.errors ?? '')}`).toBe(`${i} 201 ""`);
      const u = new URL(res.body.statusUrl);
      statusPaths.push(u.pathname + u.search);
    }
    await site.worker.drain();
  });
  afterEach(closeUnfinishedTabs);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  async function visit(tab: Tab, paths: string[]): Promise<string[]> {
    const found: string[] = [];
    for (const p of paths) {
      const res = await tab.page.goto(site.url(p));
      if (!res || res.status() >= 500) found.push(`${p}: status ${res?.status()}`);
      await tab.page.waitForTimeout(50); // a moment for onload/onfocus/ontoggle to fire
      const r = await tab.page.evaluate<{ ran: boolean; onAttr: string[]; jsUrl: string[]; scripts: string[] }>(PROBE);
      if (r.ran) found.push(`${p}: a payload ran`);
      for (const a of r.onAttr) found.push(`${p}: event handler attribute ${a}`);
      for (const a of r.jsUrl) found.push(`${p}: javascript: URL ${a}`);
      for (const s of r.scripts) found.push(`${p}: foreign script ${s}`);
    }
    return found;
  }

  it('when a payload does land as markup, then the probe sees it run (the check is not a no-op)', async () => {
    const tab = await openTab(browser, 'xss-self-check', { bypassCSP: true });
    await tab.page.goto(site.url('/'));
    await tab.page.evaluate(
      `document.querySelector('main').insertAdjacentHTML('beforeend', '<img src="/static/style.css" onerror="${HIT}"><a href="javascript:void 0">x</a>')`,
    );
    await tab.page.waitForFunction('window.__xss === 1');
    const r = await tab.page.evaluate<{ ran: boolean; onAttr: string[]; jsUrl: string[] }>(PROBE);
    expect(r.ran).toBe(true);
    expect(r.onAttr).toEqual(['IMG onerror']);
    expect(r.jsUrl).toHaveLength(1);
    await tab.context.close();
  });

  it(`when ${VECTORS.length} vectors are in every field, then the public pages show them as text: no script runs`, async () => {
    const tab = await openTab(browser, 'xss-public', { bypassCSP: true });
    const found = await visit(tab, ['/', ...items.map((i) => `/items/${i.slug}`), ...statusPaths]);
    expect(found).toEqual([]);
    await tab.finish();
  });

  it(`when ${VECTORS.length} vectors are in every field, then the staff pages show them as text: no script runs`, async () => {
    const tab = await openTab(browser, 'xss-staff', { bypassCSP: true });
    await signIn(tab.page, site, admin);
    const emails: { id: string }[] = await site.t.db.query('SELECT id FROM outbound_emails ORDER BY created_at');
    expect(emails.length).toBeGreaterThanOrEqual(VECTORS.length);
    const found = await visit(tab, [
      '/staff',
      '/sources',
      '/items',
      '/outbox',
      ...items.map((i) => `/items/${i.id}/admin`),
      ...emails.map((e) => `/outbox/${e.id}`),
    ]);
    expect(found).toEqual([]);
    await tab.finish();
  });
});
