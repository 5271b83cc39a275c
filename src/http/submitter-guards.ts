import type { NextFunction, Request, Response } from 'express';
import type { AppDeps } from '../deps';
import { isSubmitterToken, Submitter, submitterForToken } from '../modules/submitters';
import { AppError } from '../shared/errors';
import { wantsJson } from '../shared/http';

/**
 * Guards for rights holders (SPEC §14): the portal's session (`req.session.submitterId`, loaded into
 * `req.submitter` by the portal router) and submitter API tokens (`tds_…`).
 */

declare module 'express-session' {
  interface SessionData {
    /** The signed-in portal submitter (portal session only; never set on a staff session). */
    submitterId?: string;
  }
}
declare module 'express-serve-static-core' {
  interface Request {
    /** The portal's signed-in submitter, or the submitter token's owner. */
    submitter?: Submitter;
  }
}

const bearerOf = (req: Request) => /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];

/** Portal pages: a visitor who is not signed in as a submitter goes to the portal's sign-in page. */
export function requireSubmitter(req: Request, res: Response, next: NextFunction) {
  if (req.submitter) return next();
  if (wantsJson(req) || req.method !== 'GET') throw AppError.unauthenticated('Your portal session has ended. Please sign in again.');
  res.redirect(303, `/portal/login?next=${encodeURIComponent(req.originalUrl)}`);
}

/**
 * Authenticates a submitter token (`tds_…`). `handOn`: a request without one goes on to the
 * routes after this router (the public and staff API); otherwise it is a 401.
 */
export function submitterToken(deps: AppDeps, opts: { handOn: boolean }) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerOf(req);
    if (!token || !isSubmitterToken(token)) {
      if (opts.handOn) return next('router');
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new AppError(
        'AUTH.TOKEN_REQUIRED',
        'Send a submitter API token (created in the portal at /portal/tokens) as "Authorization: Bearer tds_…".',
        401,
      );
    }
    const s = await submitterForToken(deps.db.manager, token, deps.clock.now());
    if (!s) {
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new AppError('AUTH.TOKEN_INVALID', 'The API token is not valid, or has been revoked.', 401);
    }
    req.submitter = s;
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
}
