/** Evidence side by side (SPEC §15): our copy beside the claimed original, similarity, related notices. No router here. */
export { compareTexts } from './compare-texts';
export type { Comparison, Segment } from './compare-texts';
export { originalFetcher, pageText } from './fetch-original';
export type { Original } from './fetch-original';
export { relatedNotices } from './evidence.queries';
