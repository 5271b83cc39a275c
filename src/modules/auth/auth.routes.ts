import { Router } from 'express';
import { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { errorsByField, noStore, requestContext, safeNextPath, validationErrors } from '../../shared/http';
import { record } from '../audit';

import { changePassword } from './manage-users';
import { signIn } from './sign-in';
import { completeSignIn } from './two-factor.routes';
import { ChangePasswordDto, LoginDto } from './user.dto';
import { requireStaff } from '../../http/guards';

/** Sign in, sign out, change password, and the staff home page. */
export function authRoutes(deps: AppDeps, loginLimiter: RateLimiterAbstract): Router {
  const r = Router();
  r.use(['/login', '/account', '/staff'], noStore);

  r.get('/login', (req, res) => {
    if (req.user) return res.redirect(303, safeNextPath(req.query.next));
    req.session.visited = true; // keep the session so the form's CSRF token stays bound to it
    res.render('auth/login', { title: 'Staff sign-in', values: { next: safeNextPath(req.query.next) } });
  });

  r.post('/login', async (req, res) => {
    const values = { email: String(req.body?.email ?? '').slice(0, 254), next: safeNextPath(req.body?.next) };
    try {
      await loginLimiter.consume(req.ip ?? 'unknown');
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      res.setHeader('Retry-After', String(Math.ceil(e.msBeforeNext / 1000)));
      return res.status(429).render('auth/login', {
        title: 'Staff sign-in',
        values,
        formError: 'Too many sign-in attempts from your network. Wait a few minutes and try again.',
      });
    }
    const errors = await validationErrors(LoginDto, req.body);
    if (errors.length) return res.status(422).render('auth/login', { title: 'Staff sign-in', values, errors: errorsByField(errors) });
    try {
      const { user, needsSecondFactor } = await signIn(deps, {
        email: req.body.email,
        password: req.body.password,
        context: requestContext(req),
      });
      if (needsSecondFactor) {
        // Half signed in: only /login/2fa accepts this session (no userId yet).
        await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
        req.session.pendingUserId = user.id;
        req.session.pendingSince = deps.clock.now().getTime();
        req.session.pendingNext = user.mustChangePassword ? '/account/password' : values.next;
        return res.redirect(303, '/login/2fa');
      }
      await completeSignIn(req, user.id, deps.clock.now().getTime());
      return res.redirect(303, user.mustChangePassword ? '/account/password' : values.next);
    } catch (e) {
      if (!(e instanceof AppError) || !['AUTH.BAD_CREDENTIALS', 'AUTH.LOCKED'].includes(e.code)) throw e;
      return res.status(e.status).render('auth/login', { title: 'Staff sign-in', values, formError: e.message });
    }
  });

  r.post('/logout', async (req, res) => {
    if (req.user) {
      const user = req.user;
      await withTransaction(deps.db, (tx) =>
        record(tx, {
          actor: { type: 'user', id: user.id, label: user.email },
          action: 'user.logged_out',
          subject: { type: 'user', id: user.id },
          context: requestContext(req),
          at: deps.clock.now(),
        }),
      );
    }
    await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    res.clearCookie('td.sid');
    res.redirect(303, '/login');
  });

  r.get('/account/password', requireStaff, (req, res) => {
    res.render('auth/password', { title: 'Set a new password', mustChange: req.user!.mustChangePassword });
  });

  r.post('/account/password', requireStaff, async (req, res) => {
    const user = req.user!;
    const view = { title: 'Set a new password', mustChange: user.mustChangePassword };
    const errors = await validationErrors(ChangePasswordDto, req.body);
    if (!errors.length && req.body.newPassword !== req.body.confirmPassword) {
      errors.push({ field: 'confirmPassword', message: 'The two new passwords are not the same.' });
    }
    if (errors.length) return res.status(422).render('auth/password', { ...view, errors: errorsByField(errors) });
    try {
      await withTransaction(deps.db, (tx) =>
        changePassword(tx, {
          actor: { type: 'user', id: user.id, label: user.email },
          context: requestContext(req),
          at: deps.clock.now(),
          userId: user.id,
          currentPassword: req.body.currentPassword,
          newPassword: req.body.newPassword,
          keepSessionId: req.sessionID,
        }),
      );
    } catch (e) {
      if (e instanceof AppError && e.code === 'VALIDATION.FAILED') {
        return res.status(422).render('auth/password', { ...view, errors: errorsByField(e.details.errors ?? []) });
      }
      throw e;
    }
    req.session.flash = { kind: 'ok', message: 'Your password has been changed.' };
    res.redirect(303, '/staff');
  });

  r.get('/staff', requireStaff, (req, res) => {
    res.render('staff/home', { title: 'Staff home' });
  });

  return r;
}
