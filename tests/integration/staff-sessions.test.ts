import request from 'supertest';
import { withTransaction } from '../../src/db/transaction';
import { resetSecondFactor } from '../../src/modules/auth';
import { setActive } from '../../src/modules/auth/manage-users';
import { describeUserAgent } from '../../src/modules/auth/staff-sessions';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { createStaff, csrfFrom, csrfOf, PASSWORD } from '../support/staff';

type Agent = ReturnType<typeof request.agent>;

/** Signs in through the real form with a given browser name, like a separate device. */
async function signInAs(app: TestContext['app'], email: string, userAgent: string): Promise<Agent> {
  const agent = request.agent(app);
  const page = await agent.get('/login').set('User-Agent', userAgent).expect(200);
  await agent
    .post('/login')
    .set('User-Agent', userAgent)
    .type('form')
    .send({ _csrf: csrfFrom(page.text), email, password: PASSWORD, next: '/staff' })
    .expect(303);
  await agent.get('/staff').set('User-Agent', userAgent).expect(200);
  return agent;
}

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36';

describe('staff sessions (/account/sessions)', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
  });
  afterAll(() => t.close());
  beforeEach(() => truncateAll(t.db));

  it('when a member is signed in on two devices, then the page lists both with device, address and times, and marks this one', async () => {
    const mod = await createStaff(t.db);
    const laptop = await signInAs(t.app, mod.email, FIREFOX);
    await signInAs(t.app, mod.email, ANDROID);
    const page = await laptop.get('/account/sessions').set('User-Agent', FIREFOX).expect(200);
    expect(page.text).toContain('Firefox on Linux');
    expect(page.text).toContain('Chrome on Android');
    expect(page.text).toMatch(/Firefox on Linux <span class="tag">this session<\/span>/);
    expect(page.text).toMatch(/<code>(::ffff:)?127\.0\.0\.1<\/code>/);
    // The cookie's session id is never shown, only a handle.
    const [{ sid }] = await t.db.query(`SELECT sid FROM sessions WHERE sess->>'userAgent' = $1`, [ANDROID]);
    expect(page.text).not.toContain(sid);
  });

  it('when a member signs out a stolen session, then its cookie no longer works and it is audited; their own goes on', async () => {
    const mod = await createStaff(t.db);
    const mine = await signInAs(t.app, mod.email, FIREFOX);
    const stolen = await signInAs(t.app, mod.email, ANDROID);
    const page = await mine.get('/account/sessions').expect(200);
    const handle = /action="\/account\/sessions\/([0-9a-f]{24})\/revoke"/.exec(page.text)![1];
    await mine
      .post(`/account/sessions/${handle}/revoke`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(303)
      .expect('Location', '/account/sessions');
    await stolen.get('/staff').expect(303).expect('Location', '/login?next=%2Fstaff');
    await mine.get('/staff').expect(200);
    const [ev] = await t.db.query(`SELECT subject_id, details FROM audit_events WHERE action = 'session.revoked'`);
    expect(ev).toEqual({ subject_id: mod.id, details: { scope: 'one', session: handle } });
    // Another member's session cannot be ended through one's own page.
    const other = await createStaff(t.db);
    const theirs = await signInAs(t.app, other.email, FIREFOX);
    const theirHandle = /action="\/account\/sessions\/([0-9a-f]{24})\/revoke"/.exec(
      (await signInAs(t.app, other.email, ANDROID).then((a) => a.get('/account/sessions'))).text,
    )![1];
    const refused = await mine
      .post(`/account/sessions/${theirHandle}/revoke`)
      .type('form')
      .send({ _csrf: await csrfOf(mine, '/account/sessions') });
    expect(refused.status).toBe(303);
    expect((await mine.get('/account/sessions')).text).toContain('No such session of yours');
    await theirs.get('/staff').expect(200);
  });

  it('when a member signs out every other session, then only the current one is left', async () => {
    const mod = await createStaff(t.db);
    const a = await signInAs(t.app, mod.email, FIREFOX);
    const b = await signInAs(t.app, mod.email, ANDROID);
    const c = await signInAs(t.app, mod.email, 'curl/8.5.0');
    await a
      .post('/account/sessions/revoke-others')
      .type('form')
      .send({ _csrf: await csrfOf(a, '/account/sessions') })
      .expect(303);
    await b.get('/staff').expect(303);
    await c.get('/staff').expect(303);
    await a.get('/staff').expect(200);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM sessions WHERE sess->>'userId' = $1`, [mod.id]);
    expect(n).toBe(1);
    const [ev] = await t.db.query(`SELECT details FROM audit_events WHERE action = 'session.revoked'`);
    expect(ev.details).toEqual({ scope: 'others', sessionsEnded: 2 });
  });

  it('when a member changes their password, then their other sessions end and this one stays', async () => {
    const mod = await createStaff(t.db);
    const here = await signInAs(t.app, mod.email, FIREFOX);
    const elsewhere = await signInAs(t.app, mod.email, ANDROID);
    const form = await here.get('/account/password').expect(200);
    await here
      .post('/account/password')
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        currentPassword: PASSWORD,
        newPassword: 'another long passphrase',
        confirmPassword: 'another long passphrase',
      })
      .expect(303);
    await elsewhere.get('/staff').expect(303);
    await here.get('/staff').expect(200);
    const [ev] = await t.db.query(`SELECT details FROM audit_events WHERE action = 'user.password_changed'`);
    expect(ev.details).toEqual({ sessionsEnded: 1 });
  });

  it('when the cookie of an ended session comes back, then it is refused with why it ended, audited once, and opens nothing', async () => {
    const mod = await createStaff(t.db);
    const mine = await signInAs(t.app, mod.email, FIREFOX);
    const stolen = await signInAs(t.app, mod.email, ANDROID);
    const stolenCsrf = await csrfOf(stolen, '/account/sessions');
    await mine
      .post('/account/sessions/revoke-others')
      .type('form')
      .send({ _csrf: await csrfOf(mine, '/account/sessions') })
      .expect(303);
    // A form sent with the stolen cookie (and its own valid form token): 401, saying why.
    const post = await stolen.post('/account/sessions/revoke-others').type('form').send({ _csrf: stolenCsrf });
    expect(post.status).toBe(401);
    expect(post.text).toContain('This session was signed out from the sessions page of your account. Sign in again.');
    // Told once: from then on the cookie is an empty session like any visitor's.
    await stolen.get('/staff').expect(303).expect('Location', '/login?next=%2Fstaff');
    expect((await stolen.get('/login').expect(200)).text).not.toContain('This session was signed out');
    await mine.get('/staff').expect(200);

    // A password change: the member's other browser goes to the sign-in page, which says why.
    const other = await signInAs(t.app, mod.email, ANDROID);
    await mine
      .post('/account/password')
      .type('form')
      .send({
        _csrf: await csrfOf(mine, '/account/password'),
        currentPassword: PASSWORD,
        newPassword: 'another long passphrase',
        confirmPassword: 'another long passphrase',
      })
      .expect(303);
    await other.get('/queue').expect(303).expect('Location', '/login?next=%2Fqueue');
    expect((await other.get('/login').expect(200)).text).toContain(
      'This session ended because the password of the account was changed. Sign in again.',
    );

    // A second-factor reset and a deactivation by an admin (the use cases the users page calls).
    const second = await createStaff(t.db);
    const reset = await signInAs(t.app, second.email, FIREFOX);
    const admin = { type: 'user' as const, id: mod.id, label: mod.email };
    await withTransaction(t.db, (tx) => resetSecondFactor(tx, { actor: admin, userId: second.id, at: new Date() }));
    await reset.get('/staff').expect(303);
    expect((await reset.get('/login')).text).toContain('an admin reset the second factor of the account');
    const gone = await signInAs(t.app, second.email, ANDROID);
    await withTransaction(t.db, (tx) => setActive(tx, { actor: admin, userId: second.id, active: false, at: new Date() }));
    const json = await gone.get('/queue').set('Accept', 'application/json');
    expect(json.status).toBe(401);
    expect(json.body.errors[0].message).toBe('This session ended because the account was deactivated.');

    const refused = await t.db.query(
      `SELECT actor_type, subject_id, details FROM audit_events WHERE action = 'session.refused' ORDER BY id`,
    );
    expect(refused).toEqual([
      { actor_type: 'public', subject_id: mod.id, details: { reason: 'revoked', method: 'POST', path: '/account/sessions/revoke-others' } },
      { actor_type: 'public', subject_id: mod.id, details: { reason: 'password_changed', method: 'GET', path: '/queue' } },
      { actor_type: 'public', subject_id: second.id, details: { reason: 'second_factor_reset', method: 'GET', path: '/staff' } },
      { actor_type: 'public', subject_id: second.id, details: { reason: 'deactivated', method: 'GET', path: '/queue' } },
    ]);
    // None of them is a live session any more, and none is listed.
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM sessions WHERE sess->>'userId' = $1`, [second.id]);
    expect(n).toBe(0);
  });

  it('when the user agent is one of the usual browsers, then it is named by browser and system', () => {
    expect(describeUserAgent(FIREFOX)).toBe('Firefox on Linux');
    expect(describeUserAgent(ANDROID)).toBe('Chrome on Android');
    expect(
      describeUserAgent(
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
      ),
    ).toBe('Safari on macOS');
    expect(
      describeUserAgent(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0',
      ),
    ).toBe('Edge on Windows');
    expect(describeUserAgent('')).toBe('Unknown device');
  });
});
