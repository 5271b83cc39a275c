import { randomBytes } from 'node:crypto';
import {
  AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { DataSource, EntityManager } from 'typeorm';
import type { Config } from '../../config';
import { withTransaction } from '../../db/transaction';
import type { Clock } from '../../shared/clock';
import { AppError } from '../../shared/errors';
import { Actor, PUBLIC, record, RequestContext } from '../audit';
import { Passkey, WebauthnChallenge } from './passkey.entity';
import { failSecondFactor, refuseSecondFactorStep, SecondFactorPurpose } from './two-factor';
import type { User } from './user.entity';
import { lockUser } from './users.queries';

/**
 * Passkeys (WebAuthn, SPEC §17) as a second factor, with @simplewebauthn/server. Each ceremony gets a
 * challenge stored in `webauthn_challenges` for one member and one purpose: it is deleted when an
 * answer comes back (so it works once, even when the answer is wrong) and refused after 5 minutes.
 * The relying party is this site: its id is PUBLIC_BASE_URL's host name, the only origin accepted
 * is PUBLIC_BASE_URL's origin. A signature counter that does not go up (a cloned key) is refused.
 */
export interface PasskeyDeps {
  db: DataSource;
  clock: Clock;
  config: Pick<Config, 'login' | 'publicBaseUrl'>;
}

export const CHALLENGE_MS = 5 * 60_000;
type Ceremony = WebauthnChallenge['purpose'];

export function relyingParty(publicBaseUrl: string) {
  const u = new URL(publicBaseUrl);
  return { rpName: 'Takedown Desk', rpID: u.hostname, origin: u.origin };
}

/** A new challenge for this member and ceremony; earlier unused ones of the same kind (and any expired) go. */
async function issueChallenge(tx: EntityManager, userId: string | null, purpose: Ceremony, now: Date): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = randomBytes(32);
  await tx.query(`DELETE FROM webauthn_challenges WHERE expires_at <= $1 OR (user_id = $2 AND purpose = $3)`, [now, userId, purpose]);
  await tx.getRepository(WebauthnChallenge).insert({
    challenge: bytes.toString('base64url'),
    userId,
    purpose,
    expiresAt: new Date(now.getTime() + CHALLENGE_MS),
  });
  return new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
}

/** The challenge a browser's answer says it signed (from its clientDataJSON), or null. */
function signedChallenge(clientDataJSON: unknown): string | null {
  try {
    const challenge: unknown = JSON.parse(Buffer.from(String(clientDataJSON), 'base64url').toString('utf8')).challenge;
    return typeof challenge === 'string' && challenge.length <= 200 ? challenge : null;
  } catch {
    return null;
  }
}

/**
 * Spends the challenge the browser signed (read from the answer's clientDataJSON): deleted here, so
 * it works once. Null when it was never issued to this member for this ceremony, was used, or expired.
 */
async function spendChallenge(tx: EntityManager, userId: string | null, purpose: Ceremony, clientDataJSON: unknown, now: Date) {
  const challenge = signedChallenge(clientDataJSON);
  if (!challenge) return null;
  const [rows] = await tx.query(
    `DELETE FROM webauthn_challenges WHERE challenge = $1 AND user_id IS NOT DISTINCT FROM $2 AND purpose = $3 RETURNING expires_at`,
    [challenge, userId, purpose],
  );
  return rows.length && new Date(rows[0].expires_at) > now ? challenge : null;
}

export function listPasskeys(tx: EntityManager, userId: string): Promise<Passkey[]> {
  return tx.getRepository(Passkey).find({ where: { userId }, order: { createdAt: 'ASC' } });
}

