import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/**
 * What axe finds on a page at or above "serious", as short lines a failing test prints.
 * Sandboxed frames (the outbox's email preview) are left out: scripts cannot run in them, so axe
 * cannot either, and the tool would wait on them for a minute. Their content is an email, not a page.
 *
 * Low contrast is `color-contrast`, impact "serious": it is kept. To plant a low-contrast element in
 * a test, set its colour through the CSSOM (`el.style.color = …`); a `style="…"` attribute in
 * inserted markup is blocked by our CSP (style-src 'self'), so the text keeps the stylesheet's colour
 * and there is nothing to flag. Where axe cannot work out a background (text over an image, SVG text
 * in the transparency charts) it reports the node as "incomplete", not as a violation: those are
 * listed with TD_AXE_ALL=1 for a human to look at, and do not fail a test.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).exclude('iframe[sandbox]').analyze();
  const where = new URL(page.url()).pathname;
  const line = (v: (typeof results.violations)[number]) =>
    `${where}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes
      .slice(0, 4)
      .map((n) => n.target.join(' '))
      .join(' | ')}`;
  if (process.env.TD_AXE_ALL) {
    for (const v of results.violations) console.log(line(v));
    for (const v of results.incomplete.filter((i) => i.id === 'color-contrast')) console.log(`needs review: ${line(v)}`);
  }
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map(line);
}
