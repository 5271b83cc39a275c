/** The registry of republished items: what other modules may use. */
export { Source, SOURCE_STATUSES } from './source.entity';
export type { SourceStatus, FetchResult } from './source.entity';
export { Item, ITEM_STATUSES } from './item.entity';
export type { ItemStatus, ItemRemoval, ItemHold, RightsSignals } from './item.entity';

// Lookups (issue 5 matches notice URLs with findItemsByUrls).
export {
  findItemsByUrls, findItemById, findItemBySlug, findSourceById, findSourcesByDomain, itemPageUrl, slugOfPageUrl,
} from './items.queries';

// Content changes for the review, counter-notice and opt-out issues.
export { removeItems, restoreItems, withdrawSource } from './remove-items';
export type { RemoveItems, RestoreItems, WithdrawSource, ContentChange } from './remove-items';
export { releaseHeldItem, releaseHeldOn, countHeld } from './held-items';
export { createSource, setSourceStatus, renameSource } from './manage-sources';
export { addItem, importItemsFile } from './add-items';

// Feed import and the scheduler.
export { importFeedNow, importDueSources } from './import-feed';
export type { ImportDeps, ImportOptions } from './import-feed';

// The page cache's cross-instance invalidation (server.ts starts the listener).
export { startPageCacheListener, pageCacheFor, notifyItemsChanged } from './page-cache';
export type { CacheListener } from './page-cache';

// Demo data.
export { seedDemo, seedDemoIfEmpty } from './seed-demo';

// HTTP.
export { publicItemRoutes } from './items.routes';
export { sourcesRoutes, describeResult } from './sources.routes';
export { itemsAdminRoutes } from './items-admin.routes';
export { itemsApi } from './items.api';
