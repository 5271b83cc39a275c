import request from 'supertest';
import { SESSION_COOKIE } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createTestContext, TestContext } from '../support/context';
import { createStaff, csrfFrom, PASSWORD } from '../support/staff';
import { Agent, appRoutes, buildWorld, fillPath, isWrite, leaks, RouteInfo, staffSession, World } from './support';

const setCookies = (res: request.Response): string[] => ([] as string[]).concat(res.headers['set-cookie'] ?? []);
const cookieNamed = (res: request.Response, name: string) => setCookies(res).find((c) => c.startsWith(`${name}=`));

/** The headers every answer carries (README "Staff accounts and security": helmet, strict CSP). */
function headerProblems(label: string, res: request.Response): string[] {
  const out: string[] = [];
  const h = res.headers;
  const csp = String(h['content-security-policy'] ?? '');
  const directive = (name: string) =>
    csp
      .split(';')
      .map((d) => d.trim())
      .find((d) => d.startsWith(`${name} `));
  const scripts = directive('script-src') ?? directive('default-src');
  if (!scripts) out.push(`${label}: no script-src or default-src in CSP "${csp}"`);
  else if (/'unsafe-inline'|'unsafe-eval'|\*/.test(scripts)) out.push(`${label}: scripts allowed inline/eval/any: ${scripts}`);
  if (!/(^|;)\s*object-src 'none'/.test(csp) && !/default-src 'none'/.test(csp)) out.push(`${label}: plugins not refused in CSP`);
  if (h['x-content-type-options'] !== 'nosniff') out.push(`${label}: X-Content-Type-Options ${h['x-content-type-options']}`);
  if (!/^(no-referrer|same-origin|strict-origin|strict-origin-when-cross-origin)$/.test(String(h['referrer-policy'] ?? '')))
    out.push(`${label}: Referrer-Policy ${h['referrer-policy']}`);
  const framesDenied = h['x-frame-options'] === 'DENY' || /frame-ancestors 'none'/.test(csp);
  if (!framesDenied) out.push(`${label}: may be framed (X-Frame-Options ${h['x-frame-options']}, CSP ${csp})`);
  if (h['x-powered-by']) out.push(`${label}: X-Powered-By ${h['x-powered-by']}`);
  return out;
}

