import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import cookieParser from 'cookie-parser';
import { doubleCsrf } from 'csrf-csrf';
import express, { Express, NextFunction, Request, Response } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import pinoHttp from 'pino-http';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import type { AppDeps } from './deps';
import { poolOf } from './db/data-source';
import { errorHandler, notFound } from './shared/error-handler';
import { AppError } from './shared/errors';
import { refuseDeepBodies, refuseNulInAddress, refuseNulInBody } from './shared/http';
import { publicDir, viewsDir } from './shared/paths';
import { createViewEngine } from './shared/views';
import { installLeanFront, leanPublicPath, precomputedHeaders } from './shared/lean-public';
import { loadSessionUser } from './http/guards';
import { StaffSessionStore } from './modules/auth';
import { registerMailMetrics } from './modules/mail';
import { registerInboundMetrics } from './modules/inbound';
import { registerReviewMetrics } from './modules/review';
import { registerWebhookMetrics } from './modules/webhooks';
// Routers are mounted here from their modules' *.routes.ts / *.api.ts files; no module index exports one.
import { auditApi, auditPages } from './modules/audit/audit.routes';
import { authRoutes } from './modules/auth/auth.routes';
import { meApi } from './modules/auth/me.routes';
import { usersRoutes } from './modules/auth/users.routes';
import { counterNoticePages, counterNoticesApi, counterNoticesStaffRoutes } from './modules/counter-notices/counter-notices.routes';
import { itemsAdminRoutes } from './modules/items/items-admin.routes';
import { itemsApi } from './modules/items/items.api';
import { leanItemPages, publicItemRoutes } from './modules/items/items.routes';
import { sourcesRoutes } from './modules/items/sources.routes';
import { outboxRoutes } from './modules/mail/outbox.routes';
import { noticesPublicApi } from './modules/notices/notices.api';
import { noticePages } from './modules/notices/notices.routes';
import { apiDocsAssets, apiDocsRoutes } from './modules/ops/api-docs.routes';
import { openApiRoutes } from './modules/ops/openapi.routes';
import { heldItemsApi, heldItemsPages } from './modules/staydown/held.routes';
import { imagesStaffRoutes } from './modules/images/images.routes';
import { imagesApi } from './modules/images/images.api';
import { complaintPages } from './modules/complaints/complaints.routes';
import { complaintsStaffRoutes } from './modules/complaints/complaints-staff.routes';
import { complaintPortalPages } from './modules/complaints/complaints-portal.routes';
import { sessionsRoutes } from './modules/auth/sessions.routes';
import { twoFactorRoutes } from './modules/auth/two-factor.routes';
import { passkeyRoutes } from './modules/auth/passkeys.routes';
import { inboundApi } from './modules/inbound/inbound.api';
import { mailboxRoutes } from './modules/inbound/mailbox.routes';
import { batchesApi } from './modules/batches/batches.api';
import { BATCH_UPLOAD, batchesPortalPages } from './modules/batches/batches-portal.routes';
import { portalRoutes } from './modules/submitters/portal.routes';
import { submittersAdminRoutes } from './modules/submitters/submitters-admin.routes';
import { submitterApi } from './modules/submitters/submitter.api';
import { webhooksApi } from './modules/webhooks/webhooks.api';
import { webhooksPortalPages } from './modules/webhooks/webhooks-portal.routes';
import { httpMetrics, leanHealth, opsRoutes } from './modules/ops/ops.routes';
import { optOutPages } from './modules/opt-out/opt-out.routes';
import { policyPages } from './modules/policy/policy.routes';
import { reviewApi } from './modules/review/review.api';
import { reviewPages } from './modules/review/review.routes';
import { bulkApi } from './modules/review/bulk.api';
import { bulkPages } from './modules/review/bulk.routes';
import { transparencyRoutes } from './modules/reports/transparency.routes';
import { liveRoutes } from './modules/live/live.routes';
import { dashboardRoutes } from './modules/reports/dashboard.routes';
import { evidenceRoutes } from './modules/evidence/evidence.routes';
import { LiveHub } from './modules/live';

