import { Request, Router } from 'express';
import { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { noStore, requestContext, safeNextPath } from '../../shared/http';
import { FRESH_PROOF_MS, requireFreshProof, requireStaff } from '../../http/guards';
import {
  listPasskeys,
  passkeyRegistrationOptions,
  passkeySignInOptions,
  passwordlessOptions,
  registerPasskey,
  removePasskey,
  signInWithPasskey,
  verifyPasskey,
} from './passkeys';
import { completeSignIn, pendingSignIn } from './two-factor.routes';

/** The body of a passkey answer: the JSON the browser's credential serialises to (checked by the verifier). */
function credentialOf(body: unknown) {
  const c = (body as { credential?: unknown } | undefined)?.credential;
  const ok =
    c &&
    typeof c === 'object' &&
    typeof (c as { id?: unknown }).id === 'string' &&
    typeof (c as { response?: unknown }).response === 'object';
  if (!ok) throw AppError.validation([{ field: 'credential', message: 'Send the passkey answer the browser gave (credential).' }]);
  return c as never;
}

function passkeyName(body: unknown): string {
  const name = String((body as { name?: unknown } | undefined)?.name ?? '').trim();
  if (!name || name.length > 60)
    throw AppError.validation([{ field: 'name', message: 'Give the passkey a name you will recognise (1 to 60 characters).' }]);
  return name;
}

/**
 * Passkeys (SPEC §17): `/account/passkeys` lists, adds (fresh proof) and removes (fresh proof) the
 * member's passkeys; `/login/2fa/passkey…` is the passkey way through the second sign-in step, and
 * `/login/passkey…` a passwordless sign-in with the passkey alone (user verification required). The
 * browser side is `public/passkey.js` (ours, no CDN): it calls the `…/options` route, hands the
 * options to `navigator.credentials`, and posts the answer back as JSON with the CSRF header.
 */
export function passkeyRoutes(deps: AppDeps, loginLimiter: RateLimiterAbstract): Router {
  const r = Router();
  r.use(['/account/passkeys', '/account/confirm/passkey', '/login/2fa/passkey', '/login/passkey'], noStore);
  const fresh = (req: Request) => !!req.session.provenAt && deps.clock.now().getTime() - req.session.provenAt <= FRESH_PROOF_MS;
  const actorOf = (req: Request) => {
    const u = req.user!;
    return { type: 'user' as const, id: u.id, label: u.email, role: u.role };
  };

  r.get('/account/passkeys', requireStaff, async (req, res) => {
    const passkeys = await listPasskeys(deps.db.manager, req.user!.id);
    res.render('auth/passkeys', { title: 'Passkeys', passkeys, fresh: fresh(req), mustEnrol: req.user!.mustEnrol });
  });

  r.post('/account/passkeys/options', requireStaff, requireFreshProof(deps.clock, '/account/passkeys'), async (req, res) => {
    passkeyName(req.body);
    res.json(await passkeyRegistrationOptions(deps, req.user!));
  });

  r.post('/account/passkeys', requireStaff, requireFreshProof(deps.clock, '/account/passkeys'), async (req, res) => {
    const name = passkeyName(req.body);
    const passkey = await registerPasskey(deps, {
      userId: req.user!.id,
      name,
      response: credentialOf(req.body),
      actor: actorOf(req),
      context: requestContext(req),
    });
    req.session.flash = { kind: 'ok', message: `Passkey "${passkey.name}" added. You can use it after your password when you sign in.` };
    res.status(201).json({ id: passkey.id, redirect: '/account/passkeys' });
  });

  r.post('/account/passkeys/:id/remove', requireStaff, requireFreshProof(deps.clock, '/account/passkeys'), async (req, res) => {
    const removed = await withTransaction(deps.db, (tx) =>
      removePasskey(tx, {
        userId: req.user!.id,
        passkeyId: String(req.params.id),
        actor: actorOf(req),
        context: requestContext(req),
        at: deps.clock.now(),
      }),
    );
    req.session.flash = removed
      ? { kind: 'ok', message: `Passkey "${removed.name}" removed.` }
      : { kind: 'error', message: 'No such passkey of yours (it may have been removed already).' };
    res.redirect(303, '/account/passkeys');
  });

  // ---- the second sign-in step with a passkey (the half-signed-in session only) ----
  r.post('/login/2fa/passkey/options', async (req, res) => {
    const userId = pendingSignIn(req, deps.clock.now().getTime());
    if (!userId) return res.redirect(303, '/login');
    res.json(await passkeySignInOptions(deps, userId, 'sign-in'));
  });

  r.post('/login/2fa/passkey', async (req, res) => {
    const userId = pendingSignIn(req, deps.clock.now().getTime());
    if (!userId) return res.redirect(303, '/login');
    try {
      await loginLimiter.consume(req.ip ?? 'unknown');
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      res.setHeader('Retry-After', String(Math.ceil(e.msBeforeNext / 1000)));
      throw new AppError('AUTH.RATE_LIMITED', 'Too many sign-in attempts from your network. Wait a few minutes and try again.', 429);
    }
    try {
      await verifyPasskey(deps, { userId, response: credentialOf(req.body), purpose: 'sign-in', context: requestContext(req) });
    } catch (e) {
      if (e instanceof AppError && e.code === 'AUTH.LOCKED') delete req.session.pendingUserId;
      throw e;
    }
    const next = safeNextPath(req.session.pendingNext);
    await completeSignIn(req, userId, deps.clock.now().getTime());
    res.json({ redirect: next });
  });

  // ---- a passkey as the fresh proof (the confirm page) ----
  r.post('/account/confirm/passkey/options', requireStaff, async (req, res) => {
    res.json(await passkeySignInOptions(deps, req.user!.id, 'confirm'));
  });

  r.post('/account/confirm/passkey', requireStaff, async (req, res) => {
    try {
      await loginLimiter.consume(req.ip ?? 'unknown');
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      throw new AppError('AUTH.RATE_LIMITED', 'Too many attempts from your network. Wait a few minutes and try again.', 429);
    }
    const response = credentialOf(req.body);
    await verifyPasskey(deps, { userId: req.user!.id, response, purpose: 'confirm', context: requestContext(req) });
    req.session.provenAt = deps.clock.now().getTime();
    res.json({ redirect: safeNextPath((req.body as { next?: unknown }).next) });
  });

  // ---- passwordless: the passkey alone (with its PIN or fingerprint), from the sign-in page ----
  r.post('/login/passkey/options', async (req, res) => {
    const options = await passwordlessOptions(deps);
    req.session.passkeyChallenge = options.challenge;
    res.json(options);
  });

  r.post('/login/passkey', async (req, res) => {
    try {
      await loginLimiter.consume(req.ip ?? 'unknown');
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      res.setHeader('Retry-After', String(Math.ceil(e.msBeforeNext / 1000)));
      throw new AppError('AUTH.RATE_LIMITED', 'Too many sign-in attempts from your network. Wait a few minutes and try again.', 429);
    }
    const response = credentialOf(req.body);
    const sessionChallenge = req.session.passkeyChallenge;
    delete req.session.passkeyChallenge;
    const user = await signInWithPasskey(deps, { response, sessionChallenge, context: requestContext(req) });
    await completeSignIn(req, user.id, deps.clock.now().getTime());
    res.json({ redirect: user.mustChangePassword ? '/account/password' : safeNextPath((req.body as { next?: unknown }).next) });
  });

  return r;
}
