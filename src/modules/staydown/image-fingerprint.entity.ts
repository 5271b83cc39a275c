import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { FingerprintRemoval } from './content-fingerprint.entity';

/**
 * The image side of the staydown bank (SPEC §19): one row per removed image, added in the removal's
 * transaction, with its 64-bit perceptual hash. A hashed image is matched by Hamming distance
 * (`bit_count((phash # $1)::bit(64))`, PostgreSQL ≥ 14) against the live rows. Retired (kept) when the image
 * is restored after a counter-notice.
 */
@Entity({ name: 'image_fingerprints' })
@Index('image_fingerprints_image_idx', ['imageId'])
@Index('image_fingerprints_live_idx', ['phash'], { where: `"retired_at" IS NULL` })
export class ImageFingerprint {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The removed image (`item_images`, items module; no foreign key, as for content fingerprints). */
  @Column({ name: 'image_id', type: 'uuid' })
  imageId: string;

  @Column({ name: 'item_id', type: 'uuid' })
  itemId: string;

  @Column({ name: 'notice_id', type: 'uuid' })
  noticeId: string;

  @Column({ type: 'jsonb' })
  removal: FingerprintRemoval;

  @Column({ type: 'bigint' })
  phash: string;

  @Column({ type: 'char', length: 64 })
  sha256: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt: Date | null;
}