describe('cookies, security headers and error bodies', () => {
  let t: TestContext;
  let w: World;
  let admin: { agent: Agent; csrf: string };
  let routes: RouteInfo[];

  beforeAll(async () => {
    t = await createTestContext({ env: { INTAKE_PER_HOUR: '10000' } });
    w = await buildWorld(t.app, t.db);
    admin = await staffSession(t.app, w.admin);
    routes = [...new Map(appRoutes(t.app).map((r) => [r.key, r])).values()];
  });
  afterAll(() => t.close());

  describe('session and CSRF cookies', () => {
    it('when staff sign in over plain http (local), then the session cookie is HttpOnly and SameSite=Lax, and the CSRF cookie HttpOnly and SameSite=Strict', async () => {
      const agent = request.agent(t.app);
      const login = await agent.get('/login').expect(200);
      const csrfCookie = cookieNamed(login, 'td.csrf');
      expect(csrfCookie).toMatch(/; HttpOnly/i);
      expect(csrfCookie).toMatch(/; SameSite=Strict/i);
      const res = await agent
        .post('/login')
        .type('form')
        .send({ _csrf: csrfFrom(login.text), email: w.admin.email, password: PASSWORD })
        .expect(303);
      const sid = cookieNamed(res, SESSION_COOKIE);
      expect(sid).toMatch(/; HttpOnly/i);
      expect(sid).toMatch(/; SameSite=Lax/i);
      expect(sid).not.toMatch(/; Secure/i); // would never come back over http
    });

    it('when PUBLIC_BASE_URL is https behind a trusted proxy, then both cookies are Secure, the CSRF cookie is __Host-, and HSTS is sent', async () => {
      const https = await createTestContext({ env: { PUBLIC_BASE_URL: 'https://desk.example', TRUST_PROXY: 'true' } });
      try {
        const user = await createStaff(https.db, { role: 'admin' });
        const agent = request.agent(https.app);
        const login = await agent.get('/login').set('X-Forwarded-Proto', 'https').expect(200);
        const csrfCookie = setCookies(login).find((c) => c.startsWith('__Host-td.csrf='));
        expect(csrfCookie).toMatch(/; Secure/i);
        expect(csrfCookie).toMatch(/; Path=\//i);
        expect(csrfCookie).not.toMatch(/; Domain=/i);
        expect(login.headers['strict-transport-security']).toMatch(/max-age=\d+/);
        expect(login.headers['content-security-policy']).toMatch(/upgrade-insecure-requests/);
        // Supertest speaks http: send the cookie as a browser would over https.
        const cookie = setCookies(login)
          .map((c) => c.split(';')[0])
          .join('; ');
        const res = await request(https.app)
          .post('/login')
          .set('X-Forwarded-Proto', 'https')
          .set('Cookie', cookie)
          .type('form')
          .send({ _csrf: csrfFrom(login.text), email: user.email, password: PASSWORD })
          .expect(303);
        const sid = cookieNamed(res, SESSION_COOKIE);
        expect(sid).toMatch(/; Secure/i);
        expect(sid).toMatch(/; HttpOnly/i);
        expect(sid).toMatch(/; SameSite=Lax/i);
      } finally {
        await https.close();
      }
    });

    it('when PUBLIC_BASE_URL is https but the proxy is not trusted, then no session cookie is ever set (why production refuses that configuration)', async () => {
      const https = await createTestContext({ env: { PUBLIC_BASE_URL: 'https://desk.example' } });
      try {
        const user = await createStaff(https.db, { role: 'admin' });
        const login = await request(https.app).get('/login').set('X-Forwarded-Proto', 'https').expect(200);
        expect(cookieNamed(login, SESSION_COOKIE)).toBeUndefined();
        const cookie = setCookies(login)
          .map((c) => c.split(';')[0])
          .join('; ');
        const res = await request(https.app)
          .post('/login')
          .set('X-Forwarded-Proto', 'https')
          .set('Cookie', cookie)
          .type('form')
          .send({ _csrf: csrfFrom(login.text), email: user.email, password: PASSWORD });
        expect(res.status).toBe(403);
      } finally {
        await https.close();
      }
      expect(() => loadConfig({ NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://desk.example', SESSION_SECRET: 'x'.repeat(40) })).toThrow(
        /TRUST_PROXY/,
      );
    });

    it('when a client fakes X-Forwarded-Proto without TRUST_PROXY, then the app does not believe it', async () => {
      const res = await request(t.app).get('/login').set('X-Forwarded-Proto', 'https').expect(200);
      expect(cookieNamed(res, 'td.csrf')).not.toMatch(/; Secure/i);
      expect(res.headers['strict-transport-security']).toBeUndefined();
    });

    it('when staff sign out, then the session row is gone and the old cookie is worth nothing', async () => {
      const s = await staffSession(t.app, w.moderator);
      const sid = decodeURIComponent(
        String(
          (s.agent as unknown as { jar: { getCookie(n: string, o: object): { value: string } } }).jar.getCookie(SESSION_COOKIE, {
            path: '/',
            domain: '127.0.0.1',
            secure: false,
            script: false,
          })?.value ?? '',
        ),
      );
      await s.agent.post('/logout').type('form').send({ _csrf: s.csrf }).expect(303);
      await s.agent.get('/staff').redirects(0).expect(303);
      if (sid) expect(await t.db.query(`SELECT sid FROM sessions WHERE sid = $1`, [sid.replace(/^s:/, '').split('.')[0]])).toEqual([]);
    });
  });

  describe('security headers', () => {
    it('when any GET route is called (public, staff, API), then every answer carries the CSP, nosniff, referrer policy and frame denial', async () => {
      const problems: string[] = [];
      for (const r of routes.filter((x) => x.method === 'GET')) {
        const path = fillPath(r.path, w);
        const res =
          r.area === 'api'
            ? await request(t.app).get(path).set('Authorization', `Bearer ${w.adminToken}`)
            : r.area === 'staff'
              ? await admin.agent.get(path).redirects(0)
              : await request(t.app).get(path).redirects(0);
        if (r.key === 'GET /outbox/:id/html') {
          // An email's own markup, framed by the outbox page only, sandboxed, loading nothing.
          expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
          expect(res.headers['content-security-policy']).toMatch(/sandbox/);
          expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'self'/);
          expect(res.headers['x-content-type-options']).toBe('nosniff');
          continue;
        }
        problems.push(...headerProblems(`${r.key} (${res.status})`, res));
      }
      expect(problems).toEqual([]);
    });

    it('when the answer is an error (404 page, 404 API, 401 API, 403 CSRF, 400 bad JSON, 451 removed item), then the same headers are there', async () => {
      const removedSlug = (await t.db.query(`SELECT slug FROM items WHERE status = 'removed' LIMIT 1`))[0].slug;
      const answers: [string, request.Response][] = [
        ['404 page', await request(t.app).get('/no-such-page').expect(404)],
        ['404 API', await request(t.app).get('/api/v1/no-such-thing').expect(404)],
        ['401 API', await request(t.app).get('/api/v1/me').expect(401)],
        ['403 CSRF', await admin.agent.post('/users').type('form').send({}).expect(403)],
        ['400 bad JSON', await request(t.app).post('/api/v1/notices').set('Content-Type', 'application/json').send('{"name":').expect(400)],
        ['451 removed item', await request(t.app).get(`/items/${removedSlug}`).expect(451)],
        ['static file', await request(t.app).get('/static/style.css').expect(200)],
      ];
      expect(answers.flatMap(([label, res]) => headerProblems(label, res))).toEqual([]);
    });
  });

  describe('error bodies: a clear 4xx, never a stack or SQL', () => {
    const noLeak = (label: string, res: request.Response) => {
      expect([label, res.status < 500]).toEqual([label, true]);
      expect([label, leaks(res.text ?? '')]).toEqual([label, []]);
    };
    const apiErrors = (label: string, res: request.Response, status: number | number[]) => {
      noLeak(label, res);
      expect([label, ([] as number[]).concat(status).includes(res.status)]).toEqual([label, true]);
      expect([label, Array.isArray(res.body?.errors) && res.body.errors.length > 0]).toEqual([label, true]);
    };

    it('when the API gets malformed JSON, a body over 1 MB, the wrong content type or charset, or JSON that is not an object, then a 4xx with errors[]', async () => {
      const post = () => request(t.app).post('/api/v1/notices');
      apiErrors('malformed JSON', await post().set('Content-Type', 'application/json').send('{"name": "x",'), 400);
      apiErrors('JSON with a NUL escape', await post().set('Content-Type', 'application/json').send('{"name": "a\\u0000b"}'), 400);
      apiErrors(
        'body over 1 MB',
        await post()
          .set('Content-Type', 'application/json')
          .send(JSON.stringify({ name: 'x'.repeat(1_100_000) })),
        413,
      );
      apiErrors('text/plain body', await post().set('Content-Type', 'text/plain').send('name=x'), [400, 415, 422]);
      apiErrors('XML body', await post().set('Content-Type', 'application/xml').send('<notice/>'), [400, 415, 422]);
      apiErrors('latin-1 charset', await post().set('Content-Type', 'application/json; charset=latin1').send('{}'), 415);
      apiErrors(
        'gzip that is not gzip',
        await post().set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('not gzip'),
        [400, 415],
      );
      apiErrors(
        'unknown encoding',
        await post().set('Content-Type', 'application/json').set('Content-Encoding', 'br2').send('{}'),
        [400, 415],
      );
      apiErrors('JSON array', await post().set('Content-Type', 'application/json').send('[1,2]'), [400, 422]);
      apiErrors('JSON string', await post().set('Content-Type', 'application/json').send('"x"'), [400, 422]);
      apiErrors('JSON null', await post().set('Content-Type', 'application/json').send('null'), [400, 422]);
      // Used to overflow class-transformer's recursion: a 500.
      apiErrors(
        'deep nesting',
        await post()
          .set('Content-Type', 'application/json')
          .send(`${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`),
        400,
      );
      apiErrors(
        'deep array',
        await post()
          .set('Content-Type', 'application/json')
          .send(`{"name":${'['.repeat(5000)}1${']'.repeat(5000)}}`),
        400,
      );
      apiErrors(
        'prototype pollution',
        await post()
          .set('Content-Type', 'application/json')
          .send('{"__proto__": {"isAdmin": true}, "constructor": {"prototype": {"isAdmin": true}}}'),
        422,
      );
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      apiErrors('wrong field types', await post().send({ name: ['a'], email: { $ne: '' }, infringingUrls: 'x', goodFaith: 'yes' }), 422);
      apiErrors(
        'staff API, malformed JSON',
        await request(t.app)
          .post(`/api/v1/notices/${w.reference}/decision`)
          .set('Authorization', `Bearer ${w.adminToken}`)
          .set('Content-Type', 'application/json')
          .send('{'),
        400,
      );
    });

    it('when a form gets malformed or oversized bodies, then a 4xx page without a stack', async () => {
      noLeak(
        'form over 1 MB',
        await request(t.app)
          .post('/takedown')
          .type('form')
          .send(`name=${'x'.repeat(1_100_000)}`),
      );
      noLeak(
        'too many fields',
        await request(t.app)
          .post('/takedown')
          .type('form')
          .send(Array.from({ length: 3000 }, (_, i) => `f${i}=1`).join('&')),
      );
      noLeak('broken %-encoding', await request(t.app).post('/takedown').type('form').send('name=%E0%A4%A'));
      noLeak('staff form, malformed JSON', await admin.agent.post('/users').set('Content-Type', 'application/json').send('{'));
    });

    it("when any route's path parameter is not a valid id (uuid, number, reference) or is hostile, then a 4xx with errors[] (API) or an error page, never a 500", async () => {
      const problems: string[] = [];
      for (const r of routes.filter((x) => x.path.includes(':'))) {
        for (const bad of [
          'not-a-uuid',
          '00000000-0000-0000-0000-000000000000',
          '-1',
          '..%2F..%2Fetc%2Fpasswd',
          'TD-99999999999999999999',
          '%E0%A4%A',
          'x'.repeat(2000),
        ]) {
          const path = r.path.replace(/:\w+/g, bad);
          let res: request.Response;
          if (r.area === 'api') {
            const req = isWrite(r.method) ? request(t.app).post(path).send({}) : request(t.app).get(path);
            res = await req.set('Authorization', `Bearer ${w.adminToken}`);
            if (res.status >= 500 || !Array.isArray(res.body?.errors))
              problems.push(`${r.method} ${path.slice(0, 80)} → ${res.status} ${res.text.slice(0, 120)}`);
          } else {
            const agent = r.area === 'staff' ? admin.agent : request(t.app);
            res = isWrite(r.method)
              ? await agent.post(path).type('form').send({ _csrf: admin.csrf }).redirects(0)
              : await agent.get(path).redirects(0);
            if (res.status >= 500) problems.push(`${r.method} ${path.slice(0, 80)} → ${res.status}`);
          }
          const found = leaks(res.text ?? '');
          if (found.length) problems.push(`${r.method} ${path.slice(0, 80)} shows ${found.join(', ')}`);
        }
      }
      expect(problems).toEqual([]);
    }, 60_000);

    it('when a source action names an id that is not a uuid, then 404 (it used to reach PostgreSQL as a uuid and answer 500)', async () => {
      for (const action of ['fetch', 'pause', 'block', 'activate']) {
        await admin.agent.post(`/sources/not-a-uuid/${action}`).type('form').send({ _csrf: admin.csrf }).expect(404);
      }
      const api = await request(t.app)
        .post('/api/v1/sources/not-a-uuid/fetch')
        .set('Authorization', `Bearer ${w.adminToken}`)
        .send({})
        .expect(404);
      expect(api.body.code).toBe('SOURCE.NOT_FOUND');
    });

    it('when an unknown route or method is asked for, then a 404 (errors[] in the API) and nothing else', async () => {
      apiErrors('unknown API route', await request(t.app).get('/api/v1/nope'), 404);
      apiErrors(
        'unknown API method',
        await request(t.app).delete('/api/v1/notices').set('Authorization', `Bearer ${w.adminToken}`),
        [404, 405],
      );
      noLeak('unknown page', await request(t.app).get('/nope/../../etc/passwd').expect(404));
      noLeak('unknown method on a page', await request(t.app).put('/takedown').send({}));
      noLeak('TRACE', await request(t.app).trace('/'));
      const page = await request(t.app).get('/definitely-not-here').set('Accept', 'text/html').expect(404);
      expect(page.text).toContain('There is nothing at this address.');
    });
  });
});
