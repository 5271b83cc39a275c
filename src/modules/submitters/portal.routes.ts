import { plainToInstance } from 'class-transformer';
import connectPgSimple from 'connect-pg-simple';
import cookieParser from 'cookie-parser';
import { createHmac } from 'node:crypto';
import { doubleCsrf } from 'csrf-csrf';
import { Request, Response, Router } from 'express';
import session from 'express-session';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppDeps } from '../../deps';
import { requireSubmitter } from '../../http/submitter-guards';
import { poolOf } from '../../db/data-source';
import { AppError } from '../../shared/errors';
import { errorsByField, noStore, requestContext, safeNextPath, validationErrors } from '../../shared/http';
import { csvRow } from '../../shared/csv';
import { readMultipart, type UploadedFile } from '../../shared/multipart';
import { currentLetter, uploadLetter } from './authorisation-letters';
import { isDeliverableAddress } from '../mail';
import {
  ACCURACY_STATEMENT,
  CLAIM_TYPES,
  complainantView,
  GOOD_FAITH_STATEMENT,
  findByReference,
  formToNotice,
  NoticeDto,
  noticeFormView,
  submitNotice,
} from '../notices';
import { listPortalNotices, parsePortalFilter, portalCsvRows, PORTAL_CSV_COLUMNS } from './portal.queries';
import { ProfileDto, suspension, updateProfile } from './profile';
import { currentStatements, makeStatements, statementHistory, StandingStatementsDto, withdrawStatements } from './standing-statements';
import { createSubmitterToken, revokeSubmitterToken, tokensOf } from './submitter-tokens';
import { checkSignInLink, linkProblem, requestSignInLink, useSignInLink } from './sign-in';
import { Submitter } from './submitter.entity';

export const PORTAL_COOKIE = 'td.portal';

const STATUS_LABELS: Record<string, string> = {
  unverified: 'waiting for your confirmation',
  pending: 'in the queue',
  in_review: 'being reviewed',
  needs_info: 'waiting for your answer',
  approved: 'approved',
  countered: 'counter-notice received',
  rejected: 'rejected',
  withdrawn: 'withdrawn',
  spam: 'closed',
  restored: 'content restored',
  upheld: 'removal upheld',
};

/** A portal form that uploads a file (multipart): its path under `/portal` and the file's limit. */
export interface PortalUpload {
  path: string;
  maxFileBytes: number;
}

/**
 * The rights holders' portal (SPEC §14), mounted at `/portal`. Its session is its own: another
 * cookie (`td.portal`), another signing secret, and it only ever holds `submitterId`, so a staff
 * session is no portal session and the other way round. CSRF on every form, bound to this session.
 * `pages`: other modules' portal pages (e.g. batches), mounted behind the same session and CSRF;
 * `uploads`: which of their POSTs take a file.
 */
