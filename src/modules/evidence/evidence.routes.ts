import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { noStore } from '../../shared/http';
import { requireRole, requireStaff } from '../../http/guards';
import { compareTexts } from './compare-texts';
import { evidenceNotice, matchedTargets, relatedNotices } from './evidence.queries';
import { originalFetcher, pageText } from './fetch-original';

/** Matched URLs compared with the original per page view (the rest are listed without a comparison). */
const COMPARED = 10;

/**
 * `GET /notices/:reference/evidence` (staff; SPEC §15): per matched target, our copy beside the
 * claimed original (`?original=N` picks one of the notice's original URLs; the first by default),
 * fetched on demand when this page is opened, with the similarity and the differing passages
 * marked; then the other notices about the same items, sources and from the same claimant.
 */
export function evidenceRoutes(deps: AppDeps, fetchOriginal = originalFetcher(deps)): Router {
  const r = Router();
  r.get('/notices/:reference/evidence', noStore, requireStaff, requireRole('admin', 'moderator'), async (req, res) => {
    const notice = await evidenceNotice(deps.db.manager, String(req.params.reference).toUpperCase());
    if (!notice) throw AppError.notFound('Notice', 'NOTICE.NOT_FOUND');
    const asked = Number(typeof req.query.original === 'string' ? req.query.original : 0);
    const index = Number.isInteger(asked) && asked >= 0 && asked < notice.originalUrls.length ? asked : 0;
    const originalUrl = notice.originalUrls[index] ?? null;
    const targets = await matchedTargets(deps.db.manager, notice.id);
    const [original, related] = await Promise.all([
      originalUrl && targets.length ? fetchOriginal(originalUrl) : Promise.resolve(null),
      relatedNotices(
        deps.db.manager,
        notice,
        [...new Set(targets.map((t) => t.item.id))],
        [...new Set(targets.map((t) => t.item.sourceId))],
      ),
    ]);
    // Each diff is bounded in time; so is their number, so one page cannot hold the process for long.
    const compared = targets.map((t, i) => ({
      ...t,
      comparison: original?.ok && i < COMPARED ? compareTexts(pageText(`<article>${t.item.content}</article>`), original.text) : null,
    }));
    res.render('evidence/index', {
      title: `Evidence for ${notice.reference}`,
      notice,
      originals: notice.originalUrls.map((url, i) => ({ url, index: i, current: i === index })),
      originalUrl,
      original,
      targets: compared,
      notCompared: original?.ok && targets.length > COMPARED ? targets.length - COMPARED : 0,
      compared: COMPARED,
      related,
    });
  });
  return r;
}
