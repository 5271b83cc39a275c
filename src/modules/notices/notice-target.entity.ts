import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
// A TypeORM relation names the entity class itself (allowed by .dependency-cruiser.cjs: entity → entity only).
import { Item } from '../items/item.entity';
import { Notice } from './notice.entity';

export type TargetOutcome = 'pending' | 'removed' | 'kept' | 'not_found' | 'restored';

/** One URL named in a notice, and what became of it. */
@Entity({ name: 'notice_targets' })
@Check('notice_targets_outcome_check', `"outcome" IN ('pending', 'removed', 'kept', 'not_found', 'restored')`)
@Index('notice_targets_notice_idx', ['noticeId', 'position'])
@Index('notice_targets_normalised_idx', ['normalisedUrl'])
@Index('notice_targets_item_idx', ['itemId'])
export class NoticeTarget {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'notice_id', type: 'uuid' })
  noticeId: string;

  @ManyToOne(() => Notice, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'notice_id' })
  notice?: Relation<Notice>;

  /** Order as given in the notice. */
  @Column({ type: 'int' })
  position: number;

  @Column({ type: 'varchar', length: 2048 })
  url: string;

  @Column({ name: 'normalised_url', type: 'varchar', length: 2048 })
  normalisedUrl: string;

  /** The matched item, or null (`not_found`). */
  @Column({ name: 'item_id', type: 'uuid', nullable: true })
  itemId: string | null;

  @ManyToOne(() => Item, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'item_id' })
  item?: Relation<Item> | null;

  /**
   * When the URL names one image of the matched item (its URL at the origin, SPEC §19): that image
   * (`item_images`). An approval then removes the image only; the article stays published.
   */
  @Column({ name: 'image_id', type: 'uuid', nullable: true })
  imageId: string | null;

  @Column({ type: 'varchar', length: 20 })
  outcome: TargetOutcome;
}
