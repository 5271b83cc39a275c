import { EntityManager } from 'typeorm';
import { withTransaction } from '../../db/transaction';
import { Actor, record, RequestContext, SYSTEM } from '../audit';
import { findItemsByUrls, itemPageUrl, restoreImages, restoreItems } from '../items';
import { enqueue } from '../mail';
import { markTargetsRestored, Notice, transition } from '../notices';
import { CounterNotice } from './counter-notice.entity';
import { itemsForMail, lockCounterNotice, lockNoticeById, sourceContactsOf } from './counter-notices.queries';
import type { CounterDeps } from './submit-counter-notice';
import { AppError } from '../../shared/errors';
import { queueNoticeEvents } from '../webhooks';

/**
 * The restoration job (§ 512(g)(2)(C)): every counter-notice whose restore-after date has come and
 * for which no court action was recorded gets its items restored (the pages answer 200 again and
 * rejoin the feed and sitemap), the targets' outcome `restored`, the notice → `restored`, and the
 * complainant, the counter-notifier and the sources' contacts emailed. One transaction per
 * counter-notice; rows are claimed with FOR UPDATE SKIP LOCKED, so several instances running the
 * job at once each restore a different counter-notice, never one twice.
 */
export async function restoreDueCounterNotices(deps: CounterDeps, opts: { limit?: number } = {}): Promise<number> {
  const limit = opts.limit ?? 100;
  let done = 0;
  while (done < limit) {
    const restored = await withTransaction(deps.db, async (tx) => {
      const now = deps.clock.now();
      const rows: { id: string }[] = await tx.query(
        `SELECT id FROM counter_notices WHERE status = 'received' AND restore_after <= $1
          ORDER BY restore_after, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [now],
      );
      if (!rows.length) return false;
      await restoreOne(tx, deps, rows[0].id, now);
      return true;
    });
    if (!restored) break;
    done += 1;
  }
  return done;
}

async function restoreOne(tx: EntityManager, deps: CounterDeps, id: string, now: Date): Promise<void> {
  const base = deps.config.publicBaseUrl;
  const cn = await tx.getRepository(CounterNotice).findOneByOrFail({ id });
  const notice = await lockNoticeById(tx, cn.noticeId);
  const next = transition(notice.status, 'restore');
  const reason = `Counter-notice received ${cn.receivedAt.toISOString().slice(0, 10)}; no court action reported by ${cn.restoreAfter.toISOString().slice(0, 10)}.`;
  const change = await restoreItems(tx, { itemIds: cn.itemIds, noticeId: notice.id, reason, actor: SYSTEM, at: now });
  // SPEC §19: images this notice removed from the pages the counter-notice named (which stayed
  // published) come back; on a page it named only by an image's URL, only the images it named.
  const named = await findItemsByUrls(tx, cn.urls, { baseUrl: base });
  const articles = new Set([...named.values()].map((i) => i.id));
  const images = await restoreImages(tx, {
    itemIds: cn.itemIds.filter((id) => articles.has(id)),
    images: { itemIds: cn.itemIds, urls: cn.urls },
    noticeId: notice.id,
    reason,
    actor: SYSTEM,
    at: now,
  });
  const restoredIds = change.changed.map((i) => i.id);
  await markTargetsRestored(tx, notice.id, [...restoredIds, ...images.changed.map((g) => g.itemId)]);
  const before = notice.status;
  notice.status = next;
  await tx.getRepository(Notice).save(notice);
  await queueNoticeEvents(tx, deps, notice, { from: before, at: now });
  cn.status = 'restored';
  cn.restoredAt = now;
  await tx.getRepository(CounterNotice).save(cn);
  await record(tx, {
    actor: SYSTEM,
    action: 'notice.restored',
    subject: { type: 'notice', id: notice.reference },
    details: {
      before,
      after: next,
      counterNoticeId: cn.id,
      restoreAfter: cn.restoreAfter.toISOString(),
      restored: restoredIds,
      imagesRestored: images.changed.map((g) => ({ id: g.id, url: g.url, itemId: g.itemId })),
      releasedCopies: (change.releasedCopies ?? []).map((i) => i.id),
      unchanged: change.unchanged.map((u) => ({ id: u.item.id, reason: u.reason })),
    },
    at: now,
  });

  const items = [
    ...change.changed.map((i) => ({ title: i.title, url: itemPageUrl(base, i.slug) })),
    ...images.changed.map((g) => ({ title: `the image ${g.url} in ${g.item.title}`, url: itemPageUrl(base, g.item.slug) })),
  ];
  // Staydown (SPEC §13): copies held on the restored originals' account were released with them.
  const releasedCopies = (change.releasedCopies ?? []).map((i) => ({ title: i.title, url: itemPageUrl(base, i.slug) }));
  const data = {
    reference: notice.reference,
    items,
    releasedCopies,
    receivedAt: cn.receivedAt.toISOString(),
    restoredAt: now.toISOString(),
  };
  for (const r of await partiesOf(tx, notice, cn, cn.itemIds)) {
    await enqueue(
      tx,
      'content-restored',
      r.email,
      { ...data, name: r.name, isComplainant: r.role === 'complainant' },
      {
        noticeId: notice.id,
        dedupeKey: `content-restored:${cn.id}:${r.email}`,
      },
    );
  }
}

export interface RecordCourtAction {
  counterNoticeId: string;
  /** What the complainant reported (court, case number, date filed). */
  note: string;
  actor: Actor;
  context?: RequestContext;
}

/**
 * A moderator records that the complainant reported a court action before the restore date
 * (§ 512(g)(2)(C)): the notice → `upheld`, nothing is restored, every party is emailed, audited.
 * Refused (409) once the counter-notice is closed, e.g. when the restoration job got there first.
 */
export async function recordCourtAction(
  deps: CounterDeps,
  cmd: RecordCourtAction,
): Promise<{ counterNotice: CounterNotice; notice: Notice }> {
  const note = String(cmd.note ?? '').trim();
  if (note.length < 5 || note.length > 2000) {
    throw AppError.validation([
      {
        field: 'note',
        message:
          'Describe the court action the complainant reported: the court, the case number and when it was filed (5 to 2,000 characters).',
      },
    ]);
  }
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    // Lock order as in the job: the counter-notice, then its notice.
    const cn = await lockCounterNotice(tx, cmd.counterNoticeId);
    const notice = await lockNoticeById(tx, cn.noticeId);
    if (cn.status !== 'received') {
      throw AppError.conflict(
        'COUNTER_NOTICE.CLOSED',
        cn.status === 'restored'
          ? `The material of notice ${notice.reference} was already restored on ${cn.restoredAt?.toISOString().slice(0, 10)}; a court action can no longer be recorded here.`
          : `A court action was already recorded for notice ${notice.reference}.`,
      );
    }
    const next = transition(notice.status, 'uphold');
    const before = notice.status;
    notice.status = next;
    await tx.getRepository(Notice).save(notice);
    await queueNoticeEvents(tx, deps, notice, { from: before, at: now });
    const by = cmd.actor.type === 'user' ? cmd.actor.label : cmd.actor.type;
    cn.status = 'upheld';
    cn.courtAction = { note, recordedAt: now.toISOString(), recordedBy: by };
    await tx.getRepository(CounterNotice).save(cn);
    await record(tx, {
      actor: cmd.actor,
      action: 'notice.upheld',
      subject: { type: 'notice', id: notice.reference },
      details: { before, after: next, counterNoticeId: cn.id, courtAction: note, restoreAfter: cn.restoreAfter.toISOString() },
      context: cmd.context,
      at: now,
    });
    const items = (await itemsForMail(tx, cn.itemIds)).map((i) => ({
      title: i.title,
      url: itemPageUrl(deps.config.publicBaseUrl, i.slug),
    }));
    const data = {
      reference: notice.reference,
      items,
      note,
      receivedAt: cn.receivedAt.toISOString(),
      agentEmail: deps.config.dmcaAgent.email,
    };
    for (const r of await partiesOf(tx, notice, cn, cn.itemIds)) {
      await enqueue(
        tx,
        'removal-upheld',
        r.email,
        { ...data, name: r.name, isComplainant: r.role === 'complainant' },
        {
          noticeId: notice.id,
          dedupeKey: `removal-upheld:${cn.id}:${r.email}`,
          replyTo: deps.config.dmcaAgent.email,
        },
      );
    }
    return { counterNotice: cn, notice };
  });
}

/** The complainant, the counter-notifier and the sources' contacts, each address once. */
async function partiesOf(tx: EntityManager, notice: Notice, cn: CounterNotice, itemIds: string[]) {
  const out = new Map<string, { email: string; name: string; role: 'complainant' | 'publisher' }>();
  out.set(notice.email.toLowerCase(), { email: notice.email, name: notice.name, role: 'complainant' });
  if (!out.has(cn.email)) out.set(cn.email, { email: cn.email, name: cn.name, role: 'publisher' });
  for (const s of await sourceContactsOf(tx, itemIds)) {
    if (!out.has(s.email)) out.set(s.email, { email: s.email, name: s.name, role: 'publisher' });
  }
  return [...out.values()];
}
