import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { Router } from 'express';
import type { Logger } from 'pino';

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

/** What the lean front sends: a complete answer, prepared once (a cached page) or per request. */
export interface LeanAnswer {
  status: number;
  body: Buffer;
  /** Sent with 200 answers; `If-None-Match`/`If-Modified-Since` against it give a 304, as Express's `req.fresh` would. */
  etag?: string;
  headers: Readonly<Record<string, string>>;
}

/**
 * A route of the lean front: an exact path or every path under a prefix. `answer` gets the rest of
 * the path after the prefix (or the whole path) and gives the answer, synchronously when it has it
 * (a cache hit) or as a promise (a miss); `null`, or a rejection, hands the request to the full app,
 * which answers it in full (its own route, 404 page, error handler and logging).
 */
export interface LeanRoute {
  /** The route pattern reported in metrics, as the full app's route would be ('/items/:slug'). */
  route: string;
  path?: string;
  prefix?: string;
  answer(rest: string): LeanAnswer | Promise<LeanAnswer | null> | null;
}

export interface LeanFrontOptions {
  /** The security headers of every answer (precomputedHeaders(helmet(…))). */
  headers: Record<string, string>;
  requestId: (req: IncomingMessage, res: ServerResponse) => string;
  /** Counts the answer in the request metrics (route pattern, status, seconds). */
  observe: (method: string, route: string, status: number, seconds: number) => void;
  logger: Logger;
  routes: LeanRoute[];
}

/** A lean answer slower than this is logged (warn) with its request id. */
const SLOW_SECONDS = 1;

/**
 * The lean front (issue 18): the hottest public GETs — item pages, hit or miss, and `/healthz` —
 * answered before Express's router, so they pay for no middleware at all: node's `writeHead` with
 * the security headers precomputed once, the page's own headers and body prepared once (cached
 * pages), a request id, one histogram observation. Measured on the items bench, the router walk, the
 * per-request middleware closures and `res.send`'s header handling were most of a hot page's cost.
 *
 * What the full stack did for these requests and what happens to it here:
 *  - security headers: the same, computed once from the same helmet configuration;
 *  - request id (`X-Request-Id`): the same function; metrics: the same histogram and route labels;
 *  - request log: pino-http was already skipped for public GETs; a lean answer is logged when it is
 *    slow (≥ 1 s) or, at LOG_LEVEL=debug, always; failures and 404s go to the full app, which logs them;
 *  - NUL refusal: a path with anything but a plain slug, or a query with a NUL, goes to the full app;
 *  - conditional GET and HEAD: 304 as Express's `fresh` decides (ETag first, then Last-Modified);
 *    HEAD gets the headers and Content-Length without the body;
 *  - no cookies are read or set, no session, no CSRF, no body parsing: none was needed.
 * Installed by wrapping `app.handle`, so supertest (tests) and the server go through the same front.
 */
export function installLeanFront(app: Express, opts: LeanFrontOptions): void {
  const exact = new Map<string, LeanRoute>();
  const prefixed: LeanRoute[] = [];
  for (const r of opts.routes) {
    if (r.path) exact.set(r.path, r);
    else if (r.prefix) prefixed.push(r);
  }
  const security = opts.headers;
  const { observe, logger } = opts;
  const full = (app as unknown as { handle: Handle }).handle.bind(app);

  const send = (req: IncomingMessage, res: ServerResponse, route: LeanRoute, a: LeanAnswer, id: string, started: number) => {
    const headers: Record<string, string> = { ...security, ...a.headers, 'X-Request-Id': id };
    let status = a.status;
    let body: Buffer | null = req.method === 'HEAD' ? null : a.body;
    if (a.etag && status === 200) {
      headers.ETag = a.etag;
      if (isFresh(req.headers, a.etag, a.headers['Last-Modified'])) {
        status = 304;
        delete headers['Content-Type'];
        body = null;
      }
    }
    if (status !== 304) headers['Content-Length'] = String(a.body.length);
    res.writeHead(status, headers);
    res.end(body);
    const seconds = (performance.now() - started) / 1000;
    observe(req.method as string, route.route, status, seconds);
    if (seconds >= SLOW_SECONDS || logger.isLevelEnabled('debug'))
      logger[seconds >= SLOW_SECONDS ? 'warn' : 'debug'](
        { req: { id, method: req.method, path: route.route }, res: { statusCode: status }, responseTime: Math.round(seconds * 1000) },
        'request completed (lean front)',
      );
  };

  const handle: Handle = function (req, res, callback) {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return full(req, res, callback);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    let route = exact.get(path);
    let rest = path;
    if (!route) {
      for (const r of prefixed)
        if (path.startsWith(r.prefix as string)) {
          route = r;
          rest = path.slice((r.prefix as string).length);
          break;
        }
    }
    if (!route || (q !== -1 && (url.includes('%00', q) || url.includes('\u0000', q)))) return full(req, res, callback);
    const started = performance.now();
    let answer: ReturnType<LeanRoute['answer']>;
    try {
      answer = route.answer(rest);
    } catch {
      answer = null;
    }
    if (answer === null) return full(req, res, callback);
    const id = opts.requestId(req, res);
    if (!(answer instanceof Promise)) return send(req, res, route, answer, id, started);
    const r = route;
    answer.then(
      (a) => (a ? send(req, res, r, a, id, started) : full(req, res, callback)),
      () => full(req, res, callback),
    );
  };
  (app as unknown as { handle: Handle }).handle = handle;
}

type Handle = (req: IncomingMessage, res: ServerResponse, callback?: (err?: unknown) => void) => void;

const NO_CACHE = /(?:^|,)\s*?no-cache\s*?(?:,|$)/;

/** Express's `req.fresh` (the `fresh` package) for one ETag and Last-Modified. */
export function isFresh(req: IncomingMessage['headers'], etag: string, lastModified: string | undefined): boolean {
  const modifiedSince = req['if-modified-since'];
  const noneMatch = req['if-none-match'];
  if (!modifiedSince && !noneMatch) return false;
  const cacheControl = req['cache-control'];
  if (cacheControl && NO_CACHE.test(cacheControl)) return false;
  if (noneMatch) {
    if (noneMatch === '*') return true;
    for (const raw of noneMatch.split(',')) {
      const m = raw.trim();
      if (m === etag || m === `W/${etag}` || `W/${m}` === etag) return true;
    }
    return false;
  }
  if (!lastModified) return false;
  const since = Date.parse(modifiedSince as string);
  const modified = Date.parse(lastModified);
  return modified <= since;
}
