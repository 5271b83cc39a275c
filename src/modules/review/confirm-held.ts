import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { record, RequestContext } from '../audit';
import { findItemById, Item, itemPageUrl, removeItems } from '../items';
import { enqueue } from '../mail';
import { Notice } from '../notices';
import { addStrikes } from './add-strikes';
import { auditActor, ReviewDeps, StaffActor } from './review-support';

/**
 * A moderator confirms a held copy (SPEC §13): it is removed under the notice that removed the
 * original, through the normal removal path (451 naming that notice, its fingerprint joins the
 * bank), its source is struck as for any approved notice (one strike per source and notice) and
 * its contact is emailed with the counter-notice route. One transaction.
 */
export async function confirmHeldItem(
  deps: ReviewDeps,
  cmd: { itemId: string; actor: StaffActor; context?: RequestContext },
): Promise<{ item: Item; notice: Notice }> {
  const base = deps.config.publicBaseUrl;
  return withTransaction(deps.db, async (tx) => {
    const now = deps.clock.now();
    const found = await findItemById(tx, cmd.itemId);
    if (!found) throw AppError.notFound('Item', 'ITEM.NOT_FOUND');
    if (found.status !== 'held' || !found.held)
      throw AppError.conflict('ITEM.NOT_HELD', `This item is ${found.status}, not held: there is nothing to confirm.`);
    const hold = found.held;
    const notice = await tx.getRepository(Notice).findOneBy({ id: hold.noticeId });
    if (!notice) throw AppError.conflict('ITEM.HOLD_NOTICE_MISSING', 'The notice this item is held on no longer exists.');
    const change = await removeItems(tx, {
      itemIds: [found.id],
      noticeId: notice.id,
      reference: hold.noticeReference,
      claimant: hold.claimant === '[private]' ? null : hold.claimant,
      legalBasis: hold.legalBasis,
      actor: auditActor(cmd.actor),
      context: cmd.context,
      at: now,
    });
    const item = change.changed[0];
    if (!item) throw AppError.conflict('ITEM.NOT_HELD', 'This item changed meanwhile; reload the page.');
    const strikes = await addStrikes(tx, deps, notice, [item.sourceId], now);
    await record(tx, {
      actor: auditActor(cmd.actor),
      action: 'item.hold_confirmed',
      subject: { type: 'item', id: item.id },
      details: { slug: item.slug, title: item.title, before: 'held', after: 'removed', ...hold, strikes },
      context: cmd.context,
      at: now,
    });
    const source = found.source;
    if (source?.contactEmail) {
      await enqueue(
        tx,
        'content-removed',
        source.contactEmail,
        {
          sourceName: source.name,
          reference: notice.reference,
          claimant: hold.claimant,
          legalBasis: hold.legalBasis,
          items: [{ url: itemPageUrl(base, item.slug), title: item.title, originalUrl: item.originalUrl }],
          counterNoticeUrl: `${base}/counter-notice?notice=${notice.reference}`,
          policyUrl: `${base}/dmca`,
          restoreBusinessDays: deps.config.policy.restoreBusinessDays,
        },
        { noticeId: notice.id, dedupeKey: `content-removed:held:${item.id}` },
      );
    }
    return { item, notice };
  });
}
