import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { DataSource } from 'typeorm';
import { AppError } from '../shared/errors';
import { requestContext, wantsJson } from '../shared/http';
import type { CurrentUser } from './request';
import { refuseEndedSession, Role, secondFactorsOf, User, userForToken } from '../modules/auth';
import { systemClock, type Clock } from '../shared/clock';

function current(u: User): CurrentUser {
  return { id: u.id, email: u.email, name: u.name, role: u.role, mustChangePassword: u.mustChangePassword };
}

/**
 * Loads the signed-in staff member from the session on every request, so a role change or a
 * deactivation takes effect at once.
 */
export function loadSessionUser(db: DataSource, require2fa: 'none' | 'admin' | 'all' = 'none', clock?: Clock): RequestHandler {
  return async (req, res, next) => {
    if (req.session?.endedFor) return refuseEnded(db, clock, req, res);
    const id = req.session?.userId;
    if (id) {
      const user = await db.getRepository(User).findOneBy({ id });
      if (user?.active) {
        const factors = await secondFactorsOf(db.manager, user.id);
        const twoFactor = factors.totp || factors.passkeys > 0;
        const mustEnrol = !twoFactor && (require2fa === 'all' || (require2fa === 'admin' && user.role === 'admin'));
        req.user = { ...current(user), twoFactor, totp: factors.totp, mustEnrol };
        if (clock) touchSession(req, clock.now().getTime());
        res.locals.currentUser = req.user;
        res.locals.isAdmin = user.role === 'admin';
      } else {
        delete req.session.userId;
      }
    }
    next();
  };
}

/**
 * The cookie of a session that was ended (signed out from the sessions page, a password change, a
 * second-factor reset, a deactivation) came back: audited once, the marker cleared, and the caller
 * told why — a page goes to the sign-in page with the message, anything else is a 401 with it.
 */
async function refuseEnded(db: DataSource, clock: Clock | undefined, req: Request, res: Response) {
  const s = req.session;
  const message = await refuseEndedSession(
    { db },
    {
      userId: s.endedFor!,
      reason: s.endedBecause,
      method: req.method,
      path: req.originalUrl.split('?')[0],
      context: requestContext(req),
      at: (clock ?? systemClock).now(),
    },
  );
  delete s.endedFor;
  delete s.endedBecause;
  if (wantsJson(req) || req.method !== 'GET') throw AppError.unauthenticated(message);
  s.flash = { kind: 'error', message };
  res.redirect(303, req.path === '/login' ? '/login' : `/login?next=${encodeURIComponent(req.originalUrl)}`);
}

/** Staff pages: a visitor who is not signed in is sent to the login page (or gets 401 as JSON). */
export function requireStaff(req: Request, res: Response, next: NextFunction) {
  if (!req.user) {
    if (wantsJson(req) || req.method !== 'GET') throw AppError.unauthenticated('Your session has ended. Please sign in again.');
    return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
  }
  const path = req.originalUrl.split('?')[0];
  if (req.user.mustChangePassword && path !== '/account/password') {
    if (wantsJson(req)) throw AppError.forbidden('Set a new password before doing anything else.');
    return res.redirect(303, '/account/password');
  }
  // Enrolment's own pages stay open, and so does the confirm page: adding a passkey asks for a fresh proof.
  const enrolling = ['/account/2fa', '/account/passkeys', '/account/confirm'].some((p) => path === p || path.startsWith(`${p}/`));
  if (req.user.mustEnrol && !req.user.mustChangePassword && !enrolling) {
    if (wantsJson(req) || req.method !== 'GET')
      throw AppError.forbidden(
        'Set up two-factor sign-in (an authenticator app at /account/2fa, or a passkey at /account/passkeys) before doing anything else.',
      );
    return res.redirect(303, '/account/2fa');
  }
  next();
}

/** Session bookkeeping for /account/sessions: written at most once a minute, not on every request. */
function touchSession(req: Request, now: number) {
  const s = req.session;
  if (!s.createdAt) s.createdAt = now;
  if (!s.lastSeenAt || now - s.lastSeenAt > 60_000) {
    s.lastSeenAt = now;
    s.ip = req.ip ?? undefined;
    s.userAgent = String(req.headers['user-agent'] ?? '').slice(0, 300);
  }
}

export const FRESH_PROOF_MS = 10 * 60_000;

/**
 * Dangerous actions (role changes, deactivation, tokens, second-factor resets, full exports) need a
 * proof of identity (password or code) from the last 10 minutes. Otherwise: the confirm page, which
 * comes back to the page the action was started from.
 */
export function requireFreshProof(clock: Clock, backTo?: string): RequestHandler {
  return (req, res, next) => {
    const proven = req.session?.provenAt;
    if (proven && clock.now().getTime() - proven <= FRESH_PROOF_MS) return next();
    const back = req.method === 'GET' ? req.originalUrl : (backTo ?? refererPath(req) ?? '/staff');
    if (wantsJson(req))
      throw new AppError(
        'AUTH.FRESH_PROOF_REQUIRED',
        'Confirm your password or a code at /account/confirm first (needed within 10 minutes for this action).',
        403,
      );
    res.redirect(303, `/account/confirm?next=${encodeURIComponent(back)}`);
  };
}

function refererPath(req: Request): string | null {
  try {
    const u = new URL(String(req.headers.referer ?? ''));
    return u.host === req.headers.host ? u.pathname + u.search : null;
  } catch {
    return null;
  }
}

/** Route guard by role; the user must already be known (session or token). */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.user) throw AppError.unauthenticated();
    if (!roles.includes(req.user.role)) throw AppError.forbidden();
    next();
  };
}

/** Staff API: `Authorization: Bearer <token>`; cookies are not accepted here, so CSRF cannot apply. */
export function requireBearer(db: DataSource): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new AppError('AUTH.TOKEN_REQUIRED', 'Send an API token as "Authorization: Bearer <token>".', 401);
    }
    const user = await userForToken(db.manager, m[1]);
    if (!user) {
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new AppError('AUTH.TOKEN_INVALID', 'The API token is not valid, or has been revoked.', 401);
    }
    req.user = current(user);
    next();
  };
}
