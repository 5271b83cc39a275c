import { DataSource } from 'typeorm';
import type { Clock } from '../../shared/clock';
import { withTransaction } from '../../db/transaction';
import { SYSTEM } from '../audit';
import { createUser } from './manage-users';

const BOOTSTRAP_LOCK = 0x7a_75_64_32;

/**
 * On an empty database, creates the first admin with a one-time password (returned so the caller
 * prints it once). With any user present it does nothing, so the password is never shown again.
 * Safe with several instances starting at once.
 */
export async function bootstrapAdmin(
  deps: { db: DataSource; clock: Clock },
  email = 'admin@localhost',
): Promise<{ email: string; password: string } | null> {
  return withTransaction(deps.db, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
    const [{ n }] = await tx.query('SELECT count(*)::int AS n FROM users');
    if (n > 0) return null;
    const { user, generatedPassword } = await createUser(tx, {
      actor: SYSTEM,
      email,
      name: 'Administrator',
      role: 'admin',
      notify: false,
      at: deps.clock.now(),
    });
    return { email: user.email, password: generatedPassword! };
  });
}
