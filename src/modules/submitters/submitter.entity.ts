import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type SubmitterRole = 'owner' | 'agent';

/**
 * A rights holder who signed in to the portal (SPEC §14): an email address proved by a sign-in
 * link, and the profile the portal's notice form is filled from. Created at the first sign-in.
 * Its notices are the notices sent from its (verified) address.
 */
@Entity({ name: 'submitters' })
@Check('submitters_role_check', `"role" IS NULL OR "role" IN ('owner', 'agent')`)
@Check('submitters_suspension_check', `("suspended_until" IS NULL) = ("suspension_reason" IS NULL)`)
@Index('submitters_email_key', ['email'], { unique: true })
export class Submitter {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Lower-cased; proved by the sign-in link. */
  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ name: 'email_verified_at', type: 'timestamptz' })
  emailVerifiedAt: Date;

  // --- profile: pre-fills the portal's notice form ---
  @Column({ type: 'varchar', length: 200, nullable: true })
  name: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  organization: string | null;

  @Column({ type: 'varchar', length: 10, nullable: true })
  role: SubmitterRole | null;

  /** The rights owners an agent represents. */
  @Column({ name: 'rights_owners', type: 'text', array: true, default: () => "'{}'" })
  rightsOwners: string[];

  @Column({ type: 'varchar', length: 40, nullable: true })
  phone: string | null;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  address: string | null;

  @Column({ type: 'char', length: 2, nullable: true })
  country: string | null;

  // --- trust and misuse (DSA Arts. 22, 23) ---
  @Column({ type: 'boolean', default: false })
  trusted: boolean;

  @Column({ name: 'suspended_until', type: 'timestamptz', nullable: true })
  suspendedUntil: Date | null;

  @Column({ name: 'suspension_reason', type: 'text', nullable: true })
  suspensionReason: string | null;

  @Column({ name: 'last_signed_in_at', type: 'timestamptz', nullable: true })
  lastSignedInAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
