import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type ActorType = 'user' | 'public' | 'system';

/**
 * One append-only audit event. `id` is the insertion order; `sequence`, `prevHash` and `hash` are
 * set once by the sealer, in commit order, and never change again (a trigger refuses it).
 */
@Entity({ name: 'audit_events' })
@Index('audit_events_action_idx', ['action', 'id'])
@Index('audit_events_subject_idx', ['subjectType', 'subjectId', 'id'])
@Index('audit_events_actor_idx', ['actorId', 'id'])
@Index('audit_events_occurred_at_idx', ['occurredAt'])
@Index('audit_events_unsealed_idx', ['id'], { where: '"hash" IS NULL' })
@Check('audit_events_actor_type_check', `"actor_type" IN ('user', 'public', 'system')`)
export class AuditEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Index('audit_events_sequence_key', { unique: true })
  @Column({ type: 'bigint', nullable: true })
  sequence: string | null;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  @Column({ name: 'actor_type', type: 'varchar', length: 10 })
  actorType: ActorType;

  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  @Column({ name: 'actor_label', type: 'varchar', length: 320 })
  actorLabel: string;

  @Column({ type: 'varchar', length: 80 })
  action: string;

  @Column({ name: 'subject_type', type: 'varchar', length: 40, nullable: true })
  subjectType: string | null;

  @Column({ name: 'subject_id', type: 'varchar', length: 200, nullable: true })
  subjectId: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  details: Record<string, unknown>;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 64, nullable: true })
  requestId: string | null;

  @Column({ name: 'prev_hash', type: 'char', length: 64, nullable: true })
  prevHash: string | null;

  @Column({ type: 'char', length: 64, nullable: true })
  hash: string | null;
}
