import type { NextFunction, Request, Response } from 'express';
import { Router } from 'express';
import { Counter, Histogram } from 'prom-client';
import type { AppDeps } from '../../deps';
import type { LeanAnswer, LeanRoute } from '../../shared/lean-public';

/**
 * Health and metrics, mounted before sessions so probes and scrapes never touch the session store.
 * Modules add their own gauges to `deps.metrics` (one registry per app instance).
 */
export function opsRoutes(deps: AppDeps): Router {
  const r = Router();

  r.get('/healthz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ status: 'ok' });
  });

  r.get('/readyz', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    // The server answers HTTP before its other listeners (the SMTP receiver) are up: until they
    // are, it is not ready (a balancer or a test would send mail to a port not yet open).
    if (req.app.locals.starting === true) return res.status(503).json({ status: 'not ready', starting: true });
    try {
      await deps.db.query('SELECT 1');
      const pending = await deps.db.showMigrations();
      if (pending) return res.status(503).json({ status: 'not ready', database: 'ok', migrations: 'pending' });
      res.json({ status: 'ready', database: 'ok', migrations: 'applied' });
    } catch {
      res.status(503).json({ status: 'not ready', database: 'unreachable' });
    }
  });

  r.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.send(await deps.metrics.metrics());
  });

  return r;
}

/** Request counts and latencies by route pattern (not raw path: references and tokens stay out). */
export function httpMetrics(deps: AppDeps) {
  const duration = new Histogram({
    name: 'takedown_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [deps.metrics],
  });
  const errors = new Counter({
    name: 'takedown_http_server_errors_total',
    help: 'Responses with a 5xx status',
    registers: [deps.metrics],
  });
  const middleware = (req: Request, res: Response, next: NextFunction) => {
    const end = duration.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
      if (res.statusCode >= 500) errors.inc();
    });
    next();
  };
  // The lean front's answers (shared/lean-public.ts) land in the same histogram, through labelled
  // children looked up once per (method, route, status) instead of hashing the labels per request.
  const children = new Map<string, ReturnType<typeof duration.labels>>();
  const observe = (method: string, route: string, status: number, seconds: number) => {
    const key = `${method} ${status} ${route}`;
    let child = children.get(key);
    if (!child) children.set(key, (child = duration.labels({ method, route, status: String(status) })));
    child.observe(seconds);
    if (status >= 500) errors.inc();
  };
  return Object.assign(middleware, { observe });
}

/** `/healthz` on the lean front: the same answer as the route above, prepared once. */
export function leanHealth(): LeanRoute {
  const answer: LeanAnswer = {
    status: 200,
    body: Buffer.from(JSON.stringify({ status: 'ok' })),
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
  };
  return { route: '/healthz', path: '/healthz', answer: () => answer };
}