export const SESSION_COOKIE = 'td.sid';

/** Builds the Express app. It never listens and starts no workers: `server.ts` does that. */
export function createApp(deps: AppDeps): Express {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy ? 1 : false);
  const engine = createViewEngine();
  app.engine('hbs', engine.engine);
  app.set('view engine', 'hbs');
  app.set('views', viewsDir);
  // Compiled templates are kept in every mode (a cold page must not re-read and recompile them);
  // VIEW_RELOAD=true re-reads them on every render, for someone editing views/.
  if (!config.viewReload) app.enable('view cache');

  const requestId = (req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && /^[\w.-]{8,64}$/.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', id);
    return id;
  };
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'https:'],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        frameSrc: ["'self'", 'https://www.youtube-nocookie.com', 'https://player.vimeo.com'],
        ...(config.secureCookies ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: config.secureCookies,
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    frameguard: { action: 'deny' },
  });
  const metrics = httpMetrics(deps);
  registerMailMetrics(deps);
  registerReviewMetrics(deps);
  registerWebhookMetrics(deps);
  app.locals.baseUrl = config.publicBaseUrl;

  const publicHeaders = precomputedHeaders(securityHeaders);
  // ---- Item pages and /healthz (GET/HEAD): the lean front, before Express's router (lean-public.ts) ----
  installLeanFront(app, {
    headers: publicHeaders,
    requestId,
    observe: metrics.observe,
    logger,
    routes: [leanHealth(), leanItemPages(deps)],
  });

  app.use(metrics);
  app.use(refuseNulInAddress);
  // ---- Other public pages and probes (GET/HEAD): the lean path, before the request logger ----
  app.use(
    leanPublicPath({
      headers: publicHeaders,
      requestId,
      before: [],
      routers: [opsRoutes(deps), publicItemRoutes(deps), transparencyRoutes(deps)],
    }),
  );

  app.use(
    pinoHttp({
      logger,
      genReqId: requestId,
      // Paths only: query strings can carry status tokens and personal data.
      serializers: {
        req: (req) => ({ id: req.id, method: req.method, path: String(req.url).split('?')[0] }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(String(req.url)) },
    }),
  );
  app.use(securityHeaders);
  registerInboundMetrics(deps);
  app.use(opsRoutes(deps));
  app.use('/static/swagger-ui', apiDocsAssets());
  app.use('/static', express.static(publicDir, { maxAge: '1h', fallthrough: false, index: false }));

  // ---- Public site (GET only): before the body parsers and the staff router, so these pages never
  // touch the session store and do no work they do not need ----
  app.use(publicItemRoutes(deps));
  app.use(transparencyRoutes(deps));
  app.use(apiDocsRoutes());

  app.use(express.urlencoded({ extended: false, limit: '1mb', parameterLimit: 2000 }));
  // A batch upload (up to MAX_BATCH_BYTES) is read by its own route, not by the 1 MB parser.
  const json = express.json({ limit: '1mb' });
  app.use((req, res, next) => (req.path === '/api/v1/batches' && req.method === 'POST' ? next() : json(req, res, next)));
  app.use(refuseDeepBodies, refuseNulInBody);
  app.use((_req, res, next) => {
    res.locals.baseUrl = config.publicBaseUrl;
    next();
  });

  // ---- Public intake (form, status page): no session; the status token is the credential ----
  app.use(noticePages(deps));
  // ---- Counter-notices (§ 512(g)): anyone may send one; no session either ----
  app.use(counterNoticePages(deps));
  // ---- Publisher opt-out: the emailed link is the credential ----
  app.use(optOutPages(deps));
  // ---- Complaints against decisions (DSA Art. 20): the status token or the signed removal link ----
  app.use(complaintPages(deps));
  app.use(policyPages(deps));
  // ---- Rights holders' portal: its own session cookie and CSRF, never the staff session ----
  app.use('/portal', portalRoutes(deps, [batchesPortalPages(deps), webhooksPortalPages(deps), complaintPortalPages(deps)], [BATCH_UPLOAD]));

  // ---- Staff side: sessions in PostgreSQL, CSRF on every form, rate-limited sign-in ----
  // A save never brings an ended session back (a request of it still running when it was ended).
  const store = new StaffSessionStore(poolOf(deps.db), (session) =>
    deps.logger.info({ session }, 'session: a late save of an ended session was dropped'),
  );
  const staffSession = session({
    store,
    name: SESSION_COOKIE,
    secret: deps.sessionSecret,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    proxy: config.trustProxy,
    cookie: { httpOnly: true, sameSite: 'lax', secure: config.secureCookies, maxAge: 8 * 60 * 60 * 1000 },
  });
  const csrf = doubleCsrf({
    getSecret: () => deps.sessionSecret,
    getSessionIdentifier: (req) => req.sessionID ?? '',
    // __Host- cookies need Secure, which never comes back over plain HTTP (local and tests).
    cookieName: config.secureCookies ? '__Host-td.csrf' : 'td.csrf',
    cookieOptions: { sameSite: 'strict', secure: config.secureCookies, path: '/', httpOnly: true },
    getCsrfTokenFromRequest: (req) => (req.body && typeof req.body._csrf === 'string' ? req.body._csrf : req.headers['x-csrf-token']),
  });
  const loginLimiter = new RateLimiterPostgres({
    storeClient: poolOf(deps.db),
    storeType: 'pool',
    tableName: 'rate_limits',
    tableCreated: true,
    keyPrefix: 'login',
    points: 20,
    duration: 15 * 60,
  });

  const staff = express.Router();
  staff.use(cookieParser(), staffSession, loadSessionUser(deps.db, config.require2fa, deps.clock), csrf.doubleCsrfProtection);
  staff.use((req: Request, res: Response, next: NextFunction) => {
    res.locals.csrfToken = csrf.generateCsrfToken(req, res);
    if (req.session.flash) {
      res.locals.flash = req.session.flash;
      delete req.session.flash;
    }
    next();
  });
  staff.use(authRoutes(deps, loginLimiter));
  staff.use(twoFactorRoutes(deps, loginLimiter), passkeyRoutes(deps, loginLimiter), sessionsRoutes(deps));
  staff.use(usersRoutes(deps));
  staff.use(submittersAdminRoutes(deps));
  staff.use(outboxRoutes(deps));
  // The held list (/items?status=held) is answered before the items search it specialises.
  staff.use(sourcesRoutes(deps), heldItemsPages(deps), itemsAdminRoutes(deps));
  staff.use(imagesStaffRoutes(deps));
  staff.use(counterNoticesStaffRoutes(deps));
  staff.use(complaintsStaffRoutes(deps));
  // The live stream (SPEC §15): one hub, so one LISTEN connection, per app instance; server.ts closes it.
  const liveHub = new LiveHub(deps);
  app.locals.liveHub = liveHub;
  staff.use(liveRoutes(deps, liveHub), dashboardRoutes(deps), evidenceRoutes(deps));
  staff.use(bulkPages(deps), reviewPages(deps));
  staff.use(mailboxRoutes(deps));

  // ---- JSON API: bearer tokens for staff, no cookies, so no CSRF ----
  const api = express.Router();
  api.use(openApiRoutes(deps));
  // Submitter tokens (`tds_…`) first: a request without one is handed on to the routes below.
  api.use(submitterApi(deps), batchesApi(deps), webhooksApi(deps));
  api.use(noticesPublicApi(deps), counterNoticesApi(deps));
  // After the public notice API: its GET /notices/:reference hands a token-less, authorised request on.
  api.use(reviewApi(deps), bulkApi(deps));
  api.use(meApi(deps), auditApi(deps), itemsApi(deps), heldItemsApi(deps), imagesApi(deps));
  api.use(inboundApi(deps));
  api.use((req: Request) => {
    throw AppError.notFound(`API route ${req.method} ${req.baseUrl}${req.path}`, 'API.NOT_FOUND');
  });
  app.use('/api/v1', api);

  staff.use(auditPages(deps));
  app.use(staff);

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
