import { Request, Router } from 'express';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { AppError } from '../../shared/errors';
import { errorsByField, noStore, requestContext, validateBody, validationErrors } from '../../shared/http';
import { createApiToken, listApiTokens, revokeApiTokens } from './api-tokens';
import { resetSecondFactor, usersWithSecondFactor } from './two-factor';
import { changeRole, createUser, setActive, unlockUser } from './manage-users';
import { CreateUserDto, UserActionDto } from './user.dto';
import { lockUser, listUsers } from './users.queries';
import { requireFreshProof, requireRole, requireStaff } from '../../http/guards';
import { actorFrom } from '../../http/actor';

/** Staff accounts (admin only): list, create, change role, deactivate, unlock, tokens. */
export function usersRoutes(deps: AppDeps): Router {
  const r = Router();
  r.use('/users', noStore, requireStaff, requireRole('admin'));

  const renderList = async (req: Request, extra: Record<string, unknown> = {}) => {
    const users = await listUsers(deps.db.manager);
    const now = deps.clock.now();
    const withTwoFactor = await usersWithSecondFactor(deps.db.manager);
    const rows = await Promise.all(
      users.map(async (u) => ({
        ...u,
        isSelf: u.id === req.user!.id,
        locked: !!u.lockedUntil && u.lockedUntil > now,
        tokens: (await listApiTokens(deps.db.manager, u.id)).filter((t) => !t.revokedAt),
        twoFactor: withTwoFactor.has(u.id),
      })),
    );
    return { title: 'Staff accounts', users: rows, roles: ['moderator', 'admin'], ...extra };
  };

  r.get('/users', async (req, res) => {
    res.render('users/index', await renderList(req, { values: { role: 'moderator' } }));
  });

  r.post('/users', async (req, res) => {
    const errors = await validationErrors(CreateUserDto, req.body);
    const values = { email: req.body?.email, name: req.body?.name, role: req.body?.role };
    const show = async (status: number, fieldErrors: Record<string, string>) =>
      res.status(status).render('users/index', await renderList(req, { values, errors: fieldErrors }));
    if (errors.length) return show(422, errorsByField(errors));
    const dto = await validateBody(CreateUserDto, req.body);
    try {
      const { user, generatedPassword } = await withTransaction(deps.db, (tx) =>
        createUser(tx, {
          actor: actorFrom(req),
          context: requestContext(req),
          at: deps.clock.now(),
          email: dto.email,
          name: dto.name,
          role: dto.role,
          password: dto.password || undefined,
        }),
      );
      req.session.flash = generatedPassword
        ? {
            kind: 'ok',
            message: `Created ${user.email}. Give them this one-time password; they must change it at first sign-in:`,
            secret: generatedPassword,
          }
        : { kind: 'ok', message: `Created ${user.email}.` };
      res.redirect(303, '/users');
    } catch (e) {
      if (e instanceof AppError && e.code === 'VALIDATION.FAILED') return show(422, errorsByField(e.details.errors ?? []));
      throw e;
    }
  });

  // Fresh proof (SPEC §17): role changes, deactivation, token creation and second-factor resets.
  const freshProof = requireFreshProof(deps.clock, '/users');
  const DANGEROUS = ['role', 'deactivate', 'create-token', 'reset-2fa'];
  r.post(
    '/users/action',
    (req, res, next) => (DANGEROUS.includes(req.body?.action) ? freshProof(req, res, next) : next()),
    async (req, res) => {
      const dto = await validateBody(UserActionDto, req.body);
      const ctx = { actor: actorFrom(req), context: requestContext(req), at: deps.clock.now() };
      let flash: NonNullable<typeof req.session.flash>;
      try {
        flash = await withTransaction(deps.db, async (tx) => {
          switch (dto.action) {
            case 'role': {
              if (!dto.role) throw AppError.validation([{ field: 'role', message: 'Choose admin or moderator.' }]);
              const u = await changeRole(tx, { ...ctx, userId: dto.userId, role: dto.role });
              return { kind: 'ok', message: `${u.email} is now ${u.role}.` };
            }
            case 'deactivate':
            case 'activate': {
              const u = await setActive(tx, { ...ctx, userId: dto.userId, active: dto.action === 'activate' });
              return { kind: 'ok', message: `${u.email} is ${u.active ? 'active again' : 'deactivated'}.` };
            }
            case 'unlock': {
              const u = await unlockUser(tx, { ...ctx, userId: dto.userId });
              return { kind: 'ok', message: `${u.email} is unlocked.` };
            }
            case 'revoke-tokens': {
              const u = await lockUser(tx, dto.userId);
              const n = await revokeApiTokens(tx, { ...ctx, user: u });
              return { kind: 'ok', message: `Revoked ${n} API token${n === 1 ? '' : 's'} of ${u.email}.` };
            }
            case 'reset-2fa': {
              const u = await resetSecondFactor(tx, { ...ctx, userId: dto.userId, at: deps.clock.now() });
              return {
                kind: 'ok',
                message: `The second factor of ${u.email} is removed, their sessions ended, and they have been emailed.`,
              };
            }
            default: {
              const u = await lockUser(tx, dto.userId);
              if (!u.active) throw AppError.conflict('USER.INACTIVE', 'An inactive account cannot get API tokens.');
              const { token } = await createApiToken(tx, { ...ctx, user: u, name: dto.tokenName || 'API token' });
              return { kind: 'ok', message: `API token for ${u.email} (shown once; store it now):`, secret: token };
            }
          }
        });
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 500 || e.status === 403) throw e;
        flash = { kind: 'error', message: e.details.errors?.[0]?.message ?? e.message };
        req.session.flash = flash;
        return res.redirect(303, '/users');
      }
      req.session.flash = flash;
      res.redirect(303, '/users');
    },
  );

  return r;
}
