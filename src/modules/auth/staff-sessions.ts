import { EntityManager } from 'typeorm';

/**
 * Staff sessions live in PostgreSQL (`sessions`, connect-pg-simple's table; `sess.userId` names the
 * signed-in user). Ending a session deletes its row: its cookie then opens an empty session.
 */
export async function endSessionsOf(tx: EntityManager, userId: string, exceptSid?: string): Promise<number> {
  const [{ n }] = await tx.query(
    `WITH d AS (DELETE FROM sessions WHERE sess->>'userId' = $1 AND ($2::text IS NULL OR sid <> $2) RETURNING 1) SELECT count(*)::int AS n FROM d`,
    [userId, exceptSid ?? null],
  );
  return n;
}
