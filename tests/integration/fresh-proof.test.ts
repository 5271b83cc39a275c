import { Secret, TOTP } from 'otpauth';
import { ManualClock } from '../../src/shared/clock';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { createStaff, csrfFrom, csrfOf, PASSWORD, signedInAgent } from '../support/staff';

const T0 = new Date('2026-12-02T10:00:00.000Z');
const ELEVEN_MINUTES = 11 * 60_000;

describe('fresh proof before dangerous actions', () => {
  const clock = new ManualClock(T0);
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext({ clock });
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    clock.set(T0);
    await truncateAll(t.db);
  });
  const count = async (action: string) =>
    (await t.db.query('SELECT count(*)::int AS n FROM audit_events WHERE action = $1', [action]))[0].n as number;

  it('when an admin signed in more than 10 minutes ago changes a role, deactivates someone or makes a token, then each is sent to confirm first and nothing changes', async () => {
    const admin = await createStaff(t.db, { role: 'admin' });
    const mod = await createStaff(t.db);
    const agent = await signedInAgent(t.app, admin.email);
    clock.advance(ELEVEN_MINUTES);
    const csrf = await csrfOf(agent, '/users');
    for (const body of [{ action: 'role', role: 'admin' }, { action: 'deactivate' }, { action: 'create-token', tokenName: 'ci' }]) {
      const res = await agent
        .post('/users/action')
        .type('form')
        .send({ _csrf: csrf, userId: mod.id, ...body });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/account/confirm?next=%2Fusers');
    }
    const [row] = await t.db.query('SELECT role, active FROM users WHERE id = $1', [mod.id]);
    expect(row).toEqual({ role: 'moderator', active: true });
    expect((await t.db.query('SELECT count(*)::int AS n FROM api_tokens'))[0].n).toBe(0);
    // Harmless actions need no fresh proof.
    await agent
      .post('/users/action')
      .type('form')
      .send({ _csrf: csrf, userId: mod.id, action: 'unlock' })
      .expect(303)
      .expect('Location', '/users');
    expect(await count('user.unlocked')).toBe(1);
  });

  it('when the password is confirmed, then the page goes back and the action works for 10 minutes; a wrong password is refused and audited', async () => {
    const admin = await createStaff(t.db, { role: 'admin' });
    const mod = await createStaff(t.db);
    const agent = await signedInAgent(t.app, admin.email);
    clock.advance(ELEVEN_MINUTES);
    const page = await agent.get('/account/confirm?next=%2Fusers').expect(200);
    expect(page.text).toContain('value="/users"');
    const wrong = await agent
      .post('/account/confirm')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), next: '/users', password: 'not it' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('That password is not right.');
    expect(await count('user.reauthentication_failed')).toBe(1);
    await agent
      .post('/account/confirm')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), next: '/users', password: PASSWORD })
      .expect(303)
      .expect('Location', '/users');
    expect(await count('user.reauthenticated')).toBe(1);
    const csrf = await csrfOf(agent, '/users');
    await agent
      .post('/users/action')
      .type('form')
      .send({ _csrf: csrf, userId: mod.id, action: 'role', role: 'admin' })
      .expect(303)
      .expect('Location', '/users');
    expect((await t.db.query('SELECT role FROM users WHERE id = $1', [mod.id]))[0].role).toBe('admin');
    clock.advance(ELEVEN_MINUTES);
    await agent
      .post('/users/action')
      .type('form')
      .send({ _csrf: csrf, userId: mod.id, action: 'role', role: 'moderator' })
      .expect(303)
      .expect('Location', '/account/confirm?next=%2Fusers');
  });

  it('when the confirm page is given a foreign address to go back to, then it goes to the staff home instead', async () => {
    const admin = await createStaff(t.db, { role: 'admin' });
    const agent = await signedInAgent(t.app, admin.email);
    const page = await agent.get('/account/confirm?next=%2F%2Fevil.example').expect(200);
    await agent
      .post('/account/confirm')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), next: '//evil.example', password: PASSWORD })
      .expect(303)
      .expect('Location', '/staff');
  });

  it('when a member with 2FA confirms with a code, then it counts as the fresh proof (once per code)', async () => {
    const admin = await createStaff(t.db, { role: 'admin' });
    const agent = await signedInAgent(t.app, admin.email);
    const setup = await agent.get('/account/2fa').expect(200);
    const secret = /id="totp-key">([A-Z2-7]+)</.exec(setup.text)![1];
    const code = (at: Date) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: at.getTime() });
    await agent
      .post('/account/2fa')
      .type('form')
      .send({ _csrf: csrfFrom(setup.text), code: code(clock.now()) })
      .expect(303);
    clock.advance(ELEVEN_MINUTES);
    const page = await agent.get('/account/confirm?next=%2Faudit%2Fexports').expect(200);
    const now = code(clock.now());
    await agent
      .post('/account/confirm')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), next: '/audit/exports', code: now })
      .expect(303)
      .expect('Location', '/audit/exports');
    clock.advance(ELEVEN_MINUTES - 60_000 * 9); // 2 minutes on: still fresh, but the same code is spent
    const again = await agent
      .post('/account/confirm')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), next: '/audit/exports', code: now });
    expect(again.status).toBe(401);
    expect(again.text).toMatch(/already been used|not right/);
    const [ev] = await t.db.query(`SELECT details FROM audit_events WHERE action = 'user.reauthenticated'`);
    expect(ev.details).toEqual({ secondFactor: 'totp' });
  });

  it('when a stale session asks for a full export, then it must confirm first; the redacted export needs no proof', async () => {
    const admin = await createStaff(t.db, { role: 'admin' });
    const agent = await signedInAgent(t.app, admin.email);
    clock.advance(ELEVEN_MINUTES);
    const csrf = await csrfOf(agent, '/audit/exports');
    await agent
      .post('/audit/exports/notices')
      .type('form')
      .send({ _csrf: csrf, full: 'true' })
      .expect(303)
      .expect('Location', '/account/confirm?next=%2Faudit%2Fexports');
    await agent
      .post('/audit/exports/decisions')
      .type('form')
      .send({ _csrf: csrf, full: 'true' })
      .expect(303)
      .expect('Location', '/account/confirm?next=%2Faudit%2Fexports');
    await agent
      .post('/audit/export')
      .type('form')
      .send({ _csrf: csrf, format: 'csv' })
      .expect(303)
      .expect('Location', '/account/confirm?next=%2Faudit');
    expect(await count('audit.exported')).toBe(0);
    await agent.post('/audit/exports/notices').type('form').send({ _csrf: csrf }).expect(200);
    expect(await count('audit.exported')).toBe(1);
  });
});
