import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A submitter's standing statements (SPEC §14): the two sworn statements of § 512(c)(3)(A)(v)–(vi)
 * and a typed signature, made once and kept on file. Versioned: making them again adds a version,
 * withdrawing stamps the current one; rows are never changed otherwise, so a notice that relied on
 * a version can always show what was sworn, and when.
 */
@Entity({ name: 'standing_statements' })
@Index('standing_statements_version_key', ['submitterId', 'version'], { unique: true })
export class StandingStatements {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'submitter_id', type: 'uuid' })
  submitterId: string;

  @Column({ type: 'int' })
  version: number;

  @Column({ name: 'good_faith_statement', type: 'text' })
  goodFaithStatement: string;

  @Column({ name: 'accuracy_statement', type: 'text' })
  accuracyStatement: string;

  /** The typed full name. */
  @Column({ type: 'varchar', length: 200 })
  signature: string;

  @Column({ name: 'made_at', type: 'timestamptz' })
  madeAt: Date;

  @Column({ name: 'withdrawn_at', type: 'timestamptz', nullable: true })
  withdrawnAt: Date | null;
}
