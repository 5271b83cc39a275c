import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** What the 451 page of a held copy shows: the removal of the original it matched (SPEC §5, §13). */
export interface FingerprintRemoval {
  noticeId: string;
  reference: string;
  claimant: string;
  legalBasis: string;
}

/**
 * The fingerprint bank (SPEC §13): one row per removed item, added in the removal's transaction.
 * Exact matches use the partial indexes on the raw SHA-256 and the normalised original URL; near
 * duplicates are found through `content_fingerprint_bands` and verified on `shingles`. A restored
 * original's row is retired (kept for the record, its bands deleted), never deleted.
 */
@Entity({ name: 'content_fingerprints' })
@Index('content_fingerprints_raw_sha256_idx', ['rawSha256'], { where: `"retired_at" IS NULL` })
@Index('content_fingerprints_original_url_idx', ['originalUrlNormalised'], { where: `"retired_at" IS NULL` })
@Index('content_fingerprints_item_idx', ['itemId'])
export class ContentFingerprint {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The removed item (items module; no foreign key, like `items.removed_by_notice_id`). */
  @Column({ name: 'item_id', type: 'uuid' })
  itemId: string;

  @Column({ name: 'notice_id', type: 'uuid' })
  noticeId: string;

  @Column({ type: 'jsonb' })
  removal: FingerprintRemoval;

  @Column({ name: 'raw_sha256', type: 'char', length: 64 })
  rawSha256: string;

  @Column({ name: 'original_url_normalised', type: 'varchar', length: 2048 })
  originalUrlNormalised: string;

  /** The sorted 32-bit shingle hashes of the normalised text (signature.ts). */
  @Column({ type: 'int', array: true })
  shingles: number[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** Set when the original was restored (counter-notice): no longer matched. */
  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt: Date | null;
}

/**
 * The LSH index: one row per (band value, fingerprint) of a live fingerprint. A lookup is
 * `band = ANY(…)` on the primary key, never a scan. No second index: a retirement recomputes the
 * band values from the stored shingles and deletes by primary key.
 */
@Entity({ name: 'content_fingerprint_bands' })
export class ContentFingerprintBand {
  @PrimaryColumn({ type: 'bigint' })
  band: string;

  @PrimaryColumn({ name: 'fingerprint_id', type: 'uuid' })
  fingerprintId: string;

  @ManyToOne(() => ContentFingerprint, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'fingerprint_id' })
  fingerprint?: ContentFingerprint;
}

/** A moderator released a held item: this (item, fingerprint) match never holds it again. */
@Entity({ name: 'staydown_exceptions' })
export class StaydownException {
  @PrimaryColumn({ name: 'item_id', type: 'uuid' })
  itemId: string;

  @PrimaryColumn({ name: 'fingerprint_id', type: 'uuid' })
  fingerprintId: string;

  @ManyToOne(() => ContentFingerprint, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'fingerprint_id' })
  fingerprint?: ContentFingerprint;

  @Column({ name: 'created_by', type: 'varchar', length: 200 })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
