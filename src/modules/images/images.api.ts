import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { requestContext } from '../../shared/http';
import { actorFrom } from '../../http/actor';
import { requireBearer, requireRole } from '../../http/guards';
import { releaseImage } from '../items';

/**
 * `POST /api/v1/images/:id/release` (bearer token, moderators and admins): the staff form's release
 * of an image staydown removed at import by mistake (SPEC §19), as the held items' release is
 * `POST /api/v1/items/:id/release` (§13). Shown again, audited `item.image_released`, never matched
 * against that fingerprint again; 404 for an unknown image, 409 for one not removed by a staydown match.
 */
export function imagesApi(deps: AppDeps): Router {
  const r = Router();
  const guard = [requireBearer(deps.db), requireRole('admin', 'moderator')];

  r.post('/images/:id/release', ...guard, async (req, res) => {
    const img = await withTransaction(deps.db, (tx) =>
      releaseImage(tx, { imageId: String(req.params.id), actor: actorFrom(req), context: requestContext(req), at: deps.clock.now() }),
    );
    res.json({
      id: img.id,
      itemId: img.itemId,
      url: img.url,
      position: img.position,
      status: img.status,
      releasedFrom: img.releasedFrom,
    });
  });
  return r;
}
