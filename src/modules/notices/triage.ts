import { getDomain } from 'tldts';
import type { ClaimType } from './notice.dto';
import type { TriageFlag } from './notice.entity';

/** What triage needs to know about one target after matching (SPEC §9). */
export interface TriageTarget {
  url: string;
  item?: {
    status: string;
    originalUrl: string;
    sourceName: string;
    sourceDomains: string[];
    firstFetchedAt: Date;
    removedReference?: string | null;
  } | null;
}

export interface TriageInput {
  claimType: ClaimType;
  email: string;
  originalUrls: string[];
  /** YYYY-MM-DD, when the complainant gives one. */
  workPublishedAt?: string | null;
  targets: TriageTarget[];
  /** References of open notices that already name one of these URLs. */
  duplicateOf: string[];
  /** Other notices from the same email or IP in the last hour. */
  recentFromSender: number;
  senderBurst: number;
}

/** The registrable domain ("news.example.co.uk" → "example.co.uk"), or the host itself. */
export function registrableDomain(hostOrUrl: string): string {
  let host = hostOrUrl;
  try {
    if (/^https?:\/\//i.test(hostOrUrl)) host = new URL(hostOrUrl).hostname;
  } catch {
    /* keep as given */
  }
  host = host.toLowerCase().replace(/^www\./, '');
  return getDomain(host) ?? host;
}

/**
 * The triage flags of a notice, computed at intake and shown in the queue. Pure: the caller
 * gathers the facts. Flags inform the moderator; none of them rejects a notice by itself.
 */
export function computeFlags(input: TriageInput): TriageFlag[] {
  const flags: TriageFlag[] = [];
  const matched = input.targets.filter((t) => t.item);
  const unmatched = input.targets.length - matched.length;

  if (input.claimType !== 'copyright') {
    flags.push({
      code: 'non_copyright',
      reason: `A ${input.claimType} claim, not a DMCA copyright notice: review it under the matching policy.`,
    });
  }
  if (unmatched > 0) {
    flags.push({
      code: 'not_on_site',
      reason:
        unmatched === input.targets.length
          ? 'None of the URLs are on this site.'
          : `${unmatched} of ${input.targets.length} URLs are not on this site.`,
    });
  }
  const removed = matched.filter((t) => t.item!.status !== 'published');
  if (removed.length) {
    flags.push({
      code: 'already_removed',
      reason: `${removed.length} of the URLs ${removed.length === 1 ? 'is' : 'are'} already removed or withdrawn${removed[0].item!.removedReference ? ` (e.g. by ${removed[0].item!.removedReference})` : ''}.`,
    });
  }
  if (input.duplicateOf.length) {
    const refs = [...new Set(input.duplicateOf)].slice(0, 5).join(', ');
    flags.push({ code: 'duplicate', reason: `An open notice already names the same URL: ${refs}.` });
  }

  // Provenance (SPEC §9): our records say where and when each item came from.
  const claimedDomains = [...new Set(input.originalUrls.map(registrableDomain))];
  if (claimedDomains.length && matched.length) {
    const mismatched = matched.filter((t) => {
      const known = new Set([...t.item!.sourceDomains.map(registrableDomain), registrableDomain(t.item!.originalUrl)]);
      return !claimedDomains.some((d) => known.has(d));
    });
    if (mismatched.length) {
      const t = mismatched[0];
      flags.push({
        code: 'source_mismatch',
        reason: `The claimed original (${claimedDomains.join(', ')}) is not where we republished it from: ${t.item!.sourceName} (${registrableDomain(t.item!.originalUrl)}). A copy on another domain claiming to be the original is a known backdating scam.`,
      });
    }
  }
  if (input.workPublishedAt && matched.length) {
    const claimed = new Date(`${input.workPublishedAt}T23:59:59.999Z`);
    const earlier = matched.filter((t) => t.item!.firstFetchedAt < new Date(`${input.workPublishedAt}T00:00:00.000Z`));
    if (earlier.length && !Number.isNaN(claimed.getTime())) {
      const first = earlier[0].item!;
      flags.push({
        code: 'backdated',
        reason: `The work is claimed to be published on ${input.workPublishedAt}, but we fetched our copy from ${first.sourceName} on ${first.firstFetchedAt.toISOString().slice(0, 10)}: likely a backdated copy.`,
      });
    }
  }
  if (claimedDomains.length) {
    const emailDomain = registrableDomain(input.email.split('@')[1] ?? '');
    if (!claimedDomains.includes(emailDomain)) {
      flags.push({
        code: 'email_domain_unrelated',
        reason: `The complainant writes from ${emailDomain}, unrelated to the claimed work's domain (${claimedDomains.join(', ')}).`,
      });
    }
  }
  if (input.recentFromSender >= input.senderBurst) {
    flags.push({ code: 'sender_burst', reason: `${input.recentFromSender} other notices from this sender in the last hour.` });
  }
  return flags;
}

/** What triage needs to know of each target's matched item (null: not on this site). */
export function triageTargetsOf(
  targets: { url: string }[],
  items: ({ status: string; originalUrl: string; firstFetchedAt: Date; source?: { name: string; domains: string[] } | null } | null)[],
): TriageTarget[] {
  return targets.map((t, i) => {
    const item = items[i];
    return {
      url: t.url,
      item: item && {
        status: item.status,
        originalUrl: item.originalUrl,
        sourceName: item.source?.name ?? 'its source',
        sourceDomains: item.source?.domains ?? [],
        firstFetchedAt: item.firstFetchedAt,
      },
    };
  });
}
