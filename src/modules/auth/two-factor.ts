import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import type { Config } from '../../config';
import { withTransaction } from '../../db/transaction';
import type { Clock } from '../../shared/clock';
import { AppError } from '../../shared/errors';
import { secretBox } from '../../shared/secret-box';
import { Actor, PUBLIC, record, RequestContext } from '../audit';
import { enqueue } from '../mail';
import { hashPassword, verifyPassword } from './passwords';
import { RecoveryCode, TotpCredential } from './two-factor.entity';
import { Passkey } from './passkey.entity';
import { User } from './user.entity';
import { endSessionsOf } from './staff-sessions';
import { lockUser } from './users.queries';
import { countFailedSignIn } from './failed-sign-in';

/**
 * TOTP second factor (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of drift either way)
 * and ten single-use recovery codes. A code is accepted once: the step it belongs to is kept, and
 * a code of that step or an earlier one is refused. Wrong codes count towards the same lockout as
 * wrong passwords (`LOGIN_MAX_FAILURES`, `LOGIN_LOCK_MINUTES`).
 */
export interface TwoFactorDeps {
  db: DataSource;
  clock: Clock;
  config: Pick<Config, 'login'>;
  sessionSecret: string;
}

const ISSUER = 'Takedown Desk';
const PERIOD = 30;
export const RECOVERY_CODE_COUNT = 10;

const box = (deps: Pick<TwoFactorDeps, 'sessionSecret'>) => secretBox(deps.sessionSecret, 'totp-secret');
const totpFor = (secretBase32: string, label: string) =>
  new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: 6, period: PERIOD, secret: Secret.fromBase32(secretBase32) });

/** Whether a member has a second factor: a confirmed TOTP key or at least one passkey. */
export async function hasSecondFactor(tx: EntityManager, userId: string): Promise<boolean> {
  const f = await secondFactorsOf(tx, userId);
  return f.totp || f.passkeys > 0;
}

/** Which second factors a member has: TOTP (confirmed) and how many passkeys. */
export async function secondFactorsOf(tx: EntityManager, userId: string): Promise<{ totp: boolean; passkeys: number }> {
  const [row] = await tx.query(
    `SELECT EXISTS (SELECT 1 FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL) AS totp,
            (SELECT count(*)::int FROM passkeys WHERE user_id = $1) AS passkeys`,
    [userId],
  );
  return { totp: row.totp, passkeys: row.passkeys };
}

/** Ids of every member with a second factor, TOTP or passkey (one query for the users page). */
export async function usersWithSecondFactor(tx: EntityManager): Promise<Set<string>> {
  const rows: { user_id: string }[] = await tx.query(
    `SELECT user_id FROM totp_credentials WHERE confirmed_at IS NOT NULL UNION SELECT user_id FROM passkeys`,
  );
  return new Set(rows.map((r) => r.user_id));
}

export interface Enrolment {
  secret: string;
  uri: string;
  /** The otpauth:// URI as an SVG QR code, as a data: URL for an <img> (no inline markup, no script). */
  qrDataUrl: string;
}

/**
 * The key being enrolled. It is made on the first visit and kept, sealed, in the member's session
 * (not the database: opening a page writes nothing) until a code confirms it, so a reload shows the
 * same QR code.
 */
export async function pendingEnrolment(
  deps: Pick<TwoFactorDeps, 'sessionSecret'>,
  user: { email: string },
  sealed?: string,
): Promise<Enrolment & { sealed: string }> {
  const secret = sealed ? box(deps).open(sealed) : new Secret({ size: 20 }).base32;
  const uri = totpFor(secret, user.email).toString();
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return {
    secret,
    uri,
    qrDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
    sealed: sealed ?? box(deps).seal(secret),
  };
}

/** The step a code belongs to, or null; `window` 1 accepts the previous and the next step too. */
function matchingStep(secret: string, code: string, at: Date): number | null {
  const delta = totpFor(secret, 'x').validate({ token: code, timestamp: at.getTime(), window: 1 });
  return delta === null ? null : Math.floor(at.getTime() / 1000 / PERIOD) + delta;
}

/** A formatted recovery code: 10 characters from a 32-letter alphabet (50 bits), as xxxxx-xxxxx. */
function newRecoveryCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789'; // no 0/o, 1/l/i
  const bytes = randomBytes(10);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}
const normaliseRecovery = (code: string) => code.trim().toLowerCase().replace(/[\s-]/g, '');

/**
 * Confirms the enrolment with a first code: the key becomes active, the code's step is spent, and
 * ten recovery codes are made (returned once; only their hashes are kept). Audited.
 */
