import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { requestContext, validateBody } from '../../shared/http';

import { addItem } from './add-items';
import { importFeedNow } from '../feeds';
import { Item } from './item.entity';
import { CreateItemDto, CreateSourceDto, ItemSearchDto } from './items.dto';
import { decodeCursor, findItemById, itemPageUrl, listSources, searchItems } from './items.queries';
import { imagesOfItem } from './item-images';
import { createSource } from './manage-sources';
import { Source } from './source.entity';
import { requireBearer, requireRole } from '../../http/guards';
import { actorFrom } from '../../http/actor';

export function itemJson(item: Item, baseUrl: string, withContent = false) {
  return {
    id: item.id,
    slug: item.slug,
    url: itemPageUrl(baseUrl, item.slug),
    title: item.title,
    author: item.author,
    status: item.status,
    originalUrl: item.originalUrl,
    originalUrlNormalised: item.originalUrlNormalised,
    source: item.source ? { id: item.source.id, name: item.source.name } : { id: item.sourceId },
    guid: item.guid,
    feedUrl: item.feedUrl,
    sourcePublishedAt: item.sourcePublishedAt,
    firstFetchedAt: item.firstFetchedAt,
    lastFetchedAt: item.lastFetchedAt,
    rawSha256: item.rawSha256,
    rights: item.rights,
    excerpt: item.excerpt,
    ...(withContent ? { content: item.content } : {}),
    removedAt: item.removedAt,
    removal: item.removal,
    ...(item.status === 'held' && item.held
      ? {
          heldBecause: {
            noticeReference: item.held.noticeReference,
            matchedItemId: item.held.matchedItemId,
            similarity: item.held.similarity,
          },
        }
      : {}),
    withdrawnAt: item.withdrawnAt,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

export function sourceJson(s: Source) {
  return {
    id: s.id,
    name: s.name,
    domains: s.domains,
    feedUrl: s.feedUrl,
    contactEmail: s.contactEmail,
    status: s.status,
    strikeCount: s.strikeCount,
    lastFetchAt: s.lastFetchAt,
    lastFetchResult: s.lastFetchResult,
    nextFetchAt: s.nextFetchAt,
    createdAt: s.createdAt,
  };
}

/** Staff API for the registry (`Authorization: Bearer`): moderators and admins; creating sources is for admins. */
export function itemsApi(deps: AppDeps): Router {
  const r = Router();
  const auth = requireBearer(deps.db);
  const base = deps.config.publicBaseUrl;

  r.get('/items', auth, async (req, res) => {
    const dto = await validateBody(ItemSearchDto, { ...req.query });
    const { items, next } = await searchItems(
      deps.db.manager,
      { q: dto.q, sourceId: dto.source, status: dto.status, after: decodeCursor(dto.cursor), limit: 100 },
      base,
    );
    res.json({ items: items.map((i) => itemJson(i, base)), nextCursor: next });
  });

  r.get('/items/:id', auth, async (req, res) => {
    const item = await findItemById(deps.db.manager, String(req.params.id));
    if (!item) throw AppError.notFound('Item', 'ITEM.NOT_FOUND');
    // SPEC §19: the item's images with their status.
    const images = (await imagesOfItem(deps.db.manager, item.id)).map((g) => ({
      id: g.id,
      position: g.position,
      url: g.url,
      alt: g.alt,
      status: g.status,
      fetchStatus: g.fetchStatus,
      sha256: g.sha256,
      perceptualHash: g.phash,
      removedBy: g.removal ? { noticeReference: g.removal.reference, staydownMatch: g.removal.match ?? null } : null,
    }));
    res.json({ ...itemJson(item, base, true), images });
  });

  r.post('/items', auth, async (req, res) => {
    const dto = await validateBody(CreateItemDto, req.body);
    const { item, outcome } = await withTransaction(deps.db, (tx) =>
      addItem(tx, {
        dto,
        actor: actorFrom(req),
        context: requestContext(req),
        now: deps.clock.now(),
        staydownSimilarity: deps.config.policy.staydownSimilarity,
      }),
    );
    res.status(outcome === 'created' ? 201 : 200).json({ outcome, item: itemJson(item, base, true) });
  });

  r.get('/sources', auth, async (_req, res) => {
    res.json({ sources: (await listSources(deps.db.manager)).map(sourceJson) });
  });

  r.post('/sources', auth, requireRole('admin'), async (req, res) => {
    const dto = await validateBody(CreateSourceDto, req.body);
    const source = await withTransaction(deps.db, (tx) =>
      createSource(tx, { ...dto, actor: actorFrom(req), context: requestContext(req), at: deps.clock.now() }),
    );
    res.status(201).json(sourceJson(source));
  });

  r.post('/sources/:id/fetch', auth, async (req, res) => {
    const result = await importFeedNow(deps, String(req.params.id), { actor: actorFrom(req), context: requestContext(req) });
    // The import ran: a feed that failed is reported in the body (ok: false, reason), not as an HTTP error.
    res.json(result);
  });

  return r;
}