export function portalRoutes(deps: AppDeps, pages: Router[] = [], uploads: PortalUpload[] = []): Router {
  const { config } = deps;
  const PgStore = connectPgSimple(session);
  const secret = createHmac('sha256', deps.sessionSecret).update('portal-session').digest('base64url');
  const portalSession = session({
    store: new PgStore({ pool: poolOf(deps.db), tableName: 'sessions', createTableIfMissing: false, pruneSessionInterval: false }),
    name: PORTAL_COOKIE,
    secret,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    proxy: config.trustProxy,
    cookie: { httpOnly: true, sameSite: 'lax', secure: config.secureCookies, maxAge: 8 * 60 * 60 * 1000, path: '/portal' },
  });
  const csrf = doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: (req) => req.sessionID ?? '',
    cookieName: config.secureCookies ? '__Host-td.portal.csrf' : 'td.portal.csrf',
    cookieOptions: { sameSite: 'strict', secure: config.secureCookies, path: '/', httpOnly: true },
    getCsrfTokenFromRequest: (req) => (req.body && typeof req.body._csrf === 'string' ? req.body._csrf : req.headers['x-csrf-token']),
  });
  const limiter = (keyPrefix: string, points: number, duration: number) =>
    new RateLimiterPostgres({
      storeClient: poolOf(deps.db),
      storeType: 'pool',
      tableName: 'rate_limits',
      tableCreated: true,
      keyPrefix,
      points,
      duration,
    });
  const perIp = limiter('portal-login-ip', 20, 15 * 60);
  const perAddress = limiter('portal-login-address', 3, 15 * 60);

  const r = Router();
  r.use(noStore, cookieParser(), portalSession);
  r.use(async (req, res, next) => {
    const id = req.session.submitterId;
    if (id) {
      const s = await deps.db.getRepository(Submitter).findOneBy({ id });
      if (s) {
        req.submitter = s;
        res.locals.currentSubmitter = s;
      } else delete req.session.submitterId;
    }
    res.locals.robotsNoindex = true;
    next();
  });
  // File uploads (the letter here, other modules' `uploads`) are multipart forms: read them (bounded,
  // streamed; the file kept up to its limit, the rest drained and the file marked truncated) before
  // the CSRF check, which needs their `_csrf` field. Only these routes, only a signed-in submitter;
  // the route finds the file in `res.locals.upload`.
  for (const u of [{ path: '/profile/letter', maxFileBytes: config.submitters.letterMaxBytes }, ...uploads]) {
    r.post(u.path, async (req, res, next) => {
      if (!req.submitter || !req.is('multipart/form-data')) return next();
      const { fields, file } = await readMultipart(req, { maxFileBytes: u.maxFileBytes });
      req.body = fields;
      res.locals.upload = file;
      next();
    });
  }
  r.use(csrf.doubleCsrfProtection);
  r.use((req, res, next) => {
    res.locals.csrfToken = csrf.generateCsrfToken(req, res);
    if (req.session.flash) {
      res.locals.flash = req.session.flash;
      delete req.session.flash;
    }
    next();
  });

  // ---- sign-in by emailed link ----
  const loginView = (values: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    title: 'Rights holders: sign in',
    values,
    ...extra,
  });

  r.get('/login', (req, res) => {
    if (req.submitter) return res.redirect(303, safeNextPath(req.query.next, '/portal'));
    req.session.visited = true; // keeps the session, so the form's CSRF token stays bound to it
    res.render('portal/login', loginView({ next: safeNextPath(req.query.next, '/portal') }));
  });

  r.post('/login', async (req, res) => {
    const email = String(req.body?.email ?? '')
      .trim()
      .toLowerCase()
      .slice(0, 254);
    const values = { email, next: safeNextPath(req.body?.next, '/portal') };
    try {
      await perIp.consume(req.ip ?? 'unknown');
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      res.setHeader('Retry-After', String(Math.ceil(e.msBeforeNext / 1000)));
      return res
        .status(429)
        .render(
          'portal/login',
          loginView(values, { formError: 'Too many sign-in requests from your network. Wait a few minutes and try again.' }),
        );
    }
    if (!isDeliverableAddress(email)) {
      return res
        .status(422)
        .render('portal/login', loginView(values, { errors: { email: 'Enter your email address, like name@example.com.' } }));
    }
    // Over the per-address limit: the same answer, and no email (nobody can flood an inbox with links).
    const allowed = await perAddress.consume(email).then(
      () => true,
      (e) => {
        if (e instanceof RateLimiterRes) return false;
        throw e;
      },
    );
    if (allowed) await requestSignInLink(deps, { email, context: requestContext(req) });
    req.session.portalNext = values.next;
    res.render('portal/sent', { title: 'Check your email', email });
  });

  // The emailed link: its GET only shows a button (mail scanners and link previews open links),
  // the button's POST signs in.
  r.get('/login/link', async (req, res) => {
    try {
      await checkSignInLink(deps, req.query.token);
    } catch (e) {
      if (!(e instanceof AppError) || !e.code.startsWith('PORTAL.LINK_')) throw e;
      return res.status(e.status).render('portal/link-problem', { title: 'This sign-in link does not work', message: e.message });
    }
    req.session.visited = true;
    res.render('portal/link', { title: 'Sign in to the rights holders’ portal', token: req.query.token });
  });

  r.post('/login/link', async (req, res) => {
    let submitter: Submitter;
    try {
      submitter = await useSignInLink(deps, { token: req.body?.token, context: requestContext(req) });
    } catch (e) {
      if (!(e instanceof AppError) || !e.code.startsWith('PORTAL.LINK_')) throw e;
      return res.status(e.status).render('portal/link-problem', { title: 'This sign-in link does not work', message: linkProblem(e.code) });
    }
    const next = safeNextPath(req.session.portalNext, '/portal');
    await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
    req.session.submitterId = submitter.id;
    res.redirect(303, next.startsWith('/portal') ? next : '/portal');
  });

  r.post('/logout', async (req, res) => {
    await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    res.clearCookie(PORTAL_COOKIE, { path: '/portal' });
    res.redirect(303, '/portal/login');
  });

  // ---- the submitter's notices ----
  r.get('/', requireSubmitter, async (req, res) => {
    const filter = parsePortalFilter(req.query as Record<string, unknown>);
    const { rows, next } = await listPortalNotices(deps.db.manager, req.submitter!.email, filter);
    const query = new URLSearchParams(Object.entries({ ...filter, cursor: undefined }).filter(([, v]) => v) as [string, string][]);
    res.render('portal/index', {
      title: 'Your notices',
      filter,
      rows: rows.map((r) => ({ ...r, statusLabel: STATUS_LABELS[r.status] ?? r.status })),
      claimTypes: CLAIM_TYPES,
      statuses: Object.entries(STATUS_LABELS).map(([value, label]) => ({ value, label })),
      nextUrl: next ? `/portal?${new URLSearchParams([...query, ['cursor', next]])}` : null,
      csvUrl: `/portal/notices.csv${query.size ? `?${query}` : ''}`,
      suspended: suspension(req.submitter!, deps.clock.now())?.message ?? null,
    });
  });

  r.get('/notices.csv', requireSubmitter, async (req, res) => {
    const filter = parsePortalFilter(req.query as Record<string, unknown>);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="notices.csv"');
    res.write(csvRow(PORTAL_CSV_COLUMNS));
    for await (const row of portalCsvRows(deps.db.manager, req.submitter!.email, filter)) {
      if (!res.write(csvRow(row))) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  });

  // ---- a new notice, pre-filled from the profile; the address is verified already ----
  const formValues = (s: Submitter) => ({
    name: s.name ?? '',
    organization: s.organization ?? '',
    phone: s.phone ?? '',
    address: s.address ?? '',
    country: s.country ?? '',
    role: s.role ?? 'owner',
    rightsOwner: s.rightsOwners[0] ?? '',
    claimType: 'copyright',
    signature: s.name ?? '',
  });
  const renderNoticeForm = async (
    res: Response,
    status: number,
    s: Submitter,
    values: Record<string, unknown>,
    errors: { field: string; message: string }[] = [],
  ) => {
    const standing = await currentStatements(deps.db.manager, s.id);
    res.status(status).render('notices/form', {
      ...noticeFormView(values, errors),
      title: 'Send a notice',
      portal: { email: s.email, standing },
      refused: suspension(s, deps.clock.now())?.message ?? null,
    });
  };

  r.get('/notices/new', requireSubmitter, async (req, res) => {
    const url = typeof req.query.url === 'string' ? req.query.url.slice(0, 2048) : '';
    await renderNoticeForm(res, 200, req.submitter!, { ...formValues(req.submitter!), infringingUrls: url });
  });

  r.post('/notices/new', requireSubmitter, async (req, res) => {
    const s = req.submitter!;
    const body = { ...((req.body ?? {}) as Record<string, unknown>) };
    delete body._csrf;
    const values = { ...body, goodFaith: body.goodFaith === 'true', accuracy: body.accuracy === 'true' };
    // Suspended (DSA Art. 23): the form again, 403, saying until when and why.
    if (suspension(s, deps.clock.now())) return renderNoticeForm(res, 403, s, values);
    // Standing statements in force stand in for the notice's own statements and signature.
    const standing = await currentStatements(deps.db.manager, s.id);
    const dto = {
      ...formToNotice(body),
      email: s.email,
      ...(standing ? { goodFaith: true, accuracy: true, signature: standing.signature } : {}),
    };
    const errors = (await validationErrors(NoticeDto, dto)).map((e) =>
      standing && e.field === 'signature'
        ? { field: 'name', message: `Send the notice in the name you signed your standing statements with: ${standing.signature}.` }
        : e,
    );
    if (errors.length) return renderNoticeForm(res, 422, s, values, errors);
    const { answer } = await submitNotice(deps, {
      dto: plainToInstance(NoticeDto, dto),
      channel: 'form',
      context: requestContext(req),
      verifiedEmail: true,
      standingStatements: standing ?? undefined,
      grouped: true,
    });
    req.session.flash = { kind: 'ok', message: `Notice ${answer.reference} was sent. We email you at every step.` };
    res.redirect(303, `/portal/notices/${answer.reference}`);
  });

  r.get('/notices/:reference', requireSubmitter, async (req, res) => {
    const notice = await findByReference(deps.db.manager, String(req.params.reference));
    // Someone else's notice is as unknown as a reference that does not exist.
    if (!notice || notice.email !== req.submitter!.email) throw AppError.notFound('Notice', 'NOTICE.NOT_FOUND');
    const view = await complainantView(deps.db.manager, notice);
    res.render('portal/notice', { title: `Notice ${notice.reference}`, ...view });
  });

  // ---- the profile ----
  const profileValues = (s: Submitter) => ({ ...s, rightsOwners: s.rightsOwners.join('\n') });
  const profileView = async (s: Submitter, extra: Record<string, unknown> = {}) => ({
    title: 'Your profile',
    values: profileValues(s),
    current: await currentStatements(deps.db.manager, s.id),
    history: await statementHistory(deps.db.manager, s.id),
    statements: { goodFaith: GOOD_FAITH_STATEMENT, accuracy: ACCURACY_STATEMENT },
    statementValues: { signature: s.name ?? '' },
    letter: await currentLetter(deps.db.manager, s.id),
    letterMaxMb: Math.round((config.submitters.letterMaxBytes / 1024 / 1024) * 10) / 10,
    ...extra,
  });
  r.get('/profile', requireSubmitter, async (req, res) => {
    res.render('portal/profile', await profileView(req.submitter!));
  });

  r.post('/statements', requireSubmitter, async (req, res) => {
    const body = { ...((req.body ?? {}) as Record<string, unknown>) };
    delete body._csrf;
    const errors = await validationErrors(StandingStatementsDto, body);
    if (errors.length) {
      return res
        .status(422)
        .render('portal/profile', await profileView(req.submitter!, { statementErrors: errorsByField(errors), statementValues: body }));
    }
    const made = await makeStatements(deps, {
      submitterId: req.submitter!.id,
      dto: plainToInstance(StandingStatementsDto, body),
      context: requestContext(req),
    });
    req.session.flash = {
      kind: 'ok',
      message: `Your standing statements (version ${made.version}) are on file and apply to your next notices.`,
    };
    res.redirect(303, '/portal/profile#statements');
  });

  r.post('/statements/withdraw', requireSubmitter, async (req, res) => {
    const done = await withdrawStatements(deps, { submitterId: req.submitter!.id, context: requestContext(req) });
    req.session.flash = {
      kind: 'ok',
      message: done
        ? 'Your standing statements were withdrawn: each notice now carries its own.'
        : 'You had no standing statements in force.',
    };
    res.redirect(303, '/portal/profile#statements');
  });

  r.post('/profile/letter', requireSubmitter, async (req, res) => {
    const file = res.locals.upload as UploadedFile | null;
    try {
      await uploadLetter(deps, { submitterId: req.submitter!.id, file, context: requestContext(req) });
    } catch (e) {
      if (!(e instanceof AppError) || !e.details.errors?.length || e.status >= 500) throw e;
      return res.status(e.status).render('portal/profile', await profileView(req.submitter!, { letterError: e.details.errors[0].message }));
    }
    req.session.flash = { kind: 'ok', message: 'Your authorisation letter was uploaded; our staff will read it beside your notices.' };
    res.redirect(303, '/portal/profile#letter');
  });

  r.post('/profile', requireSubmitter, async (req, res) => {
    const body = { ...((req.body ?? {}) as Record<string, unknown>) };
    delete body._csrf;
    const errors = await validationErrors(ProfileDto, body);
    if (errors.length)
      return res.status(422).render('portal/profile', await profileView(req.submitter!, { values: body, errors: errorsByField(errors) }));
    await updateProfile(deps, { submitterId: req.submitter!.id, dto: plainToInstance(ProfileDto, body), context: requestContext(req) });
    req.session.flash = { kind: 'ok', message: 'Your profile was saved.' };
    res.redirect(303, '/portal/profile');
  });

  // ---- API tokens: shown once, stored hashed ----
  r.get('/tokens', requireSubmitter, async (req, res) => {
    const tokens = await tokensOf(deps.db.manager, req.submitter!.id);
    res.render('portal/tokens', { title: 'Your API tokens', tokens, apiBase: `${config.publicBaseUrl}/api/v1` });
  });

  r.post('/tokens', requireSubmitter, async (req, res) => {
    const { token, row } = await createSubmitterToken(deps, {
      submitterId: req.submitter!.id,
      name: String(req.body?.name ?? ''),
      context: requestContext(req),
    });
    req.session.flash = { kind: 'ok', message: `Token "${row.name}" created. Copy it now: it is shown only once.`, secret: token };
    res.redirect(303, '/portal/tokens');
  });

  r.post('/tokens/:id/revoke', requireSubmitter, async (req, res) => {
    await revokeSubmitterToken(deps, { submitterId: req.submitter!.id, tokenId: String(req.params.id), context: requestContext(req) });
    req.session.flash = { kind: 'ok', message: 'The token was revoked.' };
    res.redirect(303, '/portal/tokens');
  });

  for (const p of pages) r.use(p);

  // Nothing under /portal falls through to the staff router (and its session).
  r.use((req: Request) => {
    throw AppError.notFound(`Page ${req.originalUrl.split('?')[0]}`);
  });
  return r;
}
