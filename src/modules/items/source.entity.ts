import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const SOURCE_STATUSES = ['active', 'paused', 'blocked'] as const;
export type SourceStatus = (typeof SOURCE_STATUSES)[number];

/** What the last import of a source's feed did, shown on /sources and kept in the audit event. */
export interface FetchResult {
  ok: boolean;
  /** The feed answered 304 Not Modified: nothing was read. */
  notModified?: boolean;
  httpStatus?: number;
  entries?: number;
  created?: number;
  updated?: number;
  unchanged?: number;
  /** Entries not imported, by reason (no link and no guid, link not http(s), removed item, …). */
  skipped?: Record<string, number>;
  /** Entries stored `held`: they match removed content (SPEC §13). */
  held?: number;
  /** Why the import failed, in words an operator can act on. */
  reason?: string;
  ms?: number;
}

/**
 * An original publisher (SPEC §2). Its feed is imported every FEED_INTERVAL_MINUTES while it is
 * `active`; `paused` (strikes, or by an admin) and `blocked` (opt-out, or by an admin) are skipped.
 */
@Entity({ name: 'sources' })
@Check('sources_status_check', `"status" IN ('active', 'paused', 'blocked')`)
@Check('sources_strike_count_check', `"strike_count" >= 0`)
@Index('sources_due_idx', ['nextFetchAt'], { where: `"status" = 'active' AND "feed_url" IS NOT NULL` })
export class Source {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** Homepage domains in the normal host form (lower-case, punycode, no `www.`). */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  domains: string[];

  @Column({ name: 'feed_url', type: 'varchar', length: 2048, nullable: true })
  feedUrl: string | null;

  @Column({ name: 'contact_email', type: 'varchar', length: 254, nullable: true })
  contactEmail: string | null;

  @Column({ type: 'varchar', length: 10, default: 'active' })
  status: SourceStatus;

  @Column({ name: 'strike_count', type: 'int', default: 0 })
  strikeCount: number;

  @Column({ name: 'last_fetch_at', type: 'timestamptz', nullable: true })
  lastFetchAt: Date | null;

  /** Validators of the last successful download, sent back as If-None-Match / If-Modified-Since. */
  @Column({ name: 'last_fetch_etag', type: 'varchar', length: 500, nullable: true })
  lastFetchEtag: string | null;

  @Column({ name: 'last_fetch_modified', type: 'varchar', length: 100, nullable: true })
  lastFetchModified: string | null;

  @Column({ name: 'last_fetch_result', type: 'jsonb', nullable: true })
  lastFetchResult: FetchResult | null;

  /** When the scheduler next imports this source (null: as soon as possible). */
  @Column({ name: 'next_fetch_at', type: 'timestamptz', nullable: true })
  nextFetchAt: Date | null;

  /**
   * A lease: an instance is importing this source until then. Taken in a short transaction before
   * the download (no network call inside a transaction), so two instances never import one source
   * at once; a crashed import simply lets the lease run out.
   */
  @Column({ name: 'fetching_until', type: 'timestamptz', nullable: true })
  fetchingUntil: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
