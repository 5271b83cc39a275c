import request from 'supertest';
import { sealAuditChain, verifyAuditChain } from '../../src/modules/audit';
import { bootstrapAdmin } from '../../src/modules/auth';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { createStaff, csrfFrom, csrfOf, PASSWORD, signedInAgent, tokenFor } from '../support/staff';

describe('staff accounts and sign-in', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext({ env: { LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_MINUTES: '15' } });
  });
  afterAll(() => t.close());
  beforeEach(() => truncateAll(t.db));

  const actions = async (action: string) =>
    (await t.db.query('SELECT * FROM audit_events WHERE action = $1 ORDER BY id', [action])) as {
      subject_id: string;
      actor_type: string;
      details: Record<string, unknown>;
      ip: string | null;
    }[];

  it('when the right password is given, then the staff home is shown and the login is audited', async () => {
    const user = await createStaff(t.db, { role: 'moderator' });
    const agent = await signedInAgent(t.app, user.email);
    const home = await agent.get('/staff').expect(200);
    expect(home.text).toContain(`Welcome, ${user.name}`);
    const events = await actions('user.logged_in');
    expect(events).toHaveLength(1);
    expect(events[0].subject_id).toBe(user.id);
    expect(events[0].ip).toBeTruthy();
  });

  it('when the password is wrong, then 401 with the form again, nothing about which part was wrong, and a failed-login event', async () => {
    const user = await createStaff(t.db);
    const agent = request.agent(t.app);
    const page = await agent.get('/login').expect(200);
    const res = await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email: user.email, password: 'not the password' });
    expect(res.status).toBe(401);
    expect(res.text).toContain('The email or password is not right.');
    expect(res.text).toContain(`value="${user.email}"`);
    const unknown = await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email: 'nobody@example.org', password: 'x' });
    expect(unknown.status).toBe(401);
    expect(unknown.text).toContain('The email or password is not right.');
    expect((await actions('user.login_failed')).map((e) => e.details.reason)).toEqual(['password', 'unknown']);
    await agent.get('/staff').expect(303).expect('Location', '/login?next=%2Fstaff');
  });

  it('when the password is wrong too many times, then the account locks (audited) and even the right password is refused', async () => {
    const user = await createStaff(t.db);
    const agent = request.agent(t.app);
    const token = csrfFrom((await agent.get('/login')).text);
    for (let i = 0; i < 3; i++) {
      await agent
        .post('/login')
        .type('form')
        .send({ _csrf: token, email: user.email, password: `wrong ${i}` })
        .expect(401);
    }
    const locked = await agent.post('/login').type('form').send({ _csrf: token, email: user.email, password: PASSWORD });
    expect(locked.status).toBe(423);
    expect(locked.text).toMatch(/locked after repeated failed sign-ins/);
    expect(await actions('user.locked')).toHaveLength(1);
    const [row] = await t.db.query('SELECT locked_until FROM users WHERE id = $1', [user.id]);
    expect(new Date(row.locked_until).getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
  });

  it('when a staff form is posted without its CSRF token or with a forged one, then 403 and nothing changes', async () => {
    const admin = await createStaff(t.db, { role: 'admin' });
    const agent = await signedInAgent(t.app, admin.email);
    const res = await agent.post('/users').type('form').send({ email: 'new@example.org', name: 'New', role: 'moderator' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('did not come from this site');
    await agent
      .post('/users')
      .type('form')
      .send({ _csrf: 'forged.token', email: 'new@example.org', name: 'New', role: 'moderator' })
      .expect(403);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM users WHERE email = 'new@example.org'`);
    expect(n).toBe(0);
    // A token from another session does not work either.
    const other = await signedInAgent(t.app, admin.email);
    const foreign = await csrfOf(other);
    await agent.post('/users').type('form').send({ _csrf: foreign, email: 'new@example.org', name: 'New', role: 'moderator' }).expect(403);
  });

  it('when a moderator opens an admin page, then 403', async () => {
    const mod = await createStaff(t.db, { role: 'moderator' });
    const agent = await signedInAgent(t.app, mod.email);
    await agent.get('/users').expect(403);
    const token = await csrfOf(agent);
    await agent.post('/users').type('form').send({ _csrf: token, email: 'x@example.org', name: 'X', role: 'admin' }).expect(403);
    await agent.get('/audit/verify').expect(403);
  });

  it('when an anonymous visitor posts to a staff route, then 401/403 and never 500', async () => {
    const res = await request(t.app).post('/users').type('form').send({ email: 'x@example.org' });
    expect([401, 403]).toContain(res.status);
    await request(t.app).get('/users').expect(303);
    await request(t.app).get('/users').set('Accept', 'application/json').expect(401);
  });

  it('when an admin creates, re-roles, deactivates and reactivates staff, then each step is audited and the last admin is protected', async () => {
    const admin = await createStaff(t.db, { role: 'admin' });
    const agent = await signedInAgent(t.app, admin.email);
    let csrf = await csrfOf(agent, '/users');
    const bad = await agent.post('/users').type('form').send({ _csrf: csrf, email: 'not-an-email', name: '', role: 'owner' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Enter a valid email address.');
    expect(bad.text).toContain('Choose admin or moderator.');
    expect(bad.text).toContain('value="not-an-email"');

    const created = await agent
      .post('/users')
      .type('form')
      .send({ _csrf: csrf, email: 'Mod@Example.org', name: 'Mo Derator', role: 'moderator' });
    expect(created.status).toBe(303);
    const list = await agent.get('/users').expect(200);
    const oneTime = /<code class="secret">([^<]+)<\/code>/.exec(list.text)?.[1];
    expect(oneTime).toBeTruthy();
    const [mod] = await t.db.query(`SELECT id, must_change_password FROM users WHERE email = 'mod@example.org'`);
    expect(mod.must_change_password).toBe(true);

    csrf = csrfFrom(list.text);
    await agent.post('/users/action').type('form').send({ _csrf: csrf, action: 'role', userId: mod.id, role: 'admin' }).expect(303);
    await agent.post('/users/action').type('form').send({ _csrf: csrf, action: 'deactivate', userId: mod.id }).expect(303);
    await agent.post('/users/action').type('form').send({ _csrf: csrf, action: 'activate', userId: mod.id }).expect(303);
    // Demote the other admin, then try to demote and deactivate oneself: the last admin stays.
    await agent.post('/users/action').type('form').send({ _csrf: csrf, action: 'role', userId: mod.id, role: 'moderator' }).expect(303);
    await agent.post('/users/action').type('form').send({ _csrf: csrf, action: 'role', userId: admin.id, role: 'moderator' }).expect(303);
    const after = await agent.get('/users').expect(200);
    expect(after.text).toContain('This is the last active admin');
    await agent.post('/users/action').type('form').send({ _csrf: csrf, action: 'deactivate', userId: admin.id }).expect(303);
    const [me] = await t.db.query('SELECT role, active FROM users WHERE id = $1', [admin.id]);
    expect(me).toEqual({ role: 'admin', active: true });

    const audited = await t.db.query(`SELECT action FROM audit_events WHERE subject_id = $1 ORDER BY id`, [mod.id]);
    expect(audited.map((a: { action: string }) => a.action)).toEqual([
      'user.created',
      'user.role_changed',
      'user.deactivated',
      'user.reactivated',
      'user.role_changed',
    ]);
    await sealAuditChain(t.db);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });

  it('when a deactivated user still has a session, then it stops working at once', async () => {
    const admin = await createStaff(t.db, { role: 'admin' });
    const mod = await createStaff(t.db, { role: 'moderator' });
    const modAgent = await signedInAgent(t.app, mod.email);
    await modAgent.get('/staff').expect(200);
    const adminAgent = await signedInAgent(t.app, admin.email);
    const csrf = await csrfOf(adminAgent, '/users');
    await adminAgent.post('/users/action').type('form').send({ _csrf: csrf, action: 'deactivate', userId: mod.id }).expect(303);
    await modAgent.get('/staff').expect(303);
  });

  it('when the first admin signs in with the one-time password, then they must set a new one before anything else', async () => {
    const first = await bootstrapAdmin(t);
    expect(first).not.toBeNull();
    expect(await bootstrapAdmin(t)).toBeNull(); // never a second time
    const agent = request.agent(t.app);
    const page = await agent.get('/login');
    const res = await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email: first!.email, password: first!.password });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/account/password');
    await agent.get('/users').expect(303).expect('Location', '/account/password');
    const form = await agent.get('/account/password').expect(200);
    const short = await agent
      .post('/account/password')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), currentPassword: first!.password, newPassword: 'short', confirmPassword: 'short' });
    expect(short.status).toBe(422);
    expect(short.text).toContain('Use at least 12 characters.');
    await agent
      .post('/account/password')
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        currentPassword: first!.password,
        newPassword: 'a brand new passphrase',
        confirmPassword: 'a brand new passphrase',
      })
      .expect(303)
      .expect('Location', '/staff');
    await agent.get('/users').expect(200);
    await signedInAgent(t.app, first!.email, 'a brand new passphrase');
  });

  it('when the API is called with a valid, a revoked, a malformed or no token, then only the valid one passes', async () => {
    const admin = await createStaff(t.db, { role: 'admin' });
    const mod = await createStaff(t.db, { role: 'moderator' });
    const adminToken = await tokenFor(t.db, admin);
    const modToken = await tokenFor(t.db, mod);
    const me = await request(t.app).get('/api/v1/me').set('Authorization', `Bearer ${modToken}`).expect(200);
    expect(me.body).toMatchObject({ email: mod.email, role: 'moderator' });
    const none = await request(t.app).get('/api/v1/me').expect(401);
    expect(none.body.errors[0].message).toMatch(/Authorization: Bearer/);
    await request(t.app).get('/api/v1/me').set('Authorization', 'Bearer tdk_nonsense').expect(401);
    await request(t.app).get('/api/v1/me').set('Authorization', 'Basic abc').expect(401);
    // Role checks apply to tokens too.
    await request(t.app).get('/api/v1/audit/verify').set('Authorization', `Bearer ${modToken}`).expect(403);
    const verify = await request(t.app).get('/api/v1/audit/verify').set('Authorization', `Bearer ${adminToken}`).expect(200);
    expect(verify.body).toMatchObject({ ok: true, firstBadSequence: null });
    expect(verify.body.events).toBeGreaterThan(0);
    // Revoked through the admin page: refused from then on, and audited.
    const agent = await signedInAgent(t.app, admin.email);
    const csrf = await csrfOf(agent, '/users');
    await agent.post('/users/action').type('form').send({ _csrf: csrf, action: 'revoke-tokens', userId: mod.id }).expect(303);
    await request(t.app).get('/api/v1/me').set('Authorization', `Bearer ${modToken}`).expect(401);
    expect(await actions('token.revoked')).toHaveLength(1);
    // Session cookies are not accepted by the API.
    await agent.get('/api/v1/me').expect(401);
  });

  it('when the sign-in form is posted too often from one address, then 429', async () => {
    const agent = request.agent(t.app);
    const token = csrfFrom((await agent.get('/login')).text);
    let last = 0;
    for (let i = 0; i < 21; i++) {
      last = (
        await agent
          .post('/login')
          .type('form')
          .send({ _csrf: token, email: `x${i}@example.org`, password: 'x' })
      ).status;
    }
    expect(last).toBe(429);
  });
});
