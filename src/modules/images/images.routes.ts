import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { noStore, requestContext } from '../../shared/http';
import { actorFrom } from '../../http/actor';
import { requireRole, requireStaff } from '../../http/guards';
import { releaseImage, thumbnailOf } from '../items';

/**
 * Images for staff (SPEC §19): the thumbnail we keep of each fetched image (staff pages show it,
 * never the claimant's or the source's copy), and the release of an image staydown removed at
 * import by mistake (a form, CSRF by the staff router).
 */
export function imagesStaffRoutes(deps: AppDeps): Router {
  const r = Router();
  const guard = [noStore, requireStaff, requireRole('admin', 'moderator')];

  r.get('/images/:id/thumbnail', ...guard, async (req, res) => {
    const thumb = await thumbnailOf(deps.db.manager, String(req.params.id));
    if (!thumb) throw AppError.notFound('Image', 'IMAGE.NOT_FOUND');
    sendThumbnail(res, thumb);
  });

  r.post('/images/:id/release', ...guard, async (req, res) => {
    const img = await withTransaction(deps.db, (tx) =>
      releaseImage(tx, { imageId: String(req.params.id), actor: actorFrom(req), context: requestContext(req), at: deps.clock.now() }),
    );
    req.session.flash = {
      kind: 'ok',
      message: `Released: the image is shown again on "${img.item.title}" and will not be removed again for this match.`,
    };
    res.redirect(303, `/items/${img.itemId}/admin`);
  });
  return r;
}

/** A stored JPEG thumbnail, never sniffed as anything else, private to whoever may see it. */
export function sendThumbnail(res: import('express').Response, thumb: Buffer): void {
  res.set({ 'Content-Type': 'image/jpeg', 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'private, max-age=300' });
  res.send(thumb);
}
