import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A running process that may hold claimed rows (see `src/db/leases.ts`). Its heartbeat keeps
 * `expires_at` ahead; once it has passed, the rows it claimed (`<table>.claimed_by = id`) are free.
 * Written only by `leases.ts`.
 */
@Entity({ name: 'worker_instances' })
export class WorkerInstance {
  @PrimaryColumn('uuid')
  id: string;

  /** What kind of process (`app`, `cli`, a test's worker). */
  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 255 })
  host: string;

  @Column({ type: 'int' })
  pid: number;

  @Column({ name: 'started_at', type: 'timestamptz', default: () => 'now()' })
  startedAt: Date;

  @Column({ name: 'heartbeat_at', type: 'timestamptz', default: () => 'now()' })
  heartbeatAt: Date;

  /** By PostgreSQL's clock: alive until then. */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
