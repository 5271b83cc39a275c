/** Edge caching (SPEC §16): the purge outbox and its worker. Other modules call `queuePurge`. */
export { EdgePurge, PURGE_STATUSES } from './edge-purge.entity';
export type { PurgeStatus } from './edge-purge.entity';
export { queuePurge, PURGE_CHANNEL } from './queue-purge';
export { createPurgeWorker, pruneEdgePurges, retryDelayMs as purgeRetryDelayMs } from './purge-worker';
export type { PurgeWorker, PurgeWorkerOptions, PurgeResult } from './purge-worker';
export { purgeTargets, sendPurge } from './purge-targets';
export type { PurgeTarget, PurgeRequest } from './purge-targets';
// The key names pages carry and purges name (shared with the routes that set the headers).
export { itemKey, sourceKey, sitemapPartKey, LIST_KEYS, ITEM_LISTS } from '../../shared/http-cache';
