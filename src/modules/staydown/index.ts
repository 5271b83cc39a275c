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