export async function confirmEnrolment(
  deps: TwoFactorDeps,
  cmd: { userId: string; sealedSecret: string | undefined; code: string; actor: Actor; context?: RequestContext },
): Promise<string[]> {
  const now = deps.clock.now();
  if (!cmd.sealedSecret) throw AppError.conflict('AUTH.2FA_NOT_STARTED', 'Open the set-up page again: no key is being set up.');
  // The code first: the ten argon2 hashes are only worth making for a right one.
  const step = /^\d{6}$/.test(cmd.code.trim()) ? matchingStep(box(deps).open(cmd.sealedSecret), cmd.code.trim(), now) : null;
  if (step === null) {
    throw AppError.validation([{ field: 'code', message: 'That code is not right. Enter the 6 digits your app shows now.' }]);
  }
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const hashes = await Promise.all(codes.map((c) => hashPassword(normaliseRecovery(c))));
  return withTransaction(deps.db, async (tx) => {
    await lockUser(tx, cmd.userId);
    if ((await secondFactorsOf(tx, cmd.userId)).totp)
      throw AppError.conflict('AUTH.2FA_ALREADY_ENABLED', 'Two-factor sign-in is already on for this account.');
    await tx.query(
      `INSERT INTO totp_credentials (user_id, secret_sealed, confirmed_at, last_used_step) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, confirmed_at = EXCLUDED.confirmed_at, last_used_step = EXCLUDED.last_used_step`,
      [cmd.userId, cmd.sealedSecret, now, String(step)],
    );
    await tx.getRepository(RecoveryCode).delete({ userId: cmd.userId });
    await tx.getRepository(RecoveryCode).insert(hashes.map((codeHash) => ({ userId: cmd.userId, codeHash })));
    await record(tx, {
      actor: cmd.actor,
      action: 'user.2fa_enabled',
      subject: { type: 'user', id: cmd.userId },
      details: { method: 'totp', recoveryCodes: RECOVERY_CODE_COUNT },
      context: cmd.context,
      at: now,
    });
    return codes;
  });
}

export type SecondFactorPurpose = 'sign-in' | 'confirm';
export type SecondFactorMethod = 'totp' | 'recovery_code';

/**
 * Checks a TOTP code or a recovery code. Success spends the code (step or recovery code), clears the
 * failure count and is audited (`user.logged_in` at sign-in, `user.reauthenticated` as a fresh
 * proof). Failure is audited with its reason and counts towards the lockout.
 */
export async function verifySecondFactor(
  deps: TwoFactorDeps,
  cmd: { userId: string; code: string; purpose: SecondFactorPurpose; context?: RequestContext },
): Promise<SecondFactorMethod> {
  const now = deps.clock.now();
  const code = cmd.code.trim();
  const isTotp = /^\d{6}$/.test(code);
  // Recovery codes: argon2 is slow on purpose, so hashes are compared before the transaction.
  let recovery: { id: string; used: boolean } | null = null;
  if (!isTotp && /^[a-z0-9-\s]{10,16}$/i.test(code)) {
    const rows = await deps.db.getRepository(RecoveryCode).find({ where: { userId: cmd.userId } });
    for (const r of rows) {
      if (await verifyPassword(r.codeHash, normaliseRecovery(code))) {
        recovery = { id: r.id, used: r.usedAt !== null };
        break;
      }
    }
  }
  const outcome = await withTransaction(deps.db, async (tx) => {
    const user = await lockUser(tx, cmd.userId);
    const actor: Actor = { type: 'user', id: user.id, label: user.email, role: user.role };
    const refused = await refuseSecondFactorStep(tx, deps, user, cmd.context, now);
    if (refused) return refused;
    const cred = await tx.getRepository(TotpCredential).findOneBy({ userId: user.id });
    if (!cred?.confirmedAt) return { error: new AppError('AUTH.2FA_NOT_ENABLED', 'Two-factor sign-in is not on for this account.', 409) };
    let method: SecondFactorMethod;
    if (isTotp) {
      const step = matchingStep(box(deps).open(cred.secretSealed), code, now);
      if (step === null) return failSecondFactor(tx, deps, user, 'wrong_code', cmd.context, now);
      if (cred.lastUsedStep !== null && step <= Number(cred.lastUsedStep))
        return failSecondFactor(tx, deps, user, 'replayed_code', cmd.context, now);
      await tx.getRepository(TotpCredential).update({ userId: user.id }, { lastUsedStep: String(step) });
      method = 'totp';
    } else {
      if (!recovery) return failSecondFactor(tx, deps, user, 'wrong_code', cmd.context, now);
      const spent = recovery.used
        ? 0
        : (await tx.getRepository(RecoveryCode).update({ id: recovery.id, usedAt: IsNull() }, { usedAt: now })).affected;
      if (!spent) return failSecondFactor(tx, deps, user, 'recovery_code_reused', cmd.context, now);
      method = 'recovery_code';
    }
    await tx.query('UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $2 WHERE id = $1', [
      user.id,
      cmd.purpose === 'sign-in' ? now : user.lastLoginAt,
    ]);
    await record(tx, {
      actor,
      action: cmd.purpose === 'sign-in' ? 'user.logged_in' : 'user.reauthenticated',
      subject: { type: 'user', id: user.id },
      details: { secondFactor: method },
      context: cmd.context,
      at: now,
    });
    return { method };
  });
  if ('error' in outcome) throw outcome.error;
  return outcome.method;
}

