import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { addBusinessDays } from '../../shared/business-days';
import { normaliseUrl } from '../../shared/url';
import { AppError } from '../../shared/errors';
import { PUBLIC, record, RequestContext } from '../audit';
import { findItemsByUrls, itemPageUrl } from '../items';
import { can, findByReference, isFinal, lockByReference, Notice, type NoticeStatus, transition } from '../notices';
import { consentStatementFor, CounterNoticeDto, MISTAKE_STATEMENT } from './counter-notice.dto';
import { CounterNotice } from './counter-notice.entity';
import { staffEmails } from '../auth';
import { queueCounterNoticeEmails } from './counter-notice-emails';
import { removedImagesOf, removedItemsOf } from './counter-notices.queries';
import { queueNoticeEvents } from '../webhooks';

export type CounterDeps = Pick<AppDeps, 'db' | 'clock' | 'config'>;

export interface SubmitCounterNotice {
  dto: CounterNoticeDto;
  channel: 'form' | 'api';
  context: RequestContext;
}

/** What the API answers, and what the form's thank-you page shows. */
export interface CounterNoticeAnswer {
  id: string;
  notice: string;
  status: 'received';
  receivedAt: string;
  restoreAfter: string;
  items: { url: string; itemId: string }[];
}

/**
 * Why a notice cannot be countered now, in words for the person filling the form; null when it can.
 * Only an `approved` notice that removed something can be (SPEC §3: approved → countered).
 */
export function whyNotCounterable(notice: Notice, removedCount: number): string | null {
  const ref = notice.reference;
  // The state machine says when a counter-notice can be taken; the words below only explain why not.
  if (can(notice.status, 'counter'))
    return removedCount ? null : `Notice ${ref} did not remove anything from this site, so there is nothing to counter.`;
  const AFTER_REMOVAL: Partial<Record<NoticeStatus, string>> = {
    countered: `A counter-notice against notice ${ref} has already been received; the complainant has been sent a copy and the material is due to be restored.`,
    restored: `The material removed under notice ${ref} has already been restored after a counter-notice.`,
    upheld: `The removal under notice ${ref} was upheld after the complainant reported a court action; a new counter-notice cannot be sent.`,
  };
  return (
    AFTER_REMOVAL[notice.status] ??
    (isFinal(notice.status)
      ? `Notice ${ref} did not lead to a removal, so there is nothing to counter.`
      : `Notice ${ref} has not been decided yet and nothing has been removed under it. A counter-notice can be sent only after material is removed.`)
  );
}

export function unknownNotice(reference: string): AppError {
  return AppError.validation([
    { field: 'notice', message: `There is no takedown notice ${reference}. Check the reference on the page of the removed item.` },
  ]);
}

/**
 * Takes a counter-notice (§ 512(g)(3)). In ONE transaction: the notice → `countered`, the
 * counter-notice with its restore-after date (received + RESTORE_BUSINESS_DAYS US business days),
 * the audit events, a copy to the complainant (with the date and what stops it), a word to the
 * moderators and an acknowledgement to the counter-notifier. Refused, with nothing changed, when
 * the notice is unknown, cannot be countered, or a URL was not removed by it.
 */
