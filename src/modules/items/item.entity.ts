import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Source } from './source.entity';

/** `held`: an imported copy of removed content, waiting for a moderator (SPEC §13). */
export const ITEM_STATUSES = ['published', 'removed', 'withdrawn', 'held'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

/** Rights statements seen in the feed at import (provenance, SPEC §9). */
export interface RightsSignals {
  /** RSS `<copyright>` of the channel. */
  copyright?: string;
  /** `dc:rights` of the entry, or else of the channel. */
  dcRights?: string;
  /** A Creative Commons licence URL (`creativeCommons:license`, `cc:license`, `<link rel="license">`). */
  creativeCommons?: string;
  /** Atom `<rights>` of the entry, or else of the feed. */
  atomRights?: string;
}

/**
 * What the 451 page shows for a removed item (SPEC §5). Copied here by `removeItems` from the
 * notice that removed it, so the public page needs nothing but this row.
 */
export interface ItemRemoval {
  noticeId: string;
  reference: string;
  /** The claimant organisation's name, or "[private]" for a person. */
  claimant: string;
  legalBasis: string;
}

/** Why an item is held (SPEC §13): the removed original it matched, and that original's removal. */
export interface ItemHold {
  fingerprintId: string;
  matchedItemId: string;
  noticeId: string;
  noticeReference: string;
  claimant: string;
  legalBasis: string;
  /** Containment similarity, 1 for an exact match. */
  similarity: number;
  /** How it matched: the raw SHA-256, the normalised original URL, or the text. */
  match: 'raw_sha256' | 'original_url' | 'text';
}

/** One republished item (SPEC §2). Nothing is ever deleted: removal and withdrawal are statuses. */
@Entity({ name: 'items' })
@Check('items_status_check', `"status" IN ('published', 'removed', 'withdrawn', 'held')`)
@Check('items_held_check', `"status" <> 'held' OR "held" IS NOT NULL`)
@Check('items_removed_check', `"status" <> 'removed' OR ("removed_at" IS NOT NULL AND "removal" IS NOT NULL)`)
@Index('items_source_guid_key', ['sourceId', 'guid'], { unique: true })
@Index('items_published_idx', ['listedAt', 'id'], { where: `"status" = 'published'` })
@Index('items_source_listed_idx', ['sourceId', 'listedAt', 'id'])
@Index('items_listed_idx', ['listedAt', 'id'])
@Index('items_held_idx', ['listedAt', 'id'], { where: `"status" = 'held'` })
@Index('items_removed_by_notice_idx', ['removedByNoticeId'], { where: `"removed_by_notice_id" IS NOT NULL` })
// Staff search by title: a trigram GIN index, created by hand in the migration (TypeORM cannot
// declare GIN); `synchronize: false` tells the drift check it exists on purpose.
@Index('items_title_trgm_idx', { synchronize: false })
export class Item {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'source_id', type: 'uuid' })
  sourceId: string;

  @ManyToOne(() => Source, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'source_id' })
  source?: Source;

  /** The page is /items/<slug>: a readable part from the title and 8 hex of SHA-256(source, guid). */
  @Index('items_slug_key', { unique: true })
  @Column({ type: 'varchar', length: 120 })
  slug: string;

  @Column({ type: 'varchar', length: 500 })
  title: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  author: string | null;

  @Column({ name: 'original_url', type: 'varchar', length: 2048 })
  originalUrl: string;

  /** `normaliseUrl(originalUrl)`: one item per original page, found by any spelling of its URL. */
  @Index('items_original_url_key', { unique: true })
  @Column({ name: 'original_url_normalised', type: 'varchar', length: 2048 })
  originalUrlNormalised: string;

  /** The feed entry's guid (RSS `<guid>`, Atom `<id>`), else its link; unique per source. */
  @Column({ type: 'varchar', length: 1000 })
  guid: string;

  /** The feed it was first fetched from (null: added through the API or a file). */
  @Column({ name: 'feed_url', type: 'varchar', length: 2048, nullable: true })
  feedUrl: string | null;

  /** The source's own published date (RSS pubDate, Atom published/updated). */
  @Column({ name: 'source_published_at', type: 'timestamptz', nullable: true })
  sourcePublishedAt: Date | null;

  /** When we first fetched it: the evidence against backdated-copy claims. Never changes. */
  @Column({ name: 'first_fetched_at', type: 'timestamptz' })
  firstFetchedAt: Date;

  /** When the content last changed from the source. */
  @Column({ name: 'last_fetched_at', type: 'timestamptz' })
  lastFetchedAt: Date;

  /** The order on the public site: the source's date (not in the future), else our first fetch. */
  @Column({ name: 'listed_at', type: 'timestamptz' })
  listedAt: Date;

  /** SHA-256 (hex) of the raw feed entry, exactly as it was in the feed; of the JSON for API items. */
  @Column({ name: 'raw_sha256', type: 'char', length: 64 })
  rawSha256: string;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  rights: RightsSignals;

  /** Sanitised HTML (sanitise.ts): the only HTML the public pages output unescaped. */
  @Column({ type: 'text', default: '' })
  content: string;

  /** Plain text. */
  @Column({ type: 'varchar', length: 600, default: '' })
  excerpt: string;

  @Column({ type: 'varchar', length: 10, default: 'published' })
  status: ItemStatus;

  @Column({ name: 'removed_at', type: 'timestamptz', nullable: true })
  removedAt: Date | null;

  /** The notice that removed it (no foreign key until the notices table exists). */
  @Column({ name: 'removed_by_notice_id', type: 'uuid', nullable: true })
  removedByNoticeId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  removal: ItemRemoval | null;

  /** While `held`: the match that holds it (cleared on release). */
  @Column({ type: 'jsonb', nullable: true })
  held: ItemHold | null;

  /** Set when the source opted out; a restored item of a withdrawn source stays withdrawn. */
  @Column({ name: 'withdrawn_at', type: 'timestamptz', nullable: true })
  withdrawnAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
