import { Request, Response, Router } from 'express';
import { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { record } from '../audit';
import { noStore, requestContext, safeNextPath } from '../../shared/http';
import { requireStaff } from '../../http/guards';
import { verifyPassword } from './passwords';
import { confirmEnrolment, pendingEnrolment, recoveryCodesLeft, secondFactorsOf, verifySecondFactor } from './two-factor';
import { lockUser } from './users.queries';

/** How long the half-signed-in state (password accepted, code not yet given) lasts. */
const PENDING_MS = 5 * 60_000;

const regenerate = (req: Request) =>
  new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));

/** Marks the session signed in after every factor was given; used by the password step too. */
export async function completeSignIn(req: Request, userId: string, now: number): Promise<void> {
  await regenerate(req);
  req.session.userId = userId;
  req.session.provenAt = now;
  req.session.createdAt = now;
}

/** The member whose password was just accepted (half signed in, at most 5 minutes ago), or null. */
export function pendingSignIn(req: Request, now: number): string | null {
  const { pendingUserId, pendingSince } = req.session;
  return pendingUserId && pendingSince && now - pendingSince <= PENDING_MS ? pendingUserId : null;
}

/**
 * The second sign-in step, TOTP enrolment, and the fresh-proof page (SPEC §17).
 * `/login/2fa` works on a half-signed-in session (`pendingUserId`) that no other page accepts.
 */
