import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { DataSource } from 'typeorm';
import { AppError } from '../shared/errors';
import { wantsJson } from '../shared/http';
import type { CurrentUser } from './request';
import { Role, User, userForToken } from '../modules/auth';

function current(u: User): CurrentUser {
  return { id: u.id, email: u.email, name: u.name, role: u.role, mustChangePassword: u.mustChangePassword };
}

/**
 * Loads the signed-in staff member from the session on every request, so a role change or a
 * deactivation takes effect at once.
 */
export function loadSessionUser(db: DataSource): RequestHandler {
  return async (req, res, next) => {
    const id = req.session?.userId;
    if (id) {
      const user = await db.getRepository(User).findOneBy({ id });
      if (user?.active) {
        req.user = current(user);
        res.locals.currentUser = req.user;
        res.locals.isAdmin = user.role === 'admin';
      } else {
        delete req.session.userId;
      }
    }
    next();
  };
}

/** Staff pages: a visitor who is not signed in is sent to the login page (or gets 401 as JSON). */
export function requireStaff(req: Request, res: Response, next: NextFunction) {
  if (!req.user) {
    if (wantsJson(req) || req.method !== 'GET') throw AppError.unauthenticated('Your session has ended. Please sign in again.');
    return res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
  }
  if (req.user.mustChangePassword && req.path !== '/account/password') {
    if (wantsJson(req)) throw AppError.forbidden('Set a new password before doing anything else.');
    return res.redirect(303, '/account/password');
  }
  next();
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
