import request from 'supertest';
import { withTransaction } from '../../src/db/transaction';
import { setActive } from '../../src/modules/auth/manage-users';
import { createTestContext, TestContext } from '../support/context';
import { createStaff, csrfFrom } from '../support/staff';
import {
  Agent,
  anonymousPortalSession,
  anonymousSession,
  appRoutes,
  buildWorld,
  fillPath,
  isWrite,
  RouteInfo,
  staffSession,
  submitterSession,
  World,
} from './support';

/**
 * Who may call what. Every route registered in the app (read from the Express router) must have a
 * line here: a new route without one fails the first test, and each route is then called as every
 * kind of caller.
 *
 * - `public`: anyone; never 401/403, never sent to the login page.
 * - `staff`: any signed-in moderator or admin (staff router: session; API: bearer token).
 * - `admin`: admins only; a moderator gets 403.
 * - `pending-sign-in`: the code step of two-factor sign-in; only a session whose password step has just
 *   succeeded gets past it, everyone else is sent to `/login` (no other session counts).
 * - `status-or-staff`: `GET /api/v1/notices/:reference`, the complainant's status token or a staff
 *   bearer token (a bad bearer token is a 401; no credential at all is the 404 of a wrong token).
 * - `submitter`: the rights holders' portal, a signed-in submitter only (its own session); anyone
 *   else (also staff) is sent to `/portal/login` (a page) or gets 401 (a form POST).
 * - `submitter-token`: a rights holder's API token (`tds_…`) only; no token or a staff token is 401.
 */
type Policy = 'public' | 'staff' | 'admin' | 'status-or-staff' | 'pending-sign-in' | 'submitter' | 'submitter-token';