export function twoFactorRoutes(deps: AppDeps, loginLimiter: RateLimiterAbstract): Router {
  const r = Router();
  r.use(['/login/2fa', '/account/2fa', '/account/confirm'], noStore);
  const now = () => deps.clock.now().getTime();
  const pendingUser = (req: Request) => pendingSignIn(req, now());
  /** The code step; it offers the passkey way too when the member has one. */
  const codeForm = async (req: Request, res: Response, status: number, extra: Record<string, unknown> = {}) => {
    const userId = pendingUser(req);
    const factors = userId ? await secondFactorsOf(deps.db.manager, userId) : { totp: true, passkeys: 0 };
    res.status(status).render('auth/two-factor-code', { title: 'Two-factor sign-in', factors, ...extra });
  };

  r.get('/login/2fa', async (req, res) => {
    if (!pendingUser(req)) return res.redirect(303, '/login');
    await codeForm(req, res, 200);
  });

  r.post('/login/2fa', async (req, res) => {
    const userId = pendingUser(req);
    if (!userId) {
      req.session.flash = { kind: 'error', message: 'The sign-in took too long. Enter your email and password again.' };
      return res.redirect(303, '/login');
    }
    try {
      await loginLimiter.consume(req.ip ?? 'unknown');
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      res.setHeader('Retry-After', String(Math.ceil(e.msBeforeNext / 1000)));
      return await codeForm(req, res, 429, { formError: 'Too many sign-in attempts from your network. Wait a few minutes and try again.' });
    }
    const code = typeof req.body?.code === 'string' ? req.body.code.slice(0, 40) : '';
    if (!code.trim())
      return await codeForm(req, res, 422, { errors: { code: 'Enter the 6-digit code from your app, or a recovery code.' } });
    try {
      await verifySecondFactor(deps, { userId, code, purpose: 'sign-in', context: requestContext(req) });
    } catch (e) {
      if (!(e instanceof AppError) || !['AUTH.BAD_CODE', 'AUTH.LOCKED', 'AUTH.2FA_NOT_ENABLED'].includes(e.code)) throw e;
      if (e.code === 'AUTH.LOCKED') {
        delete req.session.pendingUserId;
        return res.status(423).render('auth/login', { title: 'Staff sign-in', values: { next: '/staff' }, formError: e.message });
      }
      return await codeForm(req, res, e.status, { errors: { code: e.message } });
    }
    const next = safeNextPath(req.session.pendingNext);
    await completeSignIn(req, userId, now());
    res.redirect(303, next);
  });

  r.get('/account/2fa', requireStaff, async (req, res) => {
    const user = req.user!;
    if (user.totp) {
      const shownOnce = req.session.recoveryCodes;
      delete req.session.recoveryCodes;
      const left = await recoveryCodesLeft(deps.db.manager, user.id);
      return res.render('auth/two-factor', { title: 'Two-factor sign-in', enabled: true, recoveryCodes: shownOnce, left });
    }
    const enrolment = await pendingEnrolment(deps, user, req.session.enrolSecret);
    req.session.enrolSecret = enrolment.sealed;
    res.render('auth/two-factor', { title: 'Set up two-factor sign-in', enrolment, mustEnrol: user.mustEnrol });
  });

  r.post('/account/2fa', requireStaff, async (req, res) => {
    const user = req.user!;
    const code = typeof req.body?.code === 'string' ? req.body.code.slice(0, 40) : '';
    try {
      const codes = await confirmEnrolment(deps, {
        userId: user.id,
        sealedSecret: req.session.enrolSecret,
        code,
        actor: { type: 'user', id: user.id, label: user.email, role: user.role },
        context: requestContext(req),
      });
      delete req.session.enrolSecret;
      req.session.recoveryCodes = codes;
      req.session.provenAt = now();
      req.session.flash = {
        kind: 'ok',
        message: 'Two-factor sign-in is on. Keep your recovery codes somewhere safe: they are shown only now.',
      };
      res.redirect(303, '/account/2fa');
    } catch (e) {
      if (e instanceof AppError && e.status === 409) {
        req.session.flash = { kind: 'error', message: e.message };
        return res.redirect(303, '/account/2fa');
      }
      if (!(e instanceof AppError) || e.code !== 'VALIDATION.FAILED') throw e;
      const enrolment = await pendingEnrolment(deps, user, req.session.enrolSecret);
      res.status(422).render('auth/two-factor', {
        title: 'Set up two-factor sign-in',
        enrolment,
        mustEnrol: user.mustEnrol,
        errors: { code: e.details.errors?.[0]?.message },
      });
    }
  });

  r.get('/account/confirm', requireStaff, async (req, res) => {
    res.render('auth/confirm', {
      title: 'Confirm it is you',
      next: safeNextPath(req.query.next),
      twoFactor: req.user!.totp,
      passkeys: req.user!.twoFactor && (await secondFactorsOf(deps.db.manager, req.user!.id)).passkeys > 0,
    });
  });

  r.post('/account/confirm', requireStaff, async (req, res) => {
    const user = req.user!;
    const next = safeNextPath(req.body?.next);
    const view = { title: 'Confirm it is you', next, twoFactor: user.totp };
    const password = typeof req.body?.password === 'string' ? req.body.password.slice(0, 256) : '';
    const code = typeof req.body?.code === 'string' ? req.body.code.slice(0, 40) : '';
    if (!password && !code.trim())
      return res.status(422).render('auth/confirm', { ...view, errors: { password: 'Enter your password (or a code from your app).' } });
    try {
      await loginLimiter.consume(req.ip ?? 'unknown');
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      return res
        .status(429)
        .render('auth/confirm', { ...view, formError: 'Too many attempts from your network. Wait a few minutes and try again.' });
    }
    try {
      if (code.trim() && user.totp)
        await verifySecondFactor(deps, { userId: user.id, code, purpose: 'confirm', context: requestContext(req) });
      else await confirmPassword(deps, req, password);
    } catch (e) {
      if (!(e instanceof AppError) || ![401, 423].includes(e.status)) throw e;
      return res
        .status(e.status)
        .render('auth/confirm', { ...view, errors: { [code.trim() && user.totp ? 'code' : 'password']: e.message } });
    }
    req.session.provenAt = now();
    res.redirect(303, next);
  });

  return r;
}

/** The password as a fresh proof: audited either way; a wrong one counts towards the lockout. */
async function confirmPassword(deps: AppDeps, req: Request, password: string): Promise<void> {
  const user = req.user!;
  const stored = await withTransaction(deps.db, (tx) => lockUser(tx, user.id));
  const ok = await verifyPassword(stored.passwordHash, password);
  const at = deps.clock.now();
  await withTransaction(deps.db, async (tx) => {
    if (ok) {
      await record(tx, {
        actor: { type: 'user', id: user.id, label: user.email, role: user.role },
        action: 'user.reauthenticated',
        subject: { type: 'user', id: user.id },
        details: { with: 'password' },
        context: requestContext(req),
        at,
      });
    } else {
      await tx.query('UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1', [user.id]);
      await record(tx, {
        actor: { type: 'user', id: user.id, label: user.email, role: user.role },
        action: 'user.reauthentication_failed',
        subject: { type: 'user', id: user.id },
        details: { with: 'password' },
        context: requestContext(req),
        at,
      });
    }
  });
  if (!ok) throw new AppError('AUTH.BAD_CREDENTIALS', 'That password is not right.', 401);
}
