import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A publisher's request to stop republishing its source (SPEC §9), waiting for the click on the
 * emailed link. Only the SHA-256 of the link's token is stored; the link works once, for 48 hours.
 */
@Entity({ name: 'opt_out_requests' })
@Check('opt_out_requests_expiry_check', `"expires_at" > "requested_at"`)
@Index('opt_out_requests_token_key', ['tokenHash'], { unique: true })
@Index('opt_out_requests_requested_idx', ['requestedAt'])
export class OptOutRequest {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** The domain as we matched it (normal host form). */
  @Column({ type: 'varchar', length: 253 })
  domain: string;

  /** Every source that lists the domain: all of them are withdrawn on confirmation. */
  @Column({ name: 'source_ids', type: 'uuid', array: true })
  sourceIds: string[];

  /** Where the link was sent (lower-cased): at the domain, or a source's listed contact. */
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash: string;

  @Column({ name: 'requested_at', type: 'timestamptz' })
  requestedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'confirmed_at', type: 'timestamptz', nullable: true })
  confirmedAt: Date | null;

  @Column({ name: 'requester_ip', type: 'varchar', length: 64, nullable: true })
  requesterIp: string | null;
}
