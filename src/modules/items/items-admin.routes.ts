import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import { noStore, validateBody } from '../../shared/http';

import { historyOf, subjectLink } from '../audit';
import { ItemSearchDto, ITEM_STATUS_FILTER } from './items.dto';
import { decodeCursor, findItemById, itemPageUrl, listSources, noticesNamingItem, searchItems } from './items.queries';
import { imagesOfItem } from './item-images';
import { requireStaff } from '../../http/guards';

/** Staff pages for items: search and filter the registry; one item's provenance and history. */
export function itemsAdminRoutes(deps: AppDeps): Router {
  const r = Router();
  r.use('/items', noStore, requireStaff);

  r.get('/items', async (req, res) => {
    const dto = await validateBody(ItemSearchDto, { ...req.query });
    const [{ items, next }, sources] = await Promise.all([
      searchItems(
        deps.db.manager,
        { q: dto.q, sourceId: dto.source, status: dto.status, after: decodeCursor(dto.cursor), limit: 50 },
        deps.config.publicBaseUrl,
      ),
      listSources(deps.db.manager),
    ]);
    const keep = new URLSearchParams();
    if (dto.q) keep.set('q', dto.q);
    if (dto.source) keep.set('source', dto.source);
    if (dto.status) keep.set('status', dto.status);
    if (next) keep.set('cursor', next);
    res.render('items/admin-list', {
      title: 'Items',
      items,
      sources: sources.map((s) => ({ id: s.id, name: s.name, selected: s.id === dto.source })),
      statuses: ITEM_STATUS_FILTER.map((s) => ({ value: s, selected: s === dto.status })),
      q: dto.q ?? '',
      nextUrl: next ? `/items?${keep.toString()}` : null,
      paged: !!dto.cursor,
    });
  });

  r.get('/items/:id/admin', async (req, res) => {
    const item = await findItemById(deps.db.manager, String(req.params.id));
    if (!item) throw AppError.notFound('Item', 'ITEM.NOT_FOUND');
    const history = (await historyOf(deps.db.manager, { type: 'item', id: item.id }, 200)).map((e) => ({
      ...e,
      link: subjectLink(e.subjectType, e.subjectId),
      summary: summarise(e.details),
    }));
    res.render('items/admin-show', {
      title: item.title,
      item,
      source: item.source,
      pageUrl: itemPageUrl(deps.config.publicBaseUrl, item.slug),
      rights: Object.entries(item.rights ?? {}).map(([k, v]) => ({ label: RIGHTS_LABELS[k] ?? k, value: v })),
      notices: await noticesNamingItem(deps.db.manager, item.id),
      images: await imagesOfItem(deps.db.manager, item.id),
      history,
    });
  });
  return r;
}

const RIGHTS_LABELS: Record<string, string> = {
  copyright: 'RSS <copyright>',
  dcRights: 'dc:rights',
  creativeCommons: 'Creative Commons licence',
  atomRights: 'Atom <rights>',
};

function summarise(d: Record<string, unknown>): string {
  const parts: string[] = [];
  if (d.before && d.after) parts.push(`${d.before} → ${d.after}`);
  if (d.reference) parts.push(`notice ${d.reference}`);
  if (d.reason) parts.push(String(d.reason));
  return parts.join('; ');
}
