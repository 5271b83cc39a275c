import 'express-serve-static-core';
import 'express-session';
import type { Role } from '../modules/auth';

export interface CurrentUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  mustChangePassword: boolean;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The signed-in staff member (session) or the API token's owner. */
    user?: CurrentUser;
  }
}

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    /** Set on an anonymous visit to /login so the session (and its CSRF binding) persists. */
    visited?: boolean;
    /** Portal session: where to go after the sign-in link is used. */
    portalNext?: string;
    flash?: { kind: 'ok' | 'error'; message: string; secret?: string };
  }
}
