import { DataSource, EntityManager } from 'typeorm';

/**
 * Every state change runs inside one of these: the change, its audit event and its queued emails
 * commit together or not at all. Functions that write take the transaction's EntityManager first.
 */
export function withTransaction<T>(db: DataSource, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  return db.transaction('READ COMMITTED', work);
}
