import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Item } from './item.entity';

/** Fetching: `pending` until the image worker fetched and hashed it, then `fetched` or `failed` (refused, unreachable). */
export const IMAGE_FETCH_STATUSES = ['pending', 'fetched', 'failed'] as const;
export type ImageFetchStatus = (typeof IMAGE_FETCH_STATUSES)[number];
/** On our page: `shown`, or `removed` (a notice about it was approved, or staydown matched it at import). */
export const IMAGE_STATUSES = ['shown', 'removed'] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

/** Why an image is removed: the notice (and, for a staydown match, the removed image it matched). */
export interface ImageRemoval {
  noticeId: string;
  reference: string;
  claimant: string;
  legalBasis: string;
  /** Staydown (SPEC §19): set when the image was removed at import because it matched the bank. */
  match?: { fingerprintId: string; matchedImageId: string; distance: number };
}

/**
 * One image of a republished item (SPEC §19), recorded at import from the sanitised content: its
 * URL at the origin, alt text, position among the item's images; once fetched (SSRF-guarded) its
 * SHA-256, 64-bit perceptual hash and a small thumbnail we serve ourselves. Owned by the items
 * module: the registry records it with the item, and the item page renders it (or its placeholder).
 */
@Entity({ name: 'item_images' })
@Check('item_images_fetch_status_check', `"fetch_status" IN ('pending', 'fetched', 'failed')`)
@Check('item_images_status_check', `"status" IN ('shown', 'removed')`)
@Check('item_images_removed_check', `"status" <> 'removed' OR "removal" IS NOT NULL`)
@Index('item_images_item_url_key', ['itemId', 'urlNormalised'], { unique: true })
@Index('item_images_url_idx', ['urlNormalised'])
@Index('item_images_due_idx', ['nextAttemptAt'], { where: `"fetch_status" = 'pending'` })
@Index('item_images_claimed_by_idx', ['claimedBy'], { where: `"claimed_by" IS NOT NULL` })
@Index('item_images_removed_by_notice_idx', ['removedByNoticeId'], { where: `"removed_by_notice_id" IS NOT NULL` })
export class ItemImage {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'item_id', type: 'uuid' })
  itemId: string;

  @ManyToOne(() => Item, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id' })
  item?: Relation<Item>;

  /** 1-based order of the image in the item's content. */
  @Column({ type: 'int' })
  position: number;

  /** The `src` as it is in our sanitised content (absolute, at the origin). */
  @Column({ type: 'varchar', length: 2048 })
  url: string;

  @Column({ name: 'url_normalised', type: 'varchar', length: 2048 })
  urlNormalised: string;

  @Column({ type: 'varchar', length: 1000, default: '' })
  alt: string;

  @Column({ name: 'fetch_status', type: 'varchar', length: 10, default: 'pending' })
  fetchStatus: ImageFetchStatus;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'fetch_error', type: 'varchar', length: 500, nullable: true })
  fetchError: string | null;

  @Column({ name: 'fetched_at', type: 'timestamptz', nullable: true })
  fetchedAt: Date | null;

  @Column({ type: 'char', length: 64, nullable: true })
  sha256: string | null;

  /** The 64-bit DCT perceptual hash, signed (see images/perceptual-hash.ts). */
  @Column({ type: 'bigint', nullable: true })
  phash: string | null;

  @Column({ type: 'varchar', length: 10, nullable: true })
  format: string | null;

  @Column({ type: 'int', nullable: true })
  width: number | null;

  @Column({ type: 'int', nullable: true })
  height: number | null;

  /** A JPEG ≤ 160 px, for staff and the complainant's status page (never hotlinked). */
  @Column({ type: 'bytea', nullable: true })
  thumbnail: Buffer | null;

  @Column({ type: 'varchar', length: 10, default: 'shown' })
  status: ImageStatus;

  @Column({ name: 'removed_at', type: 'timestamptz', nullable: true })
  removedAt: Date | null;

  @Column({ name: 'removed_by_notice_id', type: 'uuid', nullable: true })
  removedByNoticeId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  removal: ImageRemoval | null;

  /** Image fingerprints a moderator released this image from: never matched against them again. */
  @Column({ name: 'released_from', type: 'uuid', array: true, default: () => "'{}'" })
  releasedFrom: string[];

  @Column({ name: 'claimed_by', type: 'uuid', nullable: true })
  claimedBy: string | null;

  @Column({ name: 'claimed_at', type: 'timestamptz', nullable: true })
  claimedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
