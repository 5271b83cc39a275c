import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A submitter's authorisation letter (SPEC §14): the PDF in which a rights owner authorises an
 * agent to act for them. Kept in the database (backed up with everything else), one row per
 * upload; the newest is the one in force. Only staff download it.
 */
@Entity({ name: 'authorisation_letters' })
@Index('authorisation_letters_submitter_idx', ['submitterId', 'uploadedAt'])
export class AuthorisationLetter {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_authorisation_letters' })
  id: string;

  @Column({ name: 'submitter_id', type: 'uuid' })
  submitterId: string;

  /** The uploaded file's name, cleaned (shown to staff, used in Content-Disposition). */
  @Column({ type: 'varchar', length: 200 })
  filename: string;

  @Column({ type: 'int' })
  size: number;

  @Column({ type: 'char', length: 64 })
  sha256: string;

  @Column({ type: 'bytea', select: false })
  content: Buffer;

  @Column({ name: 'uploaded_at', type: 'timestamptz' })
  uploadedAt: Date;
}
