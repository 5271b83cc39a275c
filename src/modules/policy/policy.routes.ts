import { Router } from 'express';
import type { AppDeps } from '../../deps';

/** `GET /dmca`: the policy page, rendered from configuration (designated agent, timings, strike limit). */
export function policyPages(deps: AppDeps): Router {
  const r = Router();
  r.get('/dmca', (_req, res) => {
    const { config } = deps;
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.render('policy/dmca', {
      title: 'DMCA and copyright policy',
      agent: config.dmcaAgent,
      restoreBusinessDays: config.policy.restoreBusinessDays,
      strikeLimit: config.policy.strikeLimit,
      slaHours: config.policy.slaHours,
    });
  });
  return r;
}
