/** Staydown (SPEC §13): the fingerprint bank and the near-duplicate signature. No router here. */
export { ContentFingerprint, ContentFingerprintBand, StaydownException } from './content-fingerprint.entity';
export type { FingerprintRemoval } from './content-fingerprint.entity';
export {
  addFingerprints,
  bankStats,
  DEFAULT_STAYDOWN_SIMILARITY,
  findMatches,
  insertBands,
  recordException,
  removedWithoutFingerprint,
  retireFingerprints,
} from './bank';
export type { BankEntry, BankMatch, Candidate } from './bank';
export { backfillFingerprints } from './backfill';
export { markDifferences, signatureOf, similarityOf } from './signature';
export type { Signature } from './signature';
// Images (SPEC §19): the image side of the bank.
export { ImageFingerprint } from './image-fingerprint.entity';
export { addImageFingerprints, DEFAULT_IMAGE_DISTANCE, findImageMatch, imageBankSize, retireImageFingerprints } from './image-bank';
export type { ImageBankEntry, ImageBankMatch } from './image-bank';
