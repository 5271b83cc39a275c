import type { AppDeps } from '../deps';
import { validateBody } from '../shared/http';
import { CounterNoticeDto, submitCounterNotice } from '../modules/counter-notices';
import { itemPageUrl } from '../modules/items';
import { NoticeDto, submitNotice } from '../modules/notices';
import { approveNotice, claimNotice, StaffActor } from '../modules/review';

/**
 * A living desk for a newcomer: on the first start (after the demo sources and items), four notices
 * in the states a moderator meets every day, made through the product's own use cases, with their
 * audit events and emails, exactly as if people had sent and decided them:
 *
 * - `pending`: a notice waiting in the queue;
 * - `in_review`: claimed by the first admin;
 * - `approved`: decided; its item answers 451 and its source has a strike;
 * - `countered`: approved, then the publisher sent a counter-notice; restoration is scheduled.
 *
 * It lives outside the modules (it drives four of them) and is never run in production. It does
 * nothing when a notice exists already, when there is no active admin to act, or when fewer than
 * four demo items are published.
 */
export type DemoDeps = Pick<AppDeps, 'db' | 'clock' | 'config' | 'sessionSecret'>;

export interface DemoNotices {
  pending: string;
  inReview: string;
  approved: string;
  countered: string;
}

interface DemoItem {
  slug: string;
  title: string;
  contact: string | null;
  source: string;
}

const COMPLAINANTS = [
  {
    name: 'Rosa Lindqvist',
    organization: 'Northlight Media Rights AB',
    email: 'claims@northlight-rights.example',
    country: 'SE',
    role: 'agent',
    rightsOwner: 'Northlight Press',
  },
  { name: 'Daniel Okafor', organization: '', email: 'daniel.okafor@mail.example', country: 'GB', role: 'owner' },
  { name: 'Claire Fontaine', organization: 'Éditions du Quai', email: 'droits@editions-quai.example', country: 'FR', role: 'owner' },
  { name: 'Sam Whitaker', organization: 'Whitaker Photo & Text LLC', email: 'legal@whitaker-photo.example', country: 'US', role: 'owner' },
] as const;

/** Audit events say where the demo came from. */
const SYSTEM_CONTEXT = { ip: null, requestId: 'demo-seed' };

export async function seedDemoNotices(deps: DemoDeps): Promise<DemoNotices | null> {
  const [{ n }] = await deps.db.query('SELECT count(*)::int AS n FROM notices');
  if (n > 0) return null;
  const actor = await firstAdmin(deps);
  const items = await demoItems(deps);
  if (!actor || items.length < 4) return null;

  // One at a time: each step is a transaction of its own, as a person's clicks would be.
  const refs: string[] = [];
  for (const [i, item] of items.entries()) refs.push(await sendNotice(deps, item, i));
  const [pending, inReview, approved, countered] = refs;
  await claimNotice(deps, { reference: inReview, actor, context: SYSTEM_CONTEXT });
  for (const reference of [approved, countered]) {
    await claimNotice(deps, { reference, actor, context: SYSTEM_CONTEXT });
    await approveNotice(deps, {
      reference,
      actor,
      reason: "The page reproduces the complainant's article in full without a licence.",
      context: SYSTEM_CONTEXT,
    });
  }
  await counterNotify(deps, countered, items[3]);
  return { pending, inReview, approved, countered };
}

async function sendNotice(deps: DemoDeps, item: DemoItem, i: number): Promise<string> {
  const who = COMPLAINANTS[i];
  const dto = await validateBody(NoticeDto, {
    ...who,
    organization: who.organization || undefined,
    address: `${10 + i} Demo Street, Example Town`,
    workDescription: `The article "${item.title}", written by our staff and first published on our own website.`,
    originalUrls: [`https://${who.email.split('@')[1]}/articles/${item.slug.split('/').pop()}`],
    infringingUrls: [itemPageUrl(deps.config.publicBaseUrl, item.slug)],
    goodFaith: true,
    accuracy: true,
    signature: who.name,
  });
  const { answer } = await submitNotice(deps, { dto, channel: 'form', context: SYSTEM_CONTEXT });
  return answer.reference;
}

async function counterNotify(deps: DemoDeps, reference: string, item: DemoItem) {
  const dto = await validateBody(CounterNoticeDto, {
    notice: reference,
    name: `${item.source} editor`,
    email: item.contact ?? 'editor@publisher.example',
    phone: '+1 555 0100',
    address: '1 Harbour Road, Portland, ME 04101',
    country: 'US',
    removedUrls: [itemPageUrl(deps.config.publicBaseUrl, item.slug)],
    explanation: 'We wrote and published this article ourselves; the complainant copied it from us.',
    mistake: true,
    consent: true,
    signature: `${item.source} editor`,
  });
  await submitCounterNotice(deps, { dto, channel: 'form', context: SYSTEM_CONTEXT });
}

async function firstAdmin(deps: DemoDeps): Promise<StaffActor | null> {
  const [row] = await deps.db.query(`SELECT id, email FROM users WHERE role = 'admin' AND active ORDER BY created_at LIMIT 1`);
  return row ? { id: row.id, email: row.email, role: 'admin' } : null;
}

/** The newest published items, one per source first, so the demo spreads across publishers. */
async function demoItems(deps: DemoDeps): Promise<DemoItem[]> {
  return deps.db.query(
    `SELECT i.slug, i.title, s.contact_email AS contact, s.name AS source
       FROM items i JOIN sources s ON s.id = i.source_id
      WHERE i.status = 'published'
      ORDER BY row_number() OVER (PARTITION BY i.source_id ORDER BY i.listed_at DESC), i.listed_at DESC
      LIMIT 4`,
  );
}
