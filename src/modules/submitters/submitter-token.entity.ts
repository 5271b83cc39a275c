import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A submitter's API token (SPEC §14): created in the portal, shown once, stored as its SHA-256.
 * It acts as that submitter only (submit, read own notices); staff tokens are another table.
 */
@Entity({ name: 'submitter_api_tokens' })
@Index('submitter_api_tokens_hash_key', ['tokenHash'], { unique: true })
@Index('submitter_api_tokens_submitter_idx', ['submitterId'])
export class SubmitterApiToken {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'submitter_id', type: 'uuid' })
  submitterId: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** The first characters, to tell tokens apart in lists. */
  @Column({ type: 'varchar', length: 12 })
  prefix: string;

  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
