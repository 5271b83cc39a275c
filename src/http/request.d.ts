import 'express-serve-static-core';
import 'express-session';
import type { Role } from '../modules/auth';

export interface CurrentUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  mustChangePassword: boolean;
  /** A second factor (a confirmed TOTP key or a passkey) is on for this account. */
  twoFactor?: boolean;
  /** A confirmed TOTP key (authenticator app) is on for this account. */
  totp?: boolean;
  /** REQUIRE_2FA applies to this member and no second factor is on yet: enrol before anything else. */
  mustEnrol?: boolean;
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
    /** Password accepted, second factor not yet given: grants nothing but the code step. */
    pendingUserId?: string;
    pendingSince?: number;
    pendingNext?: string;
    /** When the member last proved who they are (sign-in or the confirm page), ms since epoch. */
    provenAt?: number;
    /** Shown once on the 2FA page after enrolment, then deleted. */
    recoveryCodes?: string[];
    /** The challenge of a passwordless passkey sign-in handed to this browser session. */
    passkeyChallenge?: string;
    /** The TOTP key being enrolled (sealed), until a code confirms it. */
    enrolSecret?: string;
    /** For /account/sessions: when and from where this session was opened, and last used. */
    createdAt?: number;
    lastSeenAt?: number;
    ip?: string;
    userAgent?: string;
    /** An ended session (revoked, password changed, second factor reset, deactivated): whose it was, and why it ended. */
    endedFor?: string;
    endedBecause?: string;
  }
}
