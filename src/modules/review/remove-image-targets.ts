import { EntityManager } from 'typeorm';
import { Actor, RequestContext } from '../audit';
import { ImageChange, removeImages } from '../items';
import { claimantOf, legalBasisOf, Notice, NoticeTarget } from '../notices';

/**
 * An approval's image targets (SPEC §19): each named image is removed from its page (the article
 * stays published), audited `item.image_removed`, and joins the image bank. Returns the change and
 * the targets whose image is down (removed now, or already by another notice).
 */
export async function removeImageTargets(
  tx: EntityManager,
  notice: Notice,
  targets: NoticeTarget[],
  cmd: { actor: Actor; context?: RequestContext; at: Date },
): Promise<{ change: ImageChange; down: NoticeTarget[] }> {
  if (!targets.length) return { change: { changed: [], unchanged: [] }, down: [] };
  const change = await removeImages(tx, {
    imageIds: targets.map((t) => t.imageId!),
    removal: {
      noticeId: notice.id,
      reference: notice.reference,
      claimant: claimantOf(notice)?.trim() || '[private]',
      legalBasis: legalBasisOf(notice),
    },
    actor: cmd.actor,
    context: cmd.context,
    at: cmd.at,
  });
  const downIds = new Set([...change.changed.map((g) => g.id), ...change.unchanged.map((u) => u.imageId)]);
  return { change, down: targets.filter((t) => downIds.has(t.imageId!)) };
}
