import type { AppError } from '../../shared/errors';
import { suspensionRefusal, type SubmitterStanding } from './submitter-standing';
import { EntityManager } from 'typeorm';
import type { WritePart } from '../../db/one-statement';
import type { AppDeps } from '../../deps';
import { findImagesByUrls, type ImageInItem, Item, itemMatch } from '../items';
import type { QueuedEmail } from '../mail';
import type { ClaimType } from './notice.dto';
import type { Notice, TriageFlag } from './notice.entity';
import { foldUrls, insertNoticeWithTargets, intakeFacts, newNoticeParts, openNoticesNaming } from './notices.queries';
import { acknowledgement } from './notice-emails';
import { moderatorNotifications } from './notify-moderators';
import { computeFlags, triageTargetsOf } from './triage';

/**
 * The intake every channel shares (form, API, email): fold and match the URLs against the
 * registry, read the facts triage needs, compute the flags, then write the notice with its targets
 * and queue the acknowledgement. `submitNotice` (form, API) and the inbound mailbox both use it.
 */
export interface IntakeInput {
  email: string;
  ip?: string | null;
  infringingUrls: string[];
  originalUrls: string[];
  claimType: ClaimType;
  workPublishedAt?: string | null;
  /** Look up the moderators to notify (only when the notice enters the queue at once). */
  withModerators: boolean;
  /** Flags the channel adds itself (e.g. `sender_unauthenticated` for email). */
  extraFlags?: TriageFlag[];
  /** Read with the facts of concurrent requests (statement groups): the form and the API. */
  grouped?: boolean;
}

export interface PreparedIntake {
  reference: string;
  targets: { url: string; normalisedUrl: string }[];
  /** The matched item of each target, or null. */
  items: (Item | null)[];
  /** SPEC §19: when a target is one of an item's images (its URL at the origin), that image; its item is in `items`. */
  images: (string | null)[];
  originalUrls: string[];
  flags: TriageFlag[];
  moderators: string[];
  matched: number;
  /** The sender's standing as a portal submitter (null: not one). */
  submitter: SubmitterStanding | null;
  /** Set when the sender is a suspended submitter (DSA Art. 23): every channel refuses the notice with it. */
  refusal: AppError | null;
}

/** Reads only (no lock): run it before the transaction, so the transaction stays short. */
export async function prepareIntake(
  deps: Pick<AppDeps, 'db' | 'clock' | 'config'>,
  input: IntakeInput,
  pool: EntityManager = deps.db.manager,
): Promise<PreparedIntake> {
  const { config } = deps;
  const targets = foldUrls(input.infringingUrls, config.publicBaseUrl);
  const originalUrls = [...new Set(input.originalUrls.map((u) => u.trim()))];
  // The registry match is read with the triage facts, in one statement (one round trip, issue 18).
  const now = deps.clock.now();
  const facts = await intakeFacts(
    pool,
    {
      email: input.email,
      ip: input.ip,
      since: new Date(now.getTime() - 3_600_000),
      cap: config.policy.senderBurst,
      normalisedUrls: targets.map((t) => t.normalisedUrl),
      withModerators: input.withModerators,
    },
    itemMatch(
      targets.map((t) => t.url),
      { baseUrl: config.publicBaseUrl },
    ),
    { grouped: !!input.grouped },
  );
  const matches = facts.matched;
  // A URL that is not an item's may be an image of one (SPEC §19): the target is then that image,
  // and open notices naming its item are duplicates too.
  const unmatched = targets.filter((t) => !matches.has(t.url)).map((t) => t.url);
  const imageHits = unmatched.length ? await findImagesByUrls(pool, unmatched) : new Map<string, ImageInItem>();
  const items = targets.map((t) => matches.get(t.url) ?? imageHits.get(t.url)?.item ?? null);
  const images = targets.map((t) => (matches.has(t.url) ? null : (imageHits.get(t.url)?.imageId ?? null)));
  const matchedIds = new Set([...matches.values()].map((i) => i.id));
  const imageItems = [...new Set([...imageHits.values()].map((h) => h.item.id))].filter((id) => !matchedIds.has(id));
  if (imageItems.length)
    facts.duplicateOf = [...new Set([...facts.duplicateOf, ...(await openNoticesNaming(pool, imageItems))])].slice(0, 50);
  const flags = computeFlags({
    claimType: input.claimType,
    email: input.email,
    originalUrls,
    workPublishedAt: input.workPublishedAt ?? undefined,
    targets: triageTargetsOf(targets, items),
    duplicateOf: facts.duplicateOf,
    recentFromSender: facts.recentFromSender,
    senderBurst: config.policy.senderBurst,
  });
  flags.push(...(input.extraFlags ?? []));
  return {
    reference: facts.reference,
    targets,
    items,
    images,
    originalUrls,
    flags,
    moderators: facts.moderators,
    matched: items.filter((i) => i).length,
    submitter: facts.submitter,
    refusal: facts.submitter ? suspensionRefusal(facts.submitter, now) : null,
  };
}

/** Writes the notice (built by the caller, `id` set) and its targets, matched as prepared. */
export function insertPreparedNotice(tx: EntityManager, notice: Notice, p: PreparedIntake): Promise<void> {
  return insertNoticeWithTargets(tx, notice, targetRowsOf(p));
}

/** The same writes as parts of the caller's one statement (`runAsOneStatement`). */
export function preparedNoticeParts(q: EntityManager, notice: Notice, p: PreparedIntake): WritePart[] {
  return newNoticeParts(q, notice, targetRowsOf(p));
}

/** The prepared targets as `notice_targets` rows: matched item (and image), outcome. */
export function targetRowsOf(p: PreparedIntake) {
  return p.targets.map((t, i) => ({
    ...t,
    itemId: p.items[i]?.id ?? null,
    imageId: p.images[i] ?? null,
    outcome: p.items[i] ? 'pending' : 'not_found',
  }));
}

/** The acknowledgement (`notice-received`, with the status link) and, when the notice is queued, the moderators' emails. */
export function intakeEmails(
  deps: Pick<AppDeps, 'config'>,
  notice: Notice,
  p: PreparedIntake,
  links: { statusUrl: string; verifyUrl: string | null },
  extra: Pick<QueuedEmail, 'opts'> = {},
): QueuedEmail[] {
  const ack = acknowledgement(
    notice,
    links,
    p.targets.map((t, i) => ({ url: t.url, matched: !!p.items[i] })),
    notice.submittedAt,
  );
  return [
    { ...ack, opts: { ...ack.opts, ...extra.opts } },
    ...(notice.status === 'pending' ? moderatorNotifications(deps, notice, p.targets.length, p.matched, p.moderators) : []),
  ];
}