const MATRIX: Record<string, Policy> = {
  // ---- public site, intake, ops (no session) ----
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'public',
  'GET /': 'public',
  'GET /items/:slug': 'public',
  'GET /feed.xml': 'public',
  'GET /sitemap.xml': 'public',
  'GET /sitemap-:part.xml': 'public',
  'GET /api/docs': 'public',
  'GET /transparency': 'public',
  'GET /transparency/notices/:reference': 'public',
  'GET /takedown': 'public',
  'POST /takedown': 'public',
  'GET /takedown/check': 'public',
  'GET /takedown/:reference': 'public',
  'GET /takedown/:reference/verify': 'public',
  // The status page's thumbnail of a named image: the status token decides (a wrong one is a 404).
  'GET /takedown/:reference/images/:imageId': 'public',
  'POST /takedown/:reference/verify': 'public',
  'POST /takedown/:reference/withdraw': 'public',
  'POST /takedown/:reference/answer': 'public',
  'GET /takedown/complete/:reference': 'public',
  'POST /takedown/complete/:reference': 'public',
  'GET /counter-notice': 'public',
  'POST /counter-notice': 'public',
  'GET /counter-notice/received': 'public',
  'GET /opt-out': 'public',
  'POST /opt-out': 'public',
  'GET /opt-out/confirm': 'public',
  'POST /opt-out/confirm': 'public',
  'GET /dmca': 'public',
  'GET /takedown/:reference/complaint': 'public',
  'POST /takedown/:reference/complaint': 'public',
  'GET /complaints/source/:reference': 'public',
  'POST /complaints/source/:reference': 'public',
  'GET /complaints/received': 'public',
  // ---- rights holders' portal (its own session + CSRF) ----
  'GET /portal/login': 'public',
  'POST /portal/login': 'public',
  'GET /portal/login/link': 'public',
  'POST /portal/login/link': 'public',
  'POST /portal/logout': 'public',
  'GET /portal/': 'submitter',
  'GET /portal/notices.csv': 'submitter',
  'GET /portal/notices/new': 'submitter',
  'POST /portal/notices/new': 'submitter',
  'GET /portal/notices/:reference': 'submitter',
  'GET /portal/notices/:reference/complaint': 'submitter',
  'POST /portal/notices/:reference/complaint': 'submitter',
  'GET /portal/profile': 'submitter',
  'POST /portal/profile': 'submitter',
  'POST /portal/profile/letter': 'submitter',
  'POST /portal/statements': 'submitter',
  'POST /portal/statements/withdraw': 'submitter',
  'GET /portal/tokens': 'submitter',
  'GET /portal/batches': 'submitter',
  'POST /portal/batches': 'submitter',
  'GET /portal/batches/:id': 'submitter',
  'POST /portal/tokens': 'submitter',
  'POST /portal/tokens/:id/revoke': 'submitter',
  'GET /portal/webhooks': 'submitter',
  'POST /portal/webhooks': 'submitter',
  'GET /portal/webhooks/:id': 'submitter',
  'POST /portal/webhooks/:id/delete': 'submitter',
  'POST /portal/webhooks/:id/enable': 'submitter',
  // ---- staff router (session + CSRF) ----
  'GET /login': 'public',
  'POST /login': 'public',
  'POST /logout': 'public',
  'GET /account/password': 'staff',
  'POST /account/password': 'staff',
  'GET /staff': 'staff',
  'GET /login/2fa': 'pending-sign-in',
  'POST /login/2fa': 'pending-sign-in',
  'POST /login/passkey/options': 'public',
  'POST /login/passkey': 'public',
  'POST /login/2fa/passkey/options': 'pending-sign-in',
  'POST /login/2fa/passkey': 'pending-sign-in',
  'GET /account/passkeys': 'staff',
  'POST /account/passkeys/options': 'staff',
  'POST /account/passkeys': 'staff',
  'POST /account/passkeys/:id/remove': 'staff',
  'GET /account/2fa': 'staff',
  'POST /account/2fa': 'staff',
  'GET /account/confirm': 'staff',
  'POST /account/confirm': 'staff',
  'POST /account/confirm/passkey/options': 'staff',
  'POST /account/confirm/passkey': 'staff',
  'GET /complaints': 'staff',
  'GET /complaints/:id': 'staff',
  'POST /complaints/:id/decide': 'staff',
  'GET /account/sessions': 'staff',
  'POST /account/sessions/revoke-others': 'staff',
  'POST /account/sessions/:handle/revoke': 'staff',
  'GET /users': 'admin',
  'POST /users': 'admin',
  'POST /users/action': 'admin',
  'GET /submitters': 'admin',
  'GET /submitters/:id': 'admin',
  'GET /submitters/:id/letter': 'staff',
  'POST /submitters/:id/trust': 'admin',
  'POST /submitters/:id/untrust': 'admin',
  'POST /submitters/:id/warn': 'admin',
  'POST /submitters/:id/suspend': 'admin',
  'POST /submitters/:id/lift': 'admin',
  'GET /mailbox': 'staff',
  'GET /mailbox/:id': 'staff',
  'GET /mailbox/:id/attachments/:n': 'staff',
  'POST /mailbox/:id/ignore': 'staff',
  'POST /mailbox/:id/attach': 'staff',
  'POST /mailbox/:id/notice': 'staff',
  'GET /outbox': 'admin',
  'GET /outbox/:id': 'admin',
  'GET /outbox/:id/html': 'admin',
  'POST /outbox/retry-failed': 'admin',
  'POST /outbox/:id/retry': 'admin',
  'GET /sources': 'staff',
  'POST /sources': 'admin',
  'POST /sources/:id/fetch': 'staff',
  'POST /sources/:id/pause': 'admin',
  'POST /sources/:id/block': 'admin',
  'POST /sources/:id/activate': 'admin',
  'GET /items': 'staff',
  'GET /items/:id/admin': 'staff',
  'POST /items/:id/release': 'staff',
  'POST /items/:id/confirm': 'staff',
  'GET /images/:id/thumbnail': 'staff',
  'POST /images/:id/release': 'staff',
  'GET /counter-notices': 'staff',
  'POST /counter-notices/:id/court-action': 'staff',
  'GET /queue': 'staff',
  'POST /queue/bulk': 'staff',
  'GET /queue/jobs/:id': 'staff',
  'POST /queue/views': 'staff',
  'POST /queue/views/:id/delete': 'staff',
  'POST /queue/views/:id/default': 'staff',
  'GET /notices/:reference': 'staff',
  'POST /notices/:reference/claim': 'staff',
  'POST /notices/:reference/release': 'staff',
  'POST /notices/:reference/approve': 'staff',
  'POST /notices/:reference/reject': 'staff',
  'POST /notices/:reference/request-info': 'staff',
  'POST /notices/:reference/spam': 'staff',
  'POST /notices/:reference/note': 'staff',
  'GET /notices/:reference/evidence': 'staff',
  'GET /live': 'staff',
  'GET /dashboard': 'staff',
  'GET /audit': 'admin',
  'GET /audit/verify': 'admin',
  'POST /audit/export': 'admin',
  'GET /audit/exports': 'admin',
  'POST /audit/exports/notices': 'admin',
  'POST /audit/exports/decisions': 'admin',
  // ---- JSON API ----
  'GET /api/v1/openapi.json': 'public',
  'POST /api/v1/notices': 'public',
  'GET /api/v1/notices/:reference': 'status-or-staff',
  'POST /api/v1/counter-notices': 'public',
  'POST /api/v1/counter-notices/:id/court-action': 'staff',
  'GET /api/v1/notices': 'staff',
  'POST /api/v1/notices/:reference/claim': 'staff',
  'POST /api/v1/notices/:reference/release': 'staff',
  'POST /api/v1/notices/:reference/decision': 'staff',
  'POST /api/v1/notices/bulk': 'staff',
  'GET /api/v1/jobs/:id': 'staff',
  'GET /api/v1/me': 'staff',
  'GET /api/v1/audit': 'admin',
  'GET /api/v1/audit/verify': 'admin',
  'GET /api/v1/audit/export': 'admin',
  'GET /api/v1/audit/exports/notices': 'admin',
  'GET /api/v1/audit/exports/decisions': 'admin',
  'GET /api/v1/items': 'staff',
  'GET /api/v1/items/:id': 'staff',
  'POST /api/v1/items': 'staff',
  'POST /api/v1/items/:id/release': 'staff',
  'POST /api/v1/items/:id/confirm': 'staff',
  'POST /api/v1/images/:id/release': 'staff',
  'GET /api/v1/sources': 'staff',
  'POST /api/v1/sources': 'admin',
  'POST /api/v1/sources/:id/fetch': 'staff',
  // ---- the mailbox (SPEC §12) ----
  'POST /api/v1/inbound-emails': 'admin',
  'GET /api/v1/inbound-emails': 'staff',
  'GET /api/v1/inbound-emails/:id': 'staff',
  'POST /api/v1/batches': 'submitter-token',
  'GET /api/v1/batches/:id': 'submitter-token',
  'GET /api/v1/batches/:id/urls': 'submitter-token',
  'POST /api/v1/webhooks': 'submitter-token',
  'GET /api/v1/webhooks': 'submitter-token',
  'GET /api/v1/webhooks/:id': 'submitter-token',
  'DELETE /api/v1/webhooks/:id': 'submitter-token',
  'POST /api/v1/webhooks/:id/enable': 'submitter-token',
};

