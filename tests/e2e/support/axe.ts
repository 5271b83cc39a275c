import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/**
 * What axe finds on a page at or above "serious", as short lines a failing test prints.
 * Sandboxed frames (the outbox's email preview) are left out: scripts cannot run in them, so axe
 * cannot either, and the tool would wait on them for a minute. Their content is an email, not a page.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).exclude('iframe[sandbox]').analyze();
  const where = new URL(page.url()).pathname;
  if (process.env.TD_AXE_ALL) for (const v of results.violations) console.log(`${where}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ')}`);
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${where}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ')}`);
}
