import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { noStore, requestContext } from '../../shared/http';
import { record } from '../audit';
import { requireStaff } from '../../http/guards';
import { endSessionByHandle, endSessionsOf, listSessionsOf } from './staff-sessions';

/** `/account/sessions` (SPEC §17): a member sees where they are signed in and ends sessions. */
export function sessionsRoutes(deps: AppDeps): Router {
  const r = Router();
  r.use('/account/sessions', noStore, requireStaff);

  r.get('/account/sessions', async (req, res) => {
    const sessions = await listSessionsOf(deps.db.manager, req.user!.id, req.sessionID, deps.clock.now());
    res.render('auth/sessions', { title: 'Your sessions', sessions, others: sessions.filter((s) => !s.current).length });
  });

  r.post('/account/sessions/revoke-others', async (req, res) => {
    const user = req.user!;
    const n = await withTransaction(deps.db, async (tx) => {
      const ended = await endSessionsOf(tx, user.id, 'revoked', req.sessionID);
      await record(tx, {
        actor: { type: 'user', id: user.id, label: user.email, role: user.role },
        action: 'session.revoked',
        subject: { type: 'user', id: user.id },
        details: { scope: 'others', sessionsEnded: ended },
        context: requestContext(req),
        at: deps.clock.now(),
      });
      return ended;
    });
    req.session.flash = {
      kind: 'ok',
      message: n ? `Signed out ${n} other session${n === 1 ? '' : 's'}.` : 'There were no other sessions.',
    };
    res.redirect(303, '/account/sessions');
  });

  r.post('/account/sessions/:handle/revoke', async (req, res) => {
    const user = req.user!;
    const handle = String(req.params.handle);
    const ended =
      /^[0-9a-f]{24}$/.test(handle) &&
      (await withTransaction(deps.db, async (tx) => {
        const done = await endSessionByHandle(tx, user.id, handle, req.sessionID);
        if (done)
          await record(tx, {
            actor: { type: 'user', id: user.id, label: user.email, role: user.role },
            action: 'session.revoked',
            subject: { type: 'user', id: user.id },
            details: { scope: 'one', session: handle },
            context: requestContext(req),
            at: deps.clock.now(),
          });
        return done;
      }));
    req.session.flash = ended
      ? { kind: 'ok', message: 'That session is signed out.' }
      : { kind: 'error', message: 'No such session of yours (it may have ended already). To end this one, sign out.' };
    res.redirect(303, '/account/sessions');
  });

  return r;
}
