import { Request, Response, Router } from 'express';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { noStore, requestContext } from '../../shared/http';
import { actorFrom, staffActorFrom } from '../../http/actor';
import { requireBearer, requireRole, requireStaff } from '../../http/guards';
import { countHeld, findItemById, Item, itemPageUrl, releaseHeldItem } from '../items';
import { confirmHeldItem } from '../review';
import { markDifferences } from './signature';

/**
 * Staydown for moderators (SPEC §13): the held items beside the removed originals they matched,
 * and the two decisions, release and confirm, as staff forms (CSRF by the staff router) and API calls.
 */

/** Held items, oldest first (the order they wait in), with the original each matched. */
async function heldPage(deps: AppDeps, after: string | null, limit: number) {
  const rows: { id: string }[] = await deps.db.query(
    `SELECT id FROM items WHERE status = 'held' ${after ? 'AND (listed_at, id) > (SELECT listed_at, id FROM items WHERE id = $2)' : ''}
      ORDER BY listed_at, id LIMIT $1`,
    after ? [limit + 1, after] : [limit + 1],
  );
  const page = rows.slice(0, limit);
  const out = [];
  for (const { id } of page) {
    const item = await findItemById(deps.db.manager, id);
    if (!item?.held) continue;
    const original = await findItemById(deps.db.manager, item.held.matchedItemId);
    const diff = original
      ? markDifferences({ title: original.title, html: original.content }, { title: item.title, html: item.content })
      : null;
    out.push({ item, original, diff, hold: item.held });
  }
  return { rows: out, next: rows.length > limit ? page[page.length - 1].id : null };
}

export function heldItemsPages(deps: AppDeps): Router {
  const r = Router();
  const guard = [noStore, requireStaff, requireRole('admin', 'moderator')];

  r.get('/items', ...guard, async (req: Request, res: Response, next) => {
    if (req.query.status !== 'held') return next();
    const after = typeof req.query.after === 'string' && /^[0-9a-f-]{36}$/i.test(req.query.after) ? req.query.after : null;
    const [{ rows, next: more }, total] = await Promise.all([heldPage(deps, after, 20), countHeld(deps.db.manager)]);
    res.render('staydown/held', {
      title: 'Held items',
      total,
      rows: rows.map((r) => ({
        ...r,
        similarityPercent: Math.round(r.hold.similarity * 100),
        pageUrl: itemPageUrl(deps.config.publicBaseUrl, r.item.slug),
      })),
      nextUrl: more ? `/items?status=held&after=${more}` : null,
    });
  });

  r.post('/items/:id/release', ...guard, async (req, res) => {
    const item = await withTransaction(deps.db, (tx) =>
      releaseHeldItem(tx, { itemId: String(req.params.id), actor: actorFrom(req), context: requestContext(req), at: deps.clock.now() }),
    );
    req.session.flash = { kind: 'ok', message: `Released: "${item.title}" is ${item.status} and will not be held again for this match.` };
    res.redirect(303, '/items?status=held');
  });

  r.post('/items/:id/confirm', ...guard, async (req, res) => {
    const { item, notice } = await confirmHeldItem(deps, {
      itemId: String(req.params.id),
      actor: staffActorFrom(req),
      context: requestContext(req),
    });
    req.session.flash = { kind: 'ok', message: `Confirmed: "${item.title}" is removed under ${notice.reference}; its source was emailed.` };
    res.redirect(303, '/items?status=held');
  });
  return r;
}

const heldJson = (item: Item) => ({
  id: item.id,
  slug: item.slug,
  status: item.status,
  title: item.title,
  ...(item.removal ? { removal: item.removal } : {}),
});

/** `POST /api/v1/items/:id/release|confirm` (bearer token, moderators and admins). */
export function heldItemsApi(deps: AppDeps): Router {
  const r = Router();
  const guard = [requireBearer(deps.db), requireRole('admin', 'moderator')];

  r.post('/items/:id/release', ...guard, async (req, res) => {
    const item = await withTransaction(deps.db, (tx) =>
      releaseHeldItem(tx, { itemId: String(req.params.id), actor: actorFrom(req), context: requestContext(req), at: deps.clock.now() }),
    );
    res.json(heldJson(item));
  });

  r.post('/items/:id/confirm', ...guard, async (req, res) => {
    const { item, notice } = await confirmHeldItem(deps, {
      itemId: String(req.params.id),
      actor: staffActorFrom(req),
      context: requestContext(req),
    });
    res.json({ ...heldJson(item), noticeReference: notice.reference });
  });
  return r;
}
