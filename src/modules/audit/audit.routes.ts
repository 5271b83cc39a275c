import { Router } from 'express';
import type { AppDeps } from '../../container';
import { noStore } from '../../shared/http';
import { requireBearer, requireRole, requireStaff } from '../auth';
import { sealAuditChain } from './seal-chain';
import { verifyAuditChain } from './verify-chain';

async function verifyNow(deps: AppDeps) {
  await sealAuditChain(deps.db); // include what committed a moment ago
  return verifyAuditChain(deps.db);
}

/** Staff pages of the audit module (admin). */
export function auditPages(deps: AppDeps): Router {
  const r = Router();
  r.get('/audit/verify', noStore, requireStaff, requireRole('admin'), async (_req, res) => {
    res.render('audit/verify', { title: 'Audit chain verification', result: await verifyNow(deps) });
  });
  return r;
}

/** Staff API of the audit module (admin). */
export function auditApi(deps: AppDeps): Router {
  const r = Router();
  r.get('/audit/verify', requireBearer(deps.db), requireRole('admin'), async (_req, res) => {
    const { ok, events, firstBadSequence, problem, unsealed } = await verifyNow(deps);
    res.json({ ok, events, firstBadSequence, problem, unsealed });
  });
  return r;
}