export async function submitCounterNotice(deps: CounterDeps, cmd: SubmitCounterNotice): Promise<CounterNoticeAnswer> {
  const { config } = deps;
  const { dto } = cmd;
  const base = config.publicBaseUrl;
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    if (!(await findByReference(tx, dto.notice))) throw unknownNotice(dto.notice);
    const notice = await lockByReference(tx, dto.notice);
    const removed = await removedItemsOf(tx, notice.id);
    const why = whyNotCounterable(notice, removed.length);
    if (why) throw AppError.conflict('COUNTER_NOTICE.NOT_ALLOWED', why, { errors: [{ field: 'notice', message: why }] });
    const { urls, itemIds } = await namedRemovedItems(tx, dto.removedUrls, removed, notice, base);

    const before = notice.status;
    notice.status = transition(notice.status, 'counter');
    await tx.getRepository(Notice).save(notice);
    await queueNoticeEvents(tx, deps, notice, { from: before, at: now });
    const restoreAfter = addBusinessDays(now, config.policy.restoreBusinessDays);
    const repo = tx.getRepository(CounterNotice);
    const cn = await repo.save(
      repo.create(
        newCounterNotice(dto, { noticeId: notice.id, urls, itemIds, channel: cmd.channel, ip: cmd.context.ip, now, restoreAfter }),
      ),
    );

    const details = { items: itemIds, restoreAfter: restoreAfter.toISOString() };
    await record(tx, {
      actor: PUBLIC,
      action: 'counter_notice.received',
      subject: { type: 'counter_notice', id: cn.id },
      details: { notice: notice.reference, channel: cmd.channel, ...details },
      context: cmd.context,
      at: now,
    });
    await record(tx, {
      actor: PUBLIC,
      action: 'notice.countered',
      subject: { type: 'notice', id: notice.reference },
      details: { before, after: notice.status, counterNoticeId: cn.id, ...details, items: itemIds.length },
      context: cmd.context,
      at: now,
    });
    const items = removed.filter((r) => itemIds.includes(r.itemId)).map((r) => ({ title: r.title, url: itemPageUrl(base, r.slug) }));
    await queueCounterNoticeEmails(tx, deps, notice, cn, items, await staffEmails(tx));

    return {
      id: cn.id,
      notice: notice.reference,
      status: 'received',
      receivedAt: now.toISOString(),
      restoreAfter: restoreAfter.toISOString(),
      items: itemIds.map((id) => ({ itemId: id, url: itemPageUrl(base, removed.find((r) => r.itemId === id)!.slug) })),
    };
  });
}

/**
 * Every URL of a counter-notice must name material this notice removed: an item (our page or the
 * original article URL), or one of the images it removed (SPEC §19: the image's URL as on our page,
 * i.e. at its origin); a 422 otherwise. The items named, directly or through their image, are the
 * counter-notice's items; the restoration brings back only the named images of an item named by
 * an image (see restore-counter-noticed.ts).
 */
async function namedRemovedItems(
  tx: EntityManager,
  removedUrls: string[],
  removed: { itemId: string; slug: string }[],
  notice: Notice,
  base: string,
): Promise<{ urls: string[]; itemIds: string[] }> {
  const urls = [...new Set(removedUrls.map((u) => u.trim()))];
  const found = await findItemsByUrls(tx, urls, { baseUrl: base });
  const removedIds = new Set(removed.map((r) => r.itemId));
  const images = await removedImagesOf(tx, notice.id);
  const itemOf = (u: string): string | undefined => {
    const item = found.get(u)?.id;
    if (item && removedIds.has(item)) return item;
    const n = normaliseUrl(u);
    return images.find((g) => g.urlNormalised === n)?.itemId;
  };
  const wrong = urls.filter((u) => !itemOf(u));
  if (wrong.length) {
    const list = [
      ...removed.slice(0, 5).map((r) => itemPageUrl(base, r.slug)),
      ...images.slice(0, 5).map((g) => `the image ${g.url}`),
    ].join(', ');
    throw AppError.validation([
      {
        field: 'removedUrls',
        message: `${wrong[0].slice(0, 200)} was not removed under notice ${notice.reference}${wrong.length > 1 ? ` (nor ${wrong.length - 1} more)` : ''}. List only material removed by this notice: ${list}.`,
      },
    ]);
  }
  return { urls, itemIds: [...new Set(urls.map((u) => itemOf(u)!))] };
}

function newCounterNotice(
  dto: CounterNoticeDto,
  f: {
    noticeId: string;
    urls: string[];
    itemIds: string[];
    channel: SubmitCounterNotice['channel'];
    ip?: string | null;
    now: Date;
    restoreAfter: Date;
  },
): Partial<CounterNotice> {
  const country = dto.country.toUpperCase();
  return {
    noticeId: f.noticeId,
    status: 'received',
    urls: f.urls,
    itemIds: f.itemIds,
    name: dto.name.trim(),
    email: dto.email.trim().toLowerCase(),
    phone: dto.phone.trim(),
    address: dto.address.trim(),
    country,
    explanation: dto.explanation?.trim() || null,
    mistakeStatement: MISTAKE_STATEMENT,
    consentStatement: consentStatementFor(country),
    statementsAt: f.now,
    signature: dto.signature.trim(),
    channel: f.channel,
    submitterIp: f.ip ?? null,
    receivedAt: f.now,
    restoreAfter: f.restoreAfter,
    restoredAt: null,
    courtAction: null,
  };
}
