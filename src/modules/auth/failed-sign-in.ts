import { EntityManager } from 'typeorm';
import type { Config } from '../../config';
import { PUBLIC, record, RequestContext } from '../audit';
import type { User } from './user.entity';

/**
 * A failed step of sign-in (a wrong password, a wrong or replayed code): counted on the account,
 * audited, and at LOGIN_MAX_FAILURES the account is locked for LOGIN_LOCK_MINUTES (audited). Both
 * steps share one count, so neither can be used to reset the other's. Returns the lock's end, or null.
 */
export async function countFailedSignIn(
  tx: EntityManager,
  deps: { config: Pick<Config, 'login'> },
  user: User,
  f: { action: 'user.login_failed' | 'user.2fa_failed'; details: Record<string, unknown>; step?: 'second_factor' },
  context: RequestContext | undefined,
  now: Date,
): Promise<Date | null> {
  // TypeORM answers an UPDATE … RETURNING with [rows, affectedCount].
  const [[{ failed_logins: failures }]] = await tx.query(
    'UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins',
    [user.id],
  );
  await record(tx, {
    actor: PUBLIC,
    action: f.action,
    subject: { type: 'user', id: user.id },
    details: { ...f.details, failures },
    context,
    at: now,
  });
  if (failures < deps.config.login.maxFailures) return null;
  const until = new Date(now.getTime() + deps.config.login.lockMinutes * 60_000);
  await tx.query('UPDATE users SET locked_until = $2, failed_logins = 0 WHERE id = $1', [user.id, until]);
  await record(tx, {
    actor: { type: 'system' },
    action: 'user.locked',
    subject: { type: 'user', id: user.id },
    details: { email: user.email, failures, lockedUntil: until, ...(f.step ? { step: f.step } : {}) },
    context,
    at: now,
  });
  return until;
}
