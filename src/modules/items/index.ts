/** The registry of republished items: what other modules may use. */
export { Source, SOURCE_STATUSES } from './source.entity';
export type { SourceStatus, FetchResult } from './source.entity';
export { Item, ITEM_STATUSES } from './item.entity';
export type { ItemStatus, ItemRemoval, ItemHold, RightsSignals } from './item.entity';
export type { ItemMatch } from './items.queries';

// Lookups (notices match their URLs with findItemsByUrls, or with itemMatch inside their own statement).
export {
  findItemsByUrls,
  itemMatch,
  findItemById,
  findItemBySlug,
  findSourcesByDomain,
  itemPageUrl,
  slugOfPageUrl,
  sourceContactsOf,
} from './items.queries';

// Content changes: removal and restoration (review, counter-notices), withdrawal (opt-out).
export { removeItems, restoreItems, withdrawSource } from './remove-items';
export { restoreSourceRemovals } from './restore-source-removals';
export type { RestoreSourceRemovals } from './restore-source-removals';
export type { RemoveItems, RestoreItems, WithdrawSource, ContentChange } from './remove-items';
export { releaseHeldItem, releaseHeldOn, countHeld } from './held-items';
export { createSource, setSourceStatus, setStrikeCount } from './manage-sources';
export { addItem, importItemsFile } from './add-items';

// The page cache's cross-instance invalidation (server.ts starts the listener).
export { startPageCacheListener, pageCacheFor, notifyItemsChanged } from './page-cache';
export type { CacheListener } from './page-cache';

// For the feeds module: the registry's upsert (it sanitises every way in: feeds, API, files) and source locks.
export { upsertItems, purgeUpserted, sha256, SKIP } from './upsert-items';
export type { ItemInput, UpsertResult, UpsertSeen } from './upsert-items';
// Item aliases (issue 21): every address an item is known by; feeds name them, the registry keeps them.
export { ItemAlias, ALIAS_KINDS } from './item-alias.entity';
export type { AliasKind, ItemAddress } from './item-alias.entity';
export { lockSource } from './manage-sources';
export { htmlToText, sanitiseContent } from './sanitise';
// Images (SPEC §19): recorded at import, fetched and hashed by the images module's worker, removed one by one.
export { ItemImage, IMAGE_STATUSES, IMAGE_FETCH_STATUSES } from './item-image.entity';
export type { ImageRemoval, ImageStatus, ImageFetchStatus } from './item-image.entity';
export {
  claimImagesToFetch,
  findImagesByUrls,
  imagesChecked,
  imagesOf,
  imagesOfItem,
  releaseImage,
  removeImages,
  restoreImages,
  storeImageFacts,
  storeImageFailure,
  thumbnailOf,
} from './item-images';
export type { ImageChange, ImageInItem, RemoveImages, RestoreImages, ImageFactsToStore, StoredImage } from './item-images';
