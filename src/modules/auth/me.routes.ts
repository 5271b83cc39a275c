import { Router } from 'express';
import type { AppDeps } from '../../deps';
import { requireBearer } from '../../http/guards';

/** `GET /api/v1/me`: who an API token belongs to (lets a client check its token). */
export function meApi(deps: AppDeps): Router {
  const r = Router();
  r.get('/me', requireBearer(deps.db), (req, res) => {
    const { id, email, name, role } = req.user!;
    res.json({ id, email, name, role });
  });
  return r;
}