/**
 * Before any second-factor check: an inactive account fails (counted), a locked one is refused
 * (audited `user.login_refused`). Null when the check may go on.
 */
export async function refuseSecondFactorStep(
  tx: EntityManager,
  deps: Pick<TwoFactorDeps, 'config'>,
  user: User,
  context: RequestContext | undefined,
  now: Date,
): Promise<{ error: AppError } | null> {
  if (!user.active) return failSecondFactor(tx, deps, user, 'inactive', context, now);
  if (!user.lockedUntil || user.lockedUntil <= now) return null;
  await record(tx, {
    actor: PUBLIC,
    action: 'user.login_refused',
    subject: { type: 'user', id: user.id },
    details: { email: user.email, reason: 'locked', step: 'second_factor', lockedUntil: user.lockedUntil },
    context,
    at: now,
  });
  return { error: lockedError(user.lockedUntil, now) };
}

const FAILURE_MESSAGES: Record<string, string> = {
  wrong_code: 'That code is not right. Enter the 6 digits your app shows now, or one of your recovery codes.',
  replayed_code: 'That code has already been used. Wait for your app to show the next one.',
  recovery_code_reused: 'That recovery code has already been used. Each one works once.',
  inactive: 'This account is not active.',
  passkey_bad_challenge: 'That passkey sign-in has expired or was already used. Try the passkey again.',
  passkey_unknown: 'That passkey is not registered to this account.',
  passkey_counter:
    'That passkey was refused: its use counter went backwards, which a copied key would do. Use another factor and tell an admin.',
  passkey_wrong_origin: 'That passkey answer was made for another site.',
  passkey_invalid: 'That passkey answer could not be verified. Try again.',
};

/** A failed code or passkey: audited, counted like a failed password, and the account locked at the limit. */
export async function failSecondFactor(
  tx: EntityManager,
  deps: Pick<TwoFactorDeps, 'config'>,
  user: User,
  reason: string,
  context: RequestContext | undefined,
  now: Date,
  more: Record<string, unknown> = {},
): Promise<{ error: AppError }> {
  const details = { email: user.email, reason, ...more };
  const until = await countFailedSignIn(tx, deps, user, { action: 'user.2fa_failed', details, step: 'second_factor' }, context, now);
  if (until) return { error: lockedError(until, now) };
  return { error: new AppError('AUTH.BAD_CODE', FAILURE_MESSAGES[reason] ?? FAILURE_MESSAGES.wrong_code, 401) };
}

export function lockedError(until: Date, now: Date) {
  const minutes = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));
  return new AppError(
    'AUTH.LOCKED',
    `This account is locked after repeated failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or ask an admin.`,
    423,
  );
}

/** How many unused recovery codes a user has left (for the account page). */
export function recoveryCodesLeft(tx: EntityManager, userId: string): Promise<number> {
  return tx.getRepository(RecoveryCode).countBy({ userId, usedAt: IsNull() });
}

/**
 * An admin removes a user's second factor (a lost phone): key and recovery codes go, every session
 * of that user ends, the user is emailed, and it is audited. The caller has checked a fresh proof.
 */
export async function resetSecondFactor(
  tx: EntityManager,
  cmd: { actor: Actor; userId: string; context?: RequestContext; at: Date },
): Promise<User> {
  const user = await lockUser(tx, cmd.userId);
  const removed = await tx.getRepository(TotpCredential).delete({ userId: user.id });
  await tx.getRepository(RecoveryCode).delete({ userId: user.id });
  const passkeys = await tx.getRepository(Passkey).delete({ userId: user.id });
  const sessionsEnded = await endSessionsOf(tx, user.id, 'second_factor_reset');
  await record(tx, {
    actor: cmd.actor,
    action: 'user.2fa_reset',
    subject: { type: 'user', id: user.id },
    details: {
      email: user.email,
      hadSecondFactor: (removed.affected ?? 0) + (passkeys.affected ?? 0) > 0,
      passkeysRemoved: passkeys.affected ?? 0,
      sessionsEnded,
    },
    context: cmd.context,
    at: cmd.at,
  });
  await enqueue(tx, 'second-factor-reset', user.email, {
    name: user.name,
    resetBy: cmd.actor.type === 'user' ? cmd.actor.label : null,
    at: cmd.at.toISOString(),
  });
  return user;
}
