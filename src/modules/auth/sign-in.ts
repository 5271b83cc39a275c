import { DataSource } from 'typeorm';
import type { Config } from '../../config';
import type { Clock } from '../../shared/clock';
import { AppError } from '../../shared/errors';
import { withTransaction } from '../../db/transaction';
import { PUBLIC, record, RequestContext } from '../audit';
import { countFailedSignIn } from './failed-sign-in';
import { verifyDecoy, verifyPassword } from './passwords';
import { User } from './user.entity';
import { hasSecondFactor, lockedError } from './two-factor';
import { findByEmail } from './users.queries';

export interface SignInDeps {
  db: DataSource;
  clock: Clock;
  config: Pick<Config, 'login'>;
}

const BAD_CREDENTIALS = 'The email or password is not right.';

/**
 * Checks a staff member's email and password. Repeated failures lock the account for a while;
 * every success, failure and lockout is audited. The password is checked outside any transaction
 * (argon2 is slow on purpose); the counters are then changed atomically.
 */
export interface SignInResult {
  user: User;
  /** The password was right, but a second factor is still to be given (the session grants nothing yet). */
  needsSecondFactor: boolean;
}

export async function signIn(deps: SignInDeps, cmd: { email: string; password: string; context: RequestContext }): Promise<SignInResult> {
  const now = deps.clock.now();
  const user = await findByEmail(deps.db.manager, cmd.email.slice(0, 254), true);
  const attempted = cmd.email.trim().toLowerCase().slice(0, 254);
  if (!user || !user.active) {
    await verifyDecoy(cmd.password);
    await withTransaction(deps.db, (tx) =>
      record(tx, {
        actor: PUBLIC,
        action: 'user.login_failed',
        details: { email: attempted, reason: user ? 'inactive' : 'unknown' },
        context: cmd.context,
        at: now,
      }),
    );
    throw new AppError('AUTH.BAD_CREDENTIALS', BAD_CREDENTIALS, 401);
  }
  if (user.lockedUntil && user.lockedUntil > now) {
    await withTransaction(deps.db, (tx) =>
      record(tx, {
        actor: PUBLIC,
        action: 'user.login_refused',
        subject: { type: 'user', id: user.id },
        details: { email: user.email, reason: 'locked', lockedUntil: user.lockedUntil },
        context: cmd.context,
        at: now,
      }),
    );
    throw lockedError(user.lockedUntil, now);
  }
  const ok = await verifyPassword(user.passwordHash, cmd.password);
  return withTransaction(deps.db, async (tx) => {
    if (ok && (await hasSecondFactor(tx, user.id))) {
      // Half-way: the failure count is cleared only by the second factor, so the password step cannot
      // be used to reset the count of wrong codes.
      await record(tx, {
        actor: PUBLIC,
        action: 'user.password_accepted',
        subject: { type: 'user', id: user.id },
        details: { email: user.email },
        context: cmd.context,
        at: now,
      });
      return { user, needsSecondFactor: true };
    }
    if (ok) {
      await tx.query('UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $2 WHERE id = $1', [user.id, now]);
      await record(tx, {
        actor: { type: 'user', id: user.id, label: user.email },
        action: 'user.logged_in',
        subject: { type: 'user', id: user.id },
        context: cmd.context,
        at: now,
      });
      return { user, needsSecondFactor: false };
    }
    await countFailedSignIn(
      tx,
      deps,
      user,
      { action: 'user.login_failed', details: { email: user.email, reason: 'password' } },
      cmd.context,
      now,
    );
    return null;
  }).then((signedIn) => {
    if (!signedIn) throw new AppError('AUTH.BAD_CREDENTIALS', BAD_CREDENTIALS, 401);
    return signedIn;
  });
}
