import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from './user.entity';

/** A staff member's passkey (WebAuthn credential), used as a second factor. A member may have several. */
@Entity({ name: 'passkeys' })
@Index('passkeys_user_idx', ['userId'])
export class Passkey {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  /** The credential id the authenticator gave, base64url; unique across all members. */
  @Index('passkeys_credential_id_key', { unique: true })
  @Column({ name: 'credential_id', type: 'text' })
  credentialId: string;

  /** The COSE public key, as the authenticator sent it at registration. */
  @Column({ name: 'public_key', type: 'bytea' })
  publicKey: Buffer;

  /** The signature counter last seen: an assertion must bring a higher one (unless both are 0). */
  @Column({ type: 'bigint', default: 0 })
  counter: string;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  transports: string[];

  /** The member's own name for it ("YubiKey 5", "Laptop"). */
  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'backed_up', type: 'boolean', default: false })
  backedUp: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;
}

/**
 * A WebAuthn challenge handed out for one ceremony (register or sign in) of one member, or (for a
 * passwordless sign-in, where nobody is known yet) of one browser session. It is deleted when used
 * (so it works once) and refused after `expires_at`.
 */
@Entity({ name: 'webauthn_challenges' })
@Index('webauthn_challenges_expires_idx', ['expiresAt'])
export class WebauthnChallenge {
  /** The challenge itself, base64url (random, 32 bytes). */
  @Column({ primary: true, type: 'text' })
  challenge: string;

  /** Null for a passwordless sign-in: the browser session holds the challenge too. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ type: 'text' })
  purpose: 'register' | 'sign-in' | 'confirm' | 'passwordless';

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
