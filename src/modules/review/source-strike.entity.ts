import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One strike against a source (SPEC §9 repeat infringement): an approved notice that removed at
 * least one of its items. Kept with its time so "STRIKE_LIMIT in 12 months" is a count, not a
 * counter that only ever grows. One strike per (source, notice).
 */
@Entity({ name: 'source_strikes' })
@Index('source_strikes_source_notice_key', ['sourceId', 'noticeId'], { unique: true })
@Index('source_strikes_source_at_idx', ['sourceId', 'at'])
export class SourceStrike {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'source_id', type: 'uuid' })
  sourceId: string;

  @Column({ name: 'notice_id', type: 'uuid' })
  noticeId: string;

  @Column({ type: 'timestamptz' })
  at: Date;
}
