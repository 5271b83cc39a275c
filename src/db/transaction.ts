import { DataSource, EntityManager } from 'typeorm';

/**
 * Every state change runs inside one of these: the change, its audit event and its queued emails
 * commit together or not at all. Functions that write take the transaction's EntityManager first.
 */
export function withTransaction<T>(db: DataSource, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  // PostgreSQL's default, READ COMMITTED; not set explicitly, which would cost a round trip each time.
  return db.transaction(work);
}
