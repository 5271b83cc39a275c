import type { Page } from 'playwright-core';
import request from 'supertest';
import { approveNotice, claimNotice, rejectNotice } from '../../../src/modules/review';
import type { User } from '../../../src/modules/auth';
import { COMPLAINANT } from '../../support/approve-fixture';
import type { ReceivedEmail } from '../../support/smtp-sink';
import type { Site } from './browser';

/**
 * Helpers the journeys share: a notice through the real public API (the integration tests'
 * complainant), an approval through the review use cases (with the site's own config, so emailed
 * links point at the site under test, which approve-fixture's `approveForTest` does not),
 * links out of received emails, and keyboard focus.
 */

export { COMPLAINANT };

export async function submitNotice(
  site: Site,
  infringingUrls: string[],
  over: Partial<typeof COMPLAINANT> = {},
): Promise<{ reference: string; statusUrl: string }> {
  const res = await request(site.t.app)
    .post('/api/v1/notices')
    .send({ ...COMPLAINANT, ...over, infringingUrls });
  if (res.status !== 201) throw new Error(`notice not accepted: ${res.status} ${JSON.stringify(res.body)}`);
  return { reference: res.body.reference, statusUrl: res.body.statusUrl };
}

/** A moderator claims and approves every matched URL, through the product's use cases. */
export async function approveAs(
  site: Site,
  moderator: User,
  reference: string,
  reason = "The URLs copy the complainant's article.",
): Promise<void> {
  const deps = { db: site.t.db, clock: site.t.clock, config: site.t.config, sessionSecret: site.t.sessionSecret };
  const actor = { id: moderator.id, email: moderator.email, role: moderator.role as 'moderator' | 'admin' };
  await claimNotice(deps, { reference, actor });
  await approveNotice(deps, { reference, actor, reason });
}

/** A moderator claims and rejects the notice, through the product's use cases. */
export async function rejectAs(site: Site, moderator: User, reference: string, reason = "The page is the source's own original article.") {
  const deps = { db: site.t.db, clock: site.t.clock, config: site.t.config, sessionSecret: site.t.sessionSecret };
  const actor = { id: moderator.id, email: moderator.email, role: moderator.role as 'moderator' | 'admin' };
  await claimNotice(deps, { reference, actor });
  await rejectNotice(deps, { reference, actor, reason });
}

/** The one email to `address` whose subject matches, after the outbox is drained. */
export async function mailTo(site: Site, address: string, subject: RegExp): Promise<ReceivedEmail> {
  await site.worker.drain();
  const found = site.sink.to(address).filter((m) => subject.test(m.parsed.subject ?? ''));
  if (found.length !== 1) {
    throw new Error(
      `expected one email to ${address} matching ${subject}, got ${found.length}: ${site.sink.messages.map((m) => `${m.envelope.to.join(',')}: ${m.parsed.subject}`).join(' | ')}`,
    );
  }
  return found[0];
}

/** The first link in the email's plain-text part on the site under test whose path starts with `pathname`. */
export function linkIn(site: Site, mail: ReceivedEmail, pathname: string): string {
  const escaped = `${site.baseUrl}${pathname}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${escaped}[^\\s<>"]*`).exec(mail.parsed.text ?? '');
  if (!m) throw new Error(`no ${pathname} link in "${mail.parsed.subject}":\n${mail.parsed.text}`);
  return m[0];
}

export interface Focused {
  tag: string;
  id: string;
  text: string;
  href: string | null;
  type: string | null;
}

export async function focused(page: Page): Promise<Focused> {
  return page.evaluate<Focused>(`(() => {
    const e = document.activeElement;
    if (!e) return { tag: '', id: '', text: '', href: null, type: null };
    return { tag: e.tagName, id: e.id, text: (e.textContent || '').trim().replace(/\\s+/g, ' '), href: e.getAttribute('href'), type: e.getAttribute('type') };
  })()`);
}

/**
 * Presses Tab until `wanted` holds for the focused element; returns every element visited on the
 * way. Fails if focus falls back to the page itself (nothing focusable, or a trap that drops it)
 * or the element is not reached in `max` presses.
 */
export async function tabTo(page: Page, wanted: (f: Focused) => boolean, max = 60): Promise<Focused[]> {
  const path: Focused[] = [];
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    path.push(f);
    if (f.tag === 'BODY' || f.tag === '') throw new Error(`focus fell back to the page after ${path.map(describeFocus).join(' → ')}`);
    if (wanted(f)) return path;
  }
  throw new Error(`not reached in ${max} Tab presses: ${path.map(describeFocus).join(' → ')}`);
}

export const describeFocus = (f: Focused) => `${f.tag.toLowerCase()}${f.id ? `#${f.id}` : ''}${f.text ? ` "${f.text.slice(0, 40)}"` : ''}`;
