/** Feeds: fetching (SSRF-guarded), parsing and importing sources' RSS/Atom feeds into the registry, on a schedule. */
export { importFeedNow, importDueSources, describeResult, entryToInput } from './import-feed';
export type { ImportDeps, ImportOptions } from './import-feed';
export { fetchFeed, FeedFetchError } from './fetch-feed';
export type { FetchFeedOptions } from './fetch-feed';
export { parseFeed, decodeFeed, FeedParseError } from './parse-feed';
export type { FeedEntry } from './parse-feed';
