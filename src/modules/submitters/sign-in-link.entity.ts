import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A portal sign-in link sent by email. Only the SHA-256 of its token is stored; it works once,
 * for 15 minutes. Stored per address (not per submitter): an address that never signed in gets a
 * link too, and becomes a submitter when it is used.
 */
@Entity({ name: 'submitter_sign_in_links' })
@Check('submitter_sign_in_links_expiry_check', `"expires_at" > "requested_at"`)
@Index('submitter_sign_in_links_token_key', ['tokenHash'], { unique: true })
@Index('submitter_sign_in_links_email_idx', ['email', 'requestedAt'])
export class SubmitterSignInLink {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Lower-cased. */
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash: string;

  @Column({ name: 'requested_at', type: 'timestamptz' })
  requestedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt: Date | null;

  @Column({ name: 'requester_ip', type: 'varchar', length: 64, nullable: true })
  requesterIp: string | null;
}
