import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A moderator's named queue filter (SPEC §15). Anyone on the staff can open it by its link
 * (`/queue?view=<id>`); only its owner renames, deletes or makes it their default (the view
 * `/queue` opens with when no filter is given).
 */
@Entity({ name: 'saved_views' })
@Index('saved_views_name_key', ['userId', 'name'], { unique: true })
@Index('saved_views_default_key', ['userId'], { unique: true, where: `"is_default"` })
export class SavedView {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'varchar', length: 80 })
  name: string;

  /** The queue's filter fields (status, assignee, source, claimType, flag); no cursor. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  filter: Record<string, string>;

  @Column({ name: 'is_default', type: 'boolean', default: false })
  isDefault: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
