import request from 'supertest';
import { createApp } from '../../src/app';
import { withTransaction } from '../../src/db/transaction';
import { poolOf } from '../../src/db/data-source';
import { resetSecondFactor, StaffSessionStore } from '../../src/modules/auth';
import { setActive } from '../../src/modules/auth/manage-users';
import { describeUserAgent, sessionHandle } from '../../src/modules/auth/staff-sessions';
import type { LiveHub } from '../../src/modules/live';
import { ManualClock } from '../../src/shared/clock';
import { createMetricsRegistry } from '../../src/shared/metrics';
import type { SessionData } from 'express-session';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { listenApp, signInOver, SseClient } from '../support/sse';
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

/**
 * The hole these close: a request of a session that is still running when the session is ended holds
 * the signed-in session object, and express-session saves it when that request ends. The store must
 * not let that save bring the ended session back.
 */
describe('a session ended while one of its requests is in flight', () => {
  let t: TestContext;
  const clock = new ManualClock();
  beforeAll(async () => {
    t = await createTestContext({ clock });
  });
  afterAll(() => t.close());
  beforeEach(() => truncateAll(t.db));

  /**
   * Signs in over a real socket and opens the live stream (GET /live) with that session: a request
   * that stays open until the server shuts it. The member was away for two minutes, so the request
   * refreshes the session's "last used" and express-session saves the session when it ends.
   * `finish()` is the server shutting the stream (and with it the request) down.
   */
  async function sessionWithRequestInFlight(email: string) {
    const app = createApp({ ...t, metrics: createMetricsRegistry() }); // its own live hub, shut by finish()
    const server = await listenApp(app);
    const cookie = await signInOver(server.url, email, PASSWORD);
    clock.advance(2 * 60_000);
    const stream = await SseClient.open(`${server.url}/live`, cookie);
    expect(stream.response.statusCode).toBe(200);
    await stream.next('counts');
    const ended = new Promise((resolve) => stream.response.on('end', resolve));
    return {
      cookie,
      async finish() {
        await (app.locals.liveHub as LiveHub).close();
        await ended;
        await server.close();
      },
    };
  }

  const rowsOf = (userId: string) =>
    t.db.query(
      `SELECT sess->>'userId' AS "userId", sess->>'endedFor' AS "endedFor" FROM sessions WHERE sess->>'userId' = $1 OR sess->>'endedFor' = $1`,
      [userId],
    );

  it('when a session is signed out from the sessions page while its request is running, then that request ending does not sign it back in: its cookie is refused and audited', async () => {
    const mod = await createStaff(t.db);
    const a = await sessionWithRequestInFlight(mod.email);
    const b = await signInAs(t.app, mod.email, FIREFOX);
    const page = await b.get('/account/sessions').expect(200);
    const handle = /action="\/account\/sessions\/([0-9a-f]{24})\/revoke"/.exec(page.text)![1];
    await b
      .post(`/account/sessions/${handle}/revoke`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(303);

    await a.finish();

    expect(await rowsOf(mod.id)).toEqual(
      expect.arrayContaining([
        { userId: mod.id, endedFor: null },
        { userId: null, endedFor: mod.id },
      ]),
    );
    await request(t.app).get('/staff').set('Cookie', a.cookie).expect(303).expect('Location', '/login?next=%2Fstaff');
    const login = await request(t.app).get('/login').set('Cookie', a.cookie).expect(200);
    expect(login.text).toContain('This session was signed out from the sessions page of your account. Sign in again.');
    const refused = await t.db.query(`SELECT subject_id, details FROM audit_events WHERE action = 'session.refused'`);
    expect(refused).toEqual([{ subject_id: mod.id, details: { reason: 'revoked', method: 'GET', path: '/staff' } }]);
    await b.get('/staff').expect(200);
  });

  it('when the password is changed while a request of another session is running, then that request ending does not sign the other session back in', async () => {
    const mod = await createStaff(t.db);
    const a = await sessionWithRequestInFlight(mod.email);
    const b = await signInAs(t.app, mod.email, FIREFOX);
    await b
      .post('/account/password')
      .type('form')
      .send({
        _csrf: await csrfOf(b, '/account/password'),
        currentPassword: PASSWORD,
        newPassword: 'another long passphrase',
        confirmPassword: 'another long passphrase',
      })
      .expect(303);

    await a.finish();

    await request(t.app).get('/queue').set('Cookie', a.cookie).expect(303).expect('Location', '/login?next=%2Fqueue');
    const login = await request(t.app).get('/login').set('Cookie', a.cookie).expect(200);
    expect(login.text).toContain('This session ended because the password of the account was changed. Sign in again.');
    const refused = await t.db.query(`SELECT subject_id, details FROM audit_events WHERE action = 'session.refused'`);
    expect(refused).toEqual([{ subject_id: mod.id, details: { reason: 'password_changed', method: 'GET', path: '/queue' } }]);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM sessions WHERE sess->>'userId' = $1`, [mod.id]);
    expect(n).toBe(1);
  });

  it('when the store is handed a signed-in session loaded before the session was ended, then neither saving nor touching it revives the session; an empty session replaces the marker', async () => {
    const dropped: string[] = [];
    const store = new StaffSessionStore(poolOf(t.db), (handle) => dropped.push(handle));
    const call = <T>(f: (cb: (err?: unknown, v?: T) => void) => void) =>
      new Promise<T | undefined>((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));
    const mod = await createStaff(t.db);
    const a = await signInAs(t.app, mod.email, ANDROID);
    const b = await signInAs(t.app, mod.email, FIREFOX);
    const [{ sid }] = await t.db.query(`SELECT sid FROM sessions WHERE sess->>'userAgent' = $1`, [ANDROID]);
    // A request of session A loads it…
    const loaded = (await call<SessionData | null>((cb) => store.get(sid, cb)))!;
    expect(loaded.userId).toBe(mod.id);
    // …B signs A out meanwhile…
    await b
      .post(`/account/sessions/${sessionHandle(sid)}/revoke`)
      .type('form')
      .send({ _csrf: await csrfOf(b, '/account/sessions') })
      .expect(303);
    const [before] = await t.db.query(`SELECT sess, expire FROM sessions WHERE sid = $1`, [sid]);
    expect(before.sess).toMatchObject({ endedFor: mod.id, endedBecause: 'revoked' });
    // …and A's request ends: express-session saves (a modified session) or touches (a rolling cookie).
    const later = { ...loaded, lastSeenAt: Date.now(), cookie: { ...loaded.cookie, expires: new Date(Date.now() + 8 * 3600_000) } };
    await call((cb) => store.set(sid, later as SessionData, cb));
    await call((cb) => store.touch(sid, later as SessionData, cb));
    // So is a half-signed-in session (password accepted, second factor pending).
    await call((cb) => store.set(sid, { cookie: loaded.cookie, pendingUserId: mod.id } as SessionData, cb));
    const [after] = await t.db.query(`SELECT sess, expire FROM sessions WHERE sid = $1`, [sid]);
    expect(after).toEqual(before);
    expect(dropped).toEqual([sessionHandle(sid), sessionHandle(sid)]);

    await a.get('/staff').expect(303).expect('Location', '/login?next=%2Fstaff');
    expect((await a.get('/login').expect(200)).text).toContain('This session was signed out from the sessions page of your account.');
    const refused = await t.db.query(`SELECT subject_id, details FROM audit_events WHERE action = 'session.refused'`);
    expect(refused).toEqual([{ subject_id: mod.id, details: { reason: 'revoked', method: 'GET', path: '/staff' } }]);
    // The guard's save (the marker cleared: no one signed in) did replace it.
    const [cleared] = await t.db.query(`SELECT sess FROM sessions WHERE sid = $1`, [sid]);
    expect(cleared.sess.endedFor).toBeUndefined();
    expect(cleared.sess.userId).toBeUndefined();
  });

  it('when a visitor signs in with a session id they already had (one an attacker could have planted), then the signed-in session gets a new id and the old one grants nothing', async () => {
    const mod = await createStaff(t.db);
    const agent = request.agent(t.app);
    const page = await agent.get('/login').expect(200);
    const planted = /td\.sid=([^;]+)/.exec(String(page.headers['set-cookie']))![1];
    const signedIn = await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email: mod.email, password: PASSWORD, next: '/staff' })
      .expect(303);
    const fresh = /td\.sid=([^;]+)/.exec(String(signedIn.headers['set-cookie']))![1];
    expect(fresh).not.toBe(planted);
    await agent.get('/staff').expect(200);
    await request(t.app).get('/staff').set('Cookie', `td.sid=${planted}`).expect(303);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM sessions WHERE sess->>'userId' = $1`, [mod.id]);
    expect(n).toBe(1);
  });
});
