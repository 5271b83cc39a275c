import { createTestContext, TestContext } from '../support/context';
import {
  Agent,
  anonymousPortalSession,
  anonymousSession,
  appRoutes,
  buildWorld,
  fillPath,
  fingerprint,
  isWrite,
  RouteInfo,
  staffSession,
  submitterSession,
  World,
} from './support';

/**
 * Every state-changing route of the staff router (read from the router, so a new form is covered
 * the day it is added), called by a signed-in admin — who may do all of it — with the CSRF token
 * missing, wrong, or taken from another session: 403 `CSRF.INVALID`, and not one row changes.
 */
describe('CSRF on every staff form', () => {
  let t: TestContext;
  let w: World;
  let writes: RouteInfo[];
  let admin: { agent: Agent; csrf: string };
  let other: { agent: Agent; csrf: string };

  beforeAll(async () => {
    t = await createTestContext({ env: { INTAKE_PER_HOUR: '10000' } });
    w = await buildWorld(t.app, t.db);
    writes = [
      ...new Map(
        appRoutes(t.app)
          .filter((r) => r.area === 'staff' && isWrite(r.method))
          .map((r) => [r.key, r]),
      ).values(),
    ];
    admin = await staffSession(t.app, w.admin);
    other = await staffSession(t.app, w.moderator);
  });
  afterAll(() => t.close());

  /** What a real form would send to that route, so only the token decides. */
  const bodyFor = (r: RouteInfo): Record<string, string> => {
    if (r.path === '/login') return { email: w.admin.email, password: 'a-long-enough-test-password' };
    if (r.path.endsWith('/note')) return { text: 'A note' };
    if (r.path.endsWith('/reject')) return { reason: 'Not a copyright claim.' };
    if (r.path.endsWith('/request-info')) return { question: 'Which article?' };
    if (r.path === '/users') return { email: 'new-staff@example.org', name: 'New', role: 'moderator' };
    if (r.path === '/users/action') return { userId: w.moderator.id, action: 'deactivate' };
    if (r.path === '/queue/bulk') return { action: 'spam', references: w.reference };
    if (r.path === '/sources') return { name: 'Evil', domains: 'evil.example', contactEmail: 'x@evil.example' };
    return {};
  };

  it('when the staff router is walked, then it has state-changing routes to check', () => {
    expect(writes.length).toBeGreaterThan(15);
  });

  it.each([
    ['absent', (_s: { csrf: string }) => undefined],
    ['wrong', (_s: { csrf: string }) => 'x'.repeat(64)],
    ['tampered', (s: { csrf: string }) => s.csrf.slice(0, -4) + (s.csrf.endsWith('aaaa') ? 'bbbb' : 'aaaa')],
    ['from another session', (_s: { csrf: string }) => other.csrf],
    ['given twice', (s: { csrf: string }) => [s.csrf, s.csrf] as unknown as string],
  ])('when the CSRF token is %s, then every staff POST is 403 and nothing changes', async (_label, tokenOf) => {
    const before = await fingerprint(t.db);
    for (const r of writes) {
      const token = tokenOf(admin);
      const body = { ...bodyFor(r), ...(token !== undefined ? { _csrf: token } : {}) };
      const res = await admin.agent.post(fillPath(r.path, w)).type('form').send(body).redirects(0);
      if (res.status !== 403 || !/did not come from this site/.test(res.text))
        throw new Error(`${r.key}: expected 403 CSRF, got ${res.status}`);
      expect(await fingerprint(t.db)).toEqual(before);
    }
    // The admin is still signed in: nothing (not even /logout) acted on the forged requests.
    await admin.agent.get('/staff').expect(200);
  });

  it('when a JSON body or the header carries a wrong token, then it is refused the same way', async () => {
    const before = await fingerprint(t.db);
    for (const r of writes) {
      const res = await admin.agent
        .post(fillPath(r.path, w))
        .set('Accept', 'application/json')
        .set('X-CSRF-Token', other.csrf)
        .send(bodyFor(r))
        .redirects(0);
      expect([r.key, res.status, res.body.code]).toEqual([r.key, 403, 'CSRF.INVALID']);
      expect(await fingerprint(t.db)).toEqual(before);
    }
  });

  it('when an anonymous visitor posts the sign-in form without its token, then it is refused and no session is created', async () => {
    const anon = await anonymousSession(t.app);
    const res = await anon.agent
      .post('/login')
      .type('form')
      .send({ email: w.admin.email, password: 'a-long-enough-test-password' })
      .redirects(0);
    expect(res.status).toBe(403);
    await anon.agent.get('/staff').redirects(0).expect(303);
  });

  it("when the right token is sent, then the same form works (the refusals above were the token's doing)", async () => {
    await admin.agent
      .post(`/notices/${w.reference}/note`)
      .type('form')
      .send({ _csrf: admin.csrf, text: 'A note' })
      .redirects(0)
      .expect(303);
  });

  it('when a portal form (rights holders) is posted, urlencoded or as a file upload, with its token absent, wrong, or taken from a staff session, then it is 403 and nothing changes', async () => {
    const portalWrites = [
      ...new Map(
        appRoutes(t.app)
          .filter((r) => r.area === 'portal' && isWrite(r.method))
          .map((r) => [r.key, r]),
      ).values(),
    ];
    expect(portalWrites.length).toBeGreaterThanOrEqual(4);
    const submitter = await submitterSession(t.app, t.db, 'rights@csrf.example');
    const anon = await anonymousPortalSession(t.app);
    const before = await fingerprint(t.db);
    for (const r of portalWrites) {
      for (const token of [undefined, 'x'.repeat(64), admin.csrf, anon.csrf]) {
        const res = await submitter.agent
          .post(fillPath(r.path, w))
          .type('form')
          .send({ name: 'Mallory', email: 'x@evil.example', ...(token ? { _csrf: token } : {}) })
          .redirects(0);
        if (res.status !== 403 || !/did not come from this site/.test(res.text))
          throw new Error(`${r.key}: expected 403 CSRF, got ${res.status}`);
        // The same as a file upload (multipart): the upload forms read it before the check; still refused.
        const upload = submitter.agent.post(fillPath(r.path, w)).field('name', 'Mallory');
        if (token) upload.field('_csrf', token);
        const up = await upload
          .attach('file', Buffer.from('work_description,original_url,infringing_url\r\n'), { filename: 'x.csv', contentType: 'text/csv' })
          .redirects(0);
        if (up.status !== 403 || !/did not come from this site/.test(up.text))
          throw new Error(`${r.key} (multipart): expected 403 CSRF, got ${up.status}`);
      }
      expect(await fingerprint(t.db)).toEqual(before);
    }
    // Still signed in: not even /portal/logout acted on the forged requests.
    await submitter.agent.get('/portal').redirects(0).expect(200);
  });
});