function unique(routes: RouteInfo[]): RouteInfo[] {
  const seen = new Map<string, RouteInfo>();
  for (const r of routes) if (!seen.has(r.key)) seen.set(r.key, r);
  return [...seen.values()];
}

describe('authorisation matrix: every route × every kind of caller', () => {
  let t: TestContext;
  let w: World;
  let routes: RouteInfo[];
  let anon: { agent: Agent; csrf: string };
  let mod: { agent: Agent; csrf: string };
  let admin: { agent: Agent; csrf: string };
  let gone: { agent: Agent; csrf: string };

  beforeAll(async () => {
    t = await createTestContext({ env: { INTAKE_PER_HOUR: '10000' } });
    routes = unique(appRoutes(t.app));
    w = await buildWorld(t.app, t.db);
    anon = await anonymousSession(t.app);
    mod = await staffSession(t.app, w.moderator);
    admin = await staffSession(t.app, w.admin);
    // A session of someone deactivated since: from then on it is worth nothing.
    const leaver = await createStaff(t.db, { role: 'admin' });
    gone = await staffSession(t.app, leaver);
    await withTransaction(t.db, (tx) => setActive(tx, { at: new Date(), actor: { type: 'system' }, userId: leaver.id, active: false }));
  });
  afterAll(() => t.close());

  it('when the router is walked, then every route has an entry in the matrix and every entry is a real route', () => {
    const keys = routes.map((r) => r.key);
    expect(keys.filter((k) => !(k in MATRIX))).toEqual([]);
    expect(Object.keys(MATRIX).filter((k) => !keys.includes(k))).toEqual([]);
    expect(routes.filter((r) => r.area === 'staff').length).toBeGreaterThan(30);
    expect(routes.filter((r) => r.area === 'api').length).toBeGreaterThan(15);
  });

  /** Through the staff router: a session agent (or none), its CSRF token always valid. */
  const staffCall = (r: RouteInfo, who: { agent: Agent; csrf: string } | null, bearer?: string) => {
    const path = fillPath(r.path, w);
    const agent = who?.agent ?? request(t.app);
    const req = isWrite(r.method)
      ? agent
          .post(path)
          .type('form')
          .send(who ? { _csrf: who.csrf } : {})
      : agent.get(path);
    if (bearer) req.set('Authorization', `Bearer ${bearer}`);
    return req.redirects(0);
  };
  const apiCall = (r: RouteInfo, bearer?: string, agent?: Agent) => {
    const path = fillPath(r.path, w);
    const a = agent ?? request(t.app);
    const req = isWrite(r.method) ? a.post(path).send({}) : a.get(path);
    req.set('Accept', 'application/json');
    if (bearer) req.set('Authorization', `Bearer ${bearer}`);
    return req.redirects(0);
  };

  const describeRes = (label: string, res: request.Response) =>
    `${label}: ${res.status} ${res.headers.location ?? ''} ${(/<main[\s\S]*?<\/main>/.exec(res.text)?.[0] ?? res.text).replace(/\s+/g, ' ').slice(0, 400)}`;
  /** Let through: not refused, not sent to sign in, no server error. */
  const expectAllowed = (label: string, res: request.Response) => {
    const ok = ![401, 403].includes(res.status) && res.status < 500 && !(res.status === 303 && /^\/login/.test(res.headers.location ?? ''));
    if (!ok) throw new Error(`expected ${label} to be let through; got ${describeRes(label, res)}`);
  };
  const expectStatus = (label: string, res: request.Response, status: number) => {
    if (res.status !== status) throw new Error(`expected ${label} → ${status}; got ${describeRes(label, res)}`);
  };
  /** Not signed in on a staff route: a page is a 303 to the login page, a form POST a 401. */
  const expectSignInRequired = (label: string, r: RouteInfo, res: request.Response) => {
    if (isWrite(r.method)) return expectStatus(label, res, 401);
    expectStatus(label, res, 303);
    if (!(res.headers.location ?? '').startsWith('/login?next='))
      throw new Error(`${label}: redirected to ${res.headers.location}, not the login page`);
  };

  describe('public routes', () => {
    const list = () => routes.filter((r) => MATRIX[r.key] === 'public' && r.area !== 'api');
    it('when anyone calls a public page or form, then it is never refused nor sent to sign in', async () => {
      expect(list().length).toBeGreaterThan(20);
      for (const r of list()) {
        if (r.key === 'POST /logout') {
          // Signing out ends the session (so it gets one of its own) and lands on the login page by design.
          const res = await staffCall(r, await anonymousSession(t.app));
          expectStatus(`anonymous ${r.key}`, res, 303);
          continue;
        }
        const res =
          r.area === 'staff'
            ? await staffCall(r, anon)
            : r.area === 'portal'
              ? await staffCall(r, await anonymousPortalSession(t.app))
              : await staffCall(r, null);
        expectAllowed(`anonymous ${r.key}`, res);
      }
    });
  });

  describe('the two-factor code step', () => {
    it('when anyone without a fresh password step (anonymous, moderator, admin, deactivated) calls it, then it sends to the sign-in page', async () => {
      const list = routes.filter((r) => MATRIX[r.key] === 'pending-sign-in');
      expect(list.length).toBe(4);
      for (const r of list) {
        for (const [who, caller] of [
          ['anonymous', anon],
          ['moderator', mod],
          ['admin', admin],
        ] as const) {
          const res = await staffCall(r, caller);
          expectStatus(`${who} ${r.key}`, res, 303);
          expect(res.headers.location).toBe('/login');
        }
      }
    });
  });

  describe('staff router', () => {
    const list = () => routes.filter((r) => r.area === 'staff' && !['public', 'pending-sign-in'].includes(MATRIX[r.key]));

    it("when nobody is signed in (also with a valid CSRF token, a staff API token, or a deactivated account's session), then every staff route asks to sign in", async () => {
      for (const r of list()) {
        const [a, b, res] = await Promise.all([staffCall(r, anon), staffCall(r, anon, w.adminToken), staffCall(r, gone)]);
        expectSignInRequired(`anonymous ${r.key}`, r, a);
        expectSignInRequired(`bearer token only ${r.key}`, r, b);
        // Deactivation deletes the account's sessions, so its form token no longer matches any
        // session either: a form POST is refused as CSRF (403) before it could ask to sign in.
        if (isWrite(r.method)) expect([401, 403]).toContain(res.status);
        else expectSignInRequired(`deactivated session ${r.key}`, r, res);
      }
    });

    it('when a moderator calls an admin route, then it is 403; a staff route is let through', async () => {
      for (const r of list()) {
        const res = await staffCall(r, mod);
        if (MATRIX[r.key] === 'admin') expectStatus(`moderator ${r.key}`, res, 403);
        else expectAllowed(`moderator ${r.key}`, res);
      }
    });

    it('when an admin calls any staff route, then it is let through', async () => {
      for (const r of list()) expectAllowed(`admin ${r.key}`, await staffCall(r, admin));
    });
  });

  describe("rights holders' portal", () => {
    const list = () => routes.filter((r) => r.area === 'portal' && MATRIX[r.key] === 'submitter');
    /** Not signed in to the portal: a page is a 303 to the portal's sign-in, a form POST a 401. */
    const expectPortalSignIn = (label: string, r: RouteInfo, res: request.Response) => {
      if (isWrite(r.method)) return expectStatus(label, res, 401);
      expectStatus(label, res, 303);
      if (!(res.headers.location ?? '').startsWith('/portal/login?next='))
        throw new Error(`${label}: redirected to ${res.headers.location}, not the portal sign-in`);
    };

    it('when nobody, or only staff (session or bearer token), is signed in, then every portal route asks to sign in to the portal', async () => {
      expect(list().length).toBeGreaterThan(5);
      const portalAnon = await anonymousPortalSession(t.app);
      for (const r of list()) {
        expectPortalSignIn(`anonymous ${r.key}`, r, await staffCall(r, portalAnon));
        expectPortalSignIn(`staff bearer token ${r.key}`, r, await staffCall(r, portalAnon, w.adminToken));
        // An admin's staff session is no portal session (and its CSRF token is not the portal's).
        const res = await staffCall(r, admin);
        if (isWrite(r.method)) expect([401, 403]).toContain(res.status);
        else expectPortalSignIn(`admin staff session ${r.key}`, r, res);
      }
    });

    it('when a signed-in submitter calls a portal route, then it is let through; its portal session opens no staff page', async () => {
      const submitter = await submitterSession(t.app, t.db, 'rights@matrix.example');
      for (const r of list()) {
        const res = await staffCall(r, submitter);
        // The empty notice form is a 422, its own answer: let through.
        expectAllowed(`submitter ${r.key}`, res);
      }
      for (const r of routes.filter((x) => x.area === 'staff' && MATRIX[x.key] !== 'public' && !isWrite(x.method))) {
        const res = await staffCall(r, submitter);
        if (MATRIX[r.key] !== 'pending-sign-in') expectSignInRequired(`submitter on staff ${r.key}`, r, res);
        else {
          // The two-factor code step without a password step just taken: back to the sign-in page.
          expectStatus(`submitter on staff ${r.key}`, res, 303);
          expect(res.headers.location).toBe('/login');
        }
      }
    });
  });

  describe('JSON API', () => {
    const list = () => routes.filter((r) => r.area === 'api');

    it("when no, a wrong, a revoked or a deactivated user's token is sent, then every staff API route is 401 with errors[]", async () => {
      for (const r of list().filter((x) => ['staff', 'admin'].includes(MATRIX[x.key]))) {
        const callers = [
          ['no token', undefined],
          ['wrong token', 'tdk_not-a-real-token'],
          ['garbage', '<script>'],
          ['revoked token', w.revokedToken],
          ['deactivated user token', w.deactivatedToken],
        ] as const;
        const answers = await Promise.all(callers.map(([, token]) => apiCall(r, token)));
        answers.forEach((res, i) => {
          expectStatus(`${callers[i][0]} ${r.key}`, res, 401);
          expect(Array.isArray(res.body.errors)).toBe(true);
        });
        // The API does not take session cookies: an admin's session is no credential there.
        expectStatus(`admin session cookie ${r.key}`, await apiCall(r, undefined, admin.agent), 401);
      }
    });

    it('when a moderator token calls an admin API route, then it is 403; a staff API route is let through', async () => {
      for (const r of list().filter((x) => ['staff', 'admin'].includes(MATRIX[x.key]))) {
        const res = await apiCall(r, w.moderatorToken);
        if (MATRIX[r.key] === 'admin') expectStatus(`moderator token ${r.key}`, res, 403);
        else expectAllowed(`moderator token ${r.key}`, res);
      }
    });

    it('when an admin token calls any API route, then it is let through (a submitter-token route: 401)', async () => {
      for (const r of list()) {
        if (MATRIX[r.key] === 'submitter-token') expectStatus(`admin token ${r.key}`, await apiCall(r, w.adminToken), 401);
        else expectAllowed(`admin token ${r.key}`, await apiCall(r, w.adminToken));
      }
    });

    it('when a submitter-token route is called with no, a wrong, a staff or a revoked submitter token, then 401 with errors[]; with a live one it is let through', async () => {
      const routesForSubmitters = list().filter((x) => MATRIX[x.key] === 'submitter-token');
      expect(routesForSubmitters.length).toBeGreaterThanOrEqual(3);
      const submitter = await submitterSession(t.app, t.db, 'rights@api-matrix.example');
      const csrf = csrfFrom((await submitter.agent.get('/portal/tokens').expect(200)).text);
      await submitter.agent.post('/portal/tokens').type('form').send({ _csrf: csrf, name: 'matrix' }).expect(303);
      const token = /<code class="secret">(tds_[\w-]+)<\/code>/.exec((await submitter.agent.get('/portal/tokens')).text)![1];
      for (const r of routesForSubmitters) {
        for (const [label, bearer] of [
          ['no token', undefined],
          ['wrong submitter token', 'tds_not-a-real-token'],
          ['moderator token', w.moderatorToken],
        ] as const) {
          const res = await apiCall(r, bearer);
          expectStatus(`${label} ${r.key}`, res, 401);
          expect(Array.isArray(res.body.errors)).toBe(true);
        }
        expectAllowed(`submitter token ${r.key}`, await apiCall(r, token));
      }
    });

    it('when a public API route is called without a token, then it is never refused', async () => {
      for (const r of list().filter((x) => MATRIX[x.key] === 'public')) expectAllowed(`no token ${r.key}`, await apiCall(r));
    });

    it('when the notice is asked for without any credential, then it is the 404 of a wrong token; a bad bearer token is 401', async () => {
      for (const r of list().filter((x) => MATRIX[x.key] === 'status-or-staff')) {
        expectStatus(`no credential ${r.key}`, await apiCall(r), 404);
        expectStatus(`wrong status token ${r.key}`, await request(t.app).get(`${fillPath(r.path, w)}?token=nope`), 404);
        expectStatus(`status token ${r.key}`, await request(t.app).get(`${fillPath(r.path, w)}?token=${w.statusToken}`), 200);
        for (const token of ['tdk_wrong', w.revokedToken, w.deactivatedToken])
          expectStatus(`bad bearer ${r.key}`, await apiCall(r, token), 401);
        expectStatus(`moderator token ${r.key}`, await apiCall(r, w.moderatorToken), 200);
      }
    });
  });
});
