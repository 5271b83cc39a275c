import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Item } from './item.entity';

export const ALIAS_KINDS = ['original', 'orig_link', 'guid', 'alternate', 'link', 'proxy', 'canonical'] as const;
export type AliasKind = (typeof ALIAS_KINDS)[number];

/** One address of an item and where it came from (the feed's origLink, guid, alternate or entry link, a proxy, a canonical link). */
export interface ItemAddress {
  url: string;
  kind: AliasKind;
}

/**
 * Every address an item is known by (issue 21), normalised (shared/url.ts) and unique across items:
 * the original URL, `feedburner:origLink`, a permalink guid, the Atom alternate link, the entry link
 * when different, the feed proxy's redirect (`proxy`), a canonical link found in the content.
 * `findItemsByUrls` matches notice URLs against these as well as against `items.original_url_normalised`.
 * Written by the registry's import (`upsertItems`) only; an address that already belongs to another
 * item (its original URL or an alias) stays with that item.
 */
@Entity({ name: 'item_aliases' })
@Index('item_aliases_item_idx', ['itemId'])
@Check('item_aliases_kind_check', `"kind" IN ('original', 'orig_link', 'guid', 'alternate', 'link', 'proxy', 'canonical')`)
export class ItemAlias {
  @PrimaryColumn({ name: 'url_normalised', type: 'varchar', length: 2048 })
  urlNormalised: string;

  @Column({ name: 'item_id', type: 'uuid' })
  itemId: string;

  @ManyToOne(() => Item, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'item_id' })
  item?: Relation<Item>;

  @Column({ type: 'varchar', length: 20 })
  kind: AliasKind;

  /** The address as the feed gave it (absolute). */
  @Column({ type: 'text' })
  url: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