/** The options for `navigator.credentials.create()`: this member, their passkeys excluded. */
export async function passkeyRegistrationOptions(
  deps: PasskeyDeps,
  user: { id: string; email: string; name: string },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const rp = relyingParty(deps.config.publicBaseUrl);
  return withTransaction(deps.db, async (tx) => {
    const existing = await listPasskeys(tx, user.id);
    const challenge = await issueChallenge(tx, user.id, 'register', deps.clock.now());
    return generateRegistrationOptions({
      rpName: rp.rpName,
      rpID: rp.rpID,
      userName: user.email,
      userDisplayName: user.name,
      userID: new TextEncoder().encode(user.id),
      challenge,
      timeout: CHALLENGE_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
  });
}

const refusal = (message: string) => new AppError('AUTH.PASSKEY_REFUSED', message, 422);

/**
 * Registers a passkey from the browser's answer. Refused (and audited `user.passkey_refused`) when
 * the challenge is not one handed to this member, the origin or RP id is not ours, or the answer does
 * not verify. Audited `user.passkey_added`.
 */
export async function registerPasskey(
  deps: PasskeyDeps,
  cmd: { userId: string; name: string; response: RegistrationResponseJSON; actor: Actor; context?: RequestContext },
): Promise<Passkey> {
  const now = deps.clock.now();
  const rp = relyingParty(deps.config.publicBaseUrl);
  const result = await withTransaction(deps.db, async (tx) => {
    await lockUser(tx, cmd.userId);
    const refuse = async (reason: string, message: string, detail?: string) => {
      const details = { ceremony: 'register', reason, ...(detail ? { detail: detail.slice(0, 200) } : {}) };
      const subject = { type: 'user', id: cmd.userId };
      await record(tx, { actor: cmd.actor, action: 'user.passkey_refused', subject, details, context: cmd.context, at: now });
      return { error: refusal(message) };
    };
    const challenge = await spendChallenge(tx, cmd.userId, 'register', cmd.response?.response?.clientDataJSON, now);
    if (!challenge) return refuse('bad_challenge', 'That passkey set-up has expired or was already used. Start again.');
    let verified;
    try {
      verified = await verifyRegistrationResponse({
        response: cmd.response,
        expectedChallenge: challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.rpID,
        requireUserVerification: false,
      });
    } catch (e) {
      return refuse(reasonOf(e), 'The passkey could not be verified. Try again.', (e as Error).message);
    }
    if (!verified.verified) return refuse('invalid', 'The passkey could not be verified. Try again.');
    const { credential, credentialBackedUp } = verified.registrationInfo;
    if (await tx.getRepository(Passkey).existsBy({ credentialId: credential.id }))
      return refuse('already_registered', 'This passkey is already registered.');
    const passkey = await tx.getRepository(Passkey).save(
      tx.getRepository(Passkey).create({
        userId: cmd.userId,
        credentialId: credential.id,
        publicKey: Buffer.from(credential.publicKey),
        counter: String(credential.counter),
        transports: credential.transports ?? [],
        name: cmd.name,
        backedUp: credentialBackedUp,
        lastUsedAt: null,
      }),
    );
    const details = { passkeyId: passkey.id, name: passkey.name, backedUp: credentialBackedUp };
    const subject = { type: 'user', id: cmd.userId };
    await record(tx, { actor: cmd.actor, action: 'user.passkey_added', subject, details, context: cmd.context, at: now });
    return { passkey };
  });
  if ('error' in result) throw result.error;
  return result.passkey;
}

/** Why @simplewebauthn refused an answer, as an audit reason. */
function reasonOf(e: unknown): string {
  const m = String((e as Error)?.message ?? '');
  if (/counter/i.test(m)) return 'passkey_counter';
  if (/origin|RP ID|rpID/i.test(m)) return 'passkey_wrong_origin';
  if (/challenge/i.test(m)) return 'passkey_bad_challenge';
  return 'passkey_invalid';
}

/** The options for `navigator.credentials.get()`: this member's passkeys only. */
export async function passkeySignInOptions(
  deps: PasskeyDeps,
  userId: string,
  purpose: SecondFactorPurpose,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const rp = relyingParty(deps.config.publicBaseUrl);
  return withTransaction(deps.db, async (tx) => {
    const passkeys = await listPasskeys(tx, userId);
    if (!passkeys.length) throw new AppError('AUTH.NO_PASSKEY', 'This account has no passkey.', 409);
    const challenge = await issueChallenge(tx, userId, purpose, deps.clock.now());
    return generateAuthenticationOptions({
      rpID: rp.rpID,
      challenge,
      timeout: CHALLENGE_MS,
      userVerification: 'preferred',
      allowCredentials: passkeys.map((p) => ({ id: p.credentialId, transports: p.transports as never })),
    });
  });
}

/**
 * Checks a passkey answer as the second factor (sign-in or fresh proof). Like a code: a locked
 * account is refused, a failure is audited (`user.2fa_failed` with the reason) and counts towards the
 * lockout; success clears the count, moves the counter on and is audited (`user.logged_in` or
 * `user.reauthenticated`, `secondFactor: "passkey"`).
 */
export async function verifyPasskey(
  deps: PasskeyDeps,
  cmd: { userId: string; response: AuthenticationResponseJSON; purpose: SecondFactorPurpose; context?: RequestContext },
): Promise<Passkey> {
  const now = deps.clock.now();
  const rp = relyingParty(deps.config.publicBaseUrl);
  const outcome = await withTransaction(deps.db, async (tx) => {
    const user = await lockUser(tx, cmd.userId);
    const fail = (reason: string, more: Record<string, unknown> = {}) => failSecondFactor(tx, deps, user, reason, cmd.context, now, more);
    const refused = await refuseSecondFactorStep(tx, deps, user, cmd.context, now);
    if (refused) return refused;
    const challenge = await spendChallenge(tx, user.id, cmd.purpose, cmd.response?.response?.clientDataJSON, now);
    if (!challenge) return fail('passkey_bad_challenge');
    const passkey = await tx.getRepository(Passkey).findOne({
      where: { userId: user.id, credentialId: String(cmd.response?.id ?? '') },
      lock: { mode: 'pessimistic_write' },
    });
    if (!passkey) return fail('passkey_unknown');
    const checked = await checkAssertion(passkey, cmd.response, challenge, rp);
    if ('reason' in checked) return fail(checked.reason, { passkeyId: passkey.id, ...(checked.detail ? { detail: checked.detail } : {}) });
    const info = checked.info;
    await passkeyAccepted(tx, user, passkey, info.newCounter, { purpose: cmd.purpose, context: cmd.context, at: now });
    return { passkey };
  });
  if ('error' in outcome) throw outcome.error;
  return outcome.passkey;
}

/** A passkey answer accepted: counter and "last used" kept, failures cleared, audited. */
async function passkeyAccepted(
  tx: EntityManager,
  user: User,
  passkey: Passkey,
  newCounter: number,
  how: { purpose: SecondFactorPurpose; passwordless?: boolean; context?: RequestContext; at: Date },
) {
  await tx.getRepository(Passkey).update({ id: passkey.id }, { counter: String(newCounter), lastUsedAt: how.at });
  await tx.query('UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $2 WHERE id = $1', [
    user.id,
    how.purpose === 'sign-in' ? how.at : user.lastLoginAt,
  ]);
  await record(tx, {
    actor: { type: 'user', id: user.id, label: user.email, role: user.role },
    action: how.purpose === 'sign-in' ? 'user.logged_in' : 'user.reauthenticated',
    subject: { type: 'user', id: user.id },
    details: { secondFactor: 'passkey', passkeyId: passkey.id, ...(how.passwordless ? { passwordless: true } : {}) },
    context: how.context,
    at: how.at,
  });
}

/** The options for a passwordless sign-in: no member known yet, so no allowed list (discoverable passkeys). */
export async function passwordlessOptions(deps: PasskeyDeps): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const rp = relyingParty(deps.config.publicBaseUrl);
  return withTransaction(deps.db, async (tx) => {
    const challenge = await issueChallenge(tx, null, 'passwordless', deps.clock.now());
    return generateAuthenticationOptions({ rpID: rp.rpID, challenge, timeout: CHALLENGE_MS, userVerification: 'required' });
  });
}

const UNKNOWN_PASSKEY = 'That passkey is not registered here. Sign in with your email and password.';

/**
 * Passwordless sign-in: the passkey alone, with user verification (its PIN or fingerprint), which
 * makes it two factors in one. The challenge must be the one this browser session was given. The
 * member is found by the credential id; from there it is checked like the second step (lockout,
 * counter, origin), audited `user.logged_in` with `passwordless: true`. An unknown passkey is
 * audited `user.login_failed`.
 */
export async function signInWithPasskey(
  deps: PasskeyDeps,
  cmd: { response: AuthenticationResponseJSON; sessionChallenge: string | undefined; context?: RequestContext },
): Promise<User> {
  const now = deps.clock.now();
  const outcome = await withTransaction(deps.db, async (tx) => {
    // Only this browser session's own challenge is spent: an answer over someone else's burns nothing.
    const clientData = cmd.response?.response?.clientDataJSON;
    const own = !!cmd.sessionChallenge && signedChallenge(clientData) === cmd.sessionChallenge;
    const challenge = own ? await spendChallenge(tx, null, 'passwordless', clientData, now) : null;
    const passkey = await tx.getRepository(Passkey).findOne({
      where: { credentialId: String(cmd.response?.id ?? '') },
      lock: { mode: 'pessimistic_write' },
    });
    if (!passkey) {
      const details = { reason: 'passkey_unknown', passwordless: true };
      await record(tx, { actor: PUBLIC, action: 'user.login_failed', details, context: cmd.context, at: now });
      return { error: new AppError('AUTH.BAD_CREDENTIALS', UNKNOWN_PASSKEY, 401) };
    }
    const user = await lockUser(tx, passkey.userId);
    const fail = (reason: string, more: Record<string, unknown> = {}) =>
      failSecondFactor(tx, deps, user, reason, cmd.context, now, { passwordless: true, passkeyId: passkey.id, ...more });
    const refused = await refuseSecondFactorStep(tx, deps, user, cmd.context, now);
    if (refused) return refused;
    if (!challenge) return fail('passkey_bad_challenge');
    const checked = await checkAssertion(passkey, cmd.response, challenge, relyingParty(deps.config.publicBaseUrl), true);
    if ('reason' in checked) return fail(checked.reason, checked.detail ? { detail: checked.detail } : {});
    await passkeyAccepted(tx, user, passkey, checked.info.newCounter, {
      purpose: 'sign-in',
      passwordless: true,
      context: cmd.context,
      at: now,
    });
    return { user };
  });
  if ('error' in outcome) throw outcome.error;
  return outcome.user;
}

/** Verifies an assertion against the stored key and counter: the new counter, or why it was refused. */
async function checkAssertion(
  passkey: Passkey,
  response: AuthenticationResponseJSON,
  challenge: string,
  rp: ReturnType<typeof relyingParty>,
  requireUserVerification = false,
): Promise<{ info: { newCounter: number } } | { reason: string; detail?: string }> {
  try {
    const v = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      credential: { id: passkey.credentialId, publicKey: new Uint8Array(passkey.publicKey), counter: Number(passkey.counter) },
      requireUserVerification,
    });
    return v.verified ? { info: v.authenticationInfo } : { reason: 'passkey_invalid' };
  } catch (e) {
    return { reason: reasonOf(e), detail: String((e as Error).message).slice(0, 200) };
  }
}

/** Removes one of the member's own passkeys (the caller checked a fresh proof). Audited. */
export async function removePasskey(
  tx: EntityManager,
  cmd: { userId: string; passkeyId: string; actor: Actor; context?: RequestContext; at: Date },
): Promise<Passkey | null> {
  if (!/^[0-9a-f-]{36}$/i.test(cmd.passkeyId)) return null;
  const passkey = await tx.getRepository(Passkey).findOneBy({ id: cmd.passkeyId, userId: cmd.userId });
  if (!passkey) return null;
  await tx.getRepository(Passkey).delete({ id: passkey.id });
  await record(tx, {
    actor: cmd.actor,
    action: 'user.passkey_removed',
    subject: { type: 'user', id: cmd.userId },
    details: { passkeyId: passkey.id, name: passkey.name },
    context: cmd.context,
    at: cmd.at,
  });
  return passkey;
}
