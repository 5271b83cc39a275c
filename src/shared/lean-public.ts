import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Router } from 'express';

/**
 * The lean path of public GETs (issue 18): the public pages and the health probes are what a
 * crawler or a load balancer hits thousands of times a second, so they skip what they do not need.
 *
 *  - no request logger: pino-http builds a child logger and serializers for every request; a
 *    public GET is logged only when it fails (the error handler logs 5xx with the base logger);
 *  - helmet's headers are computed once at start (they are the same for every response) and set
 *    in one call;
 *  - no body parsers, session, CSRF or rate limiter (they were already mounted after these routes);
 *  - request id and metrics stay.
 * A request that none of these routes answers falls through to the full stack unchanged.
 */

const PUBLIC_GET = /^\/(?:$|\?|items\/|feed\.xml(?:$|\?)|sitemap[^/?]*\.xml(?:$|\?)|transparency(?:$|[/?])|healthz$|readyz$)/;

/** The headers a (synchronous, request-independent) middleware such as helmet sets, captured once. */
export function precomputedHeaders(mw: RequestHandler): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (k: string, v: string | number | readonly string[]) => (headers[k] = String(v)),
    removeHeader: (k: string) => delete headers[k],
    getHeader: (k: string) => headers[k],
  };
  let called = false;
  mw({ headers: {}, method: 'GET', url: '/' } as unknown as Request, res as unknown as Response, () => (called = true));
  if (!called) throw new Error('the middleware did not finish synchronously: its headers cannot be precomputed');
  return headers;
}

export function leanPublicPath(opts: {
  headers: Record<string, string>;
  requestId: (req: IncomingMessage, res: ServerResponse) => string;
  before: RequestHandler[];
  routers: Router[];
}): RequestHandler {
  const inner = Router();
  inner.use(...opts.before, ...opts.routers);
  const entries = Object.entries(opts.headers);
  return (req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !PUBLIC_GET.test(req.url)) return next();
    for (const [k, v] of entries) res.setHeader(k, v);
    (req as unknown as { id: string }).id = opts.requestId(req, res);
    inner(req, res, next);
  };
}
