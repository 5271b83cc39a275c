import { Secret, TOTP } from 'otpauth';
import request from 'supertest';
import { ManualClock, systemClock } from '../../src/shared/clock';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { createMailingContext, MailingContext } from '../support/mailing';
import { createStaff, csrfFrom, csrfOf, PASSWORD, signedInAgent } from '../support/staff';

type Agent = ReturnType<typeof request.agent>;
const T0 = new Date('2026-12-02T10:00:00.000Z'); // a step boundary (divisible by 30 s)

const codeAt = (secret: string, at: Date) =>
  new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: at.getTime() });

/** Enrols TOTP through the real pages; returns the key and the recovery codes shown once. */
async function enrol(agent: Agent, clock: ManualClock): Promise<{ secret: string; recovery: string[] }> {
  const page = await agent.get('/account/2fa').expect(200);
  const secret = /id="totp-key">([A-Z2-7]+)</.exec(page.text)![1];
  await agent
    .post('/account/2fa')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), code: codeAt(secret, clock.now()) })
    .expect(303);
  const shown = await agent.get('/account/2fa').expect(200);
  const recovery = [...shown.text.matchAll(/<code class="secret">([a-z2-9]{5}-[a-z2-9]{5})<\/code>/g)].map((m) => m[1]);
  return { secret, recovery };
}

/** The password step; returns the agent in the half-signed-in state. */
async function passwordStep(app: TestContext['app'], email: string): Promise<Agent> {
  const agent = request.agent(app);
  const page = await agent.get('/login').expect(200);
  await agent
    .post('/login')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), email, password: PASSWORD, next: '/staff' })
    .expect(303)
    .expect('Location', '/login/2fa');
  return agent;
}
async function codeStep(agent: Agent, code: string) {
  const page = await agent.get('/login/2fa').expect(200);
  return agent
    .post('/login/2fa')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), code });
}

describe('two-factor sign-in (TOTP, recovery codes)', () => {
  const clock = new ManualClock(T0);
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext({ clock, env: { LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_MINUTES: '15' } });
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    clock.set(T0);
    await truncateAll(t.db);
  });
  const events = async (action: string) =>
    (await t.db.query('SELECT subject_id, actor_type, details FROM audit_events WHERE action = $1 ORDER BY id', [action])) as {
      subject_id: string;
      actor_type: string;
      details: Record<string, unknown>;
    }[];

  it('when a member enrols, then the page shows an SVG QR code and the key, a wrong code is refused, and the right one turns it on with ten hashed recovery codes shown once', async () => {
    const mod = await createStaff(t.db);
    const agent = await signedInAgent(t.app, mod.email);
    const page = await agent.get('/account/2fa').expect(200);
    const dataUrl = /<img class="qr" src="data:image\/svg\+xml;base64,([^"]+)"/.exec(page.text)![1];
    const svg = Buffer.from(dataUrl, 'base64').toString('utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).not.toMatch(/style=|<script/);
    expect(page.text).not.toMatch(/ style=/);
    const secret = /id="totp-key">([A-Z2-7]+)</.exec(page.text)![1];
    expect(secret.length).toBeGreaterThanOrEqual(32);
    // The same key on a reload, until it is confirmed.
    expect((await agent.get('/account/2fa')).text).toContain(secret);

    const wrong = await agent
      .post('/account/2fa')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), code: '000000' === codeAt(secret, clock.now()) ? '111111' : '000000' });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('That code is not right.');
    // Nothing is stored until a code confirms the key (the key being set up waits in the session).
    expect(await t.db.query('SELECT 1 FROM totp_credentials WHERE user_id = $1', [mod.id])).toHaveLength(0);

    await agent
      .post('/account/2fa')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), code: codeAt(secret, clock.now()) })
      .expect(303)
      .expect('Location', '/account/2fa');
    const shown = await agent.get('/account/2fa').expect(200);
    const recovery = [...shown.text.matchAll(/<code class="secret">([a-z2-9]{5}-[a-z2-9]{5})<\/code>/g)].map((m) => m[1]);
    expect(new Set(recovery).size).toBe(10);
    const again = await agent.get('/account/2fa').expect(200);
    expect(again.text).not.toContain(recovery[0]);
    expect(again.text).toContain('You have 10 unused recovery codes');

    const [cred] = await t.db.query('SELECT secret_sealed, confirmed_at, last_used_step FROM totp_credentials WHERE user_id = $1', [
      mod.id,
    ]);
    expect(cred.confirmed_at).not.toBeNull();
    expect(cred.secret_sealed).not.toContain(secret);
    expect(Number(cred.last_used_step)).toBe(T0.getTime() / 30_000);
    const hashes: { code_hash: string }[] = await t.db.query('SELECT code_hash FROM recovery_codes WHERE user_id = $1', [mod.id]);
    expect(hashes).toHaveLength(10);
    for (const h of hashes) expect(h.code_hash).toMatch(/^\$argon2id\$/);
    expect((await events('user.2fa_enabled')).map((e) => e.subject_id)).toEqual([mod.id]);
  });

  it('when a member with 2FA gives the right password, then only the code page opens until the code is given, and the sign-in is audited with the factor', async () => {
    const mod = await createStaff(t.db);
    const { secret } = await enrol(await signedInAgent(t.app, mod.email), clock);
    clock.advance(60_000);
    const agent = await passwordStep(t.app, mod.email);
    // Half signed in: no staff page, no other form.
    await agent.get('/staff').expect(303).expect('Location', '/login?next=%2Fstaff');
    await agent.get('/account/2fa').expect(303);
    expect(await events('user.password_accepted')).toHaveLength(1);
    const ok = await codeStep(agent, codeAt(secret, clock.now()));
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/staff');
    await agent.get('/staff').expect(200);
    const logins = await events('user.logged_in');
    expect(logins.at(-1)).toMatchObject({ subject_id: mod.id, details: { secondFactor: 'totp' } });
  });

  it('when a code is replayed, or a previous-window code is used twice, then it is refused with a clear message and audited', async () => {
    const mod = await createStaff(t.db);
    const { secret } = await enrol(await signedInAgent(t.app, mod.email), clock);
    // The enrolment spent T0's step: the same code again is a replay.
    const replay = await codeStep(await passwordStep(t.app, mod.email), codeAt(secret, T0));
    expect(replay.status).toBe(401);
    expect(replay.text).toContain('That code has already been used.');
    // 60 s later, the previous window's code (T0 + 30 s) is still accepted once...
    clock.advance(60_000);
    const previous = codeAt(secret, new Date(T0.getTime() + 30_000));
    await codeStep(await passwordStep(t.app, mod.email), previous).then((r) => expect(r.status).toBe(303));
    // ...and not twice.
    const twice = await codeStep(await passwordStep(t.app, mod.email), previous);
    expect(twice.status).toBe(401);
    expect(twice.text).toContain('That code has already been used.');
    expect((await events('user.2fa_failed')).map((e) => e.details.reason)).toEqual(['replayed_code', 'replayed_code']);
  });

  it('when wrong codes are tried repeatedly, then the account locks like for passwords and even the right code is refused', async () => {
    const mod = await createStaff(t.db);
    const { secret } = await enrol(await signedInAgent(t.app, mod.email), clock);
    clock.advance(60_000);
    const agent = await passwordStep(t.app, mod.email);
    const right = codeAt(secret, clock.now());
    const wrongs = ['000000', '111111', '222222', '333333'].filter((c) => c !== right).slice(0, 3);
    expect((await codeStep(agent, wrongs[0])).status).toBe(401);
    expect((await codeStep(agent, wrongs[1])).status).toBe(401);
    const third = await codeStep(agent, wrongs[2]);
    expect(third.status).toBe(423);
    expect(third.text).toMatch(/locked after repeated failed sign-ins/);
    expect(await events('user.locked')).toHaveLength(1);
    // The lock holds for the password step and the code step alike.
    const again = request.agent(t.app);
    const page = await again.get('/login');
    await again
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email: mod.email, password: PASSWORD })
      .expect(423);
    // Re-entering the password cannot clear the count of wrong codes either.
    const [row] = await t.db.query('SELECT locked_until FROM users WHERE id = $1', [mod.id]);
    expect(new Date(row.locked_until).getTime()).toBeGreaterThan(clock.now().getTime() + 14 * 60_000);
  });

  it('when a recovery code is used, then it signs in once; used again it is refused and audited', async () => {
    const mod = await createStaff(t.db);
    const { recovery } = await enrol(await signedInAgent(t.app, mod.email), clock);
    const first = await codeStep(await passwordStep(t.app, mod.email), recovery[3].toUpperCase());
    expect(first.status).toBe(303);
    expect((await events('user.logged_in')).at(-1)!.details).toEqual({ secondFactor: 'recovery_code' });
    const reused = await codeStep(await passwordStep(t.app, mod.email), recovery[3]);
    expect(reused.status).toBe(401);
    expect(reused.text).toContain('That recovery code has already been used.');
    expect((await events('user.2fa_failed')).map((e) => e.details.reason)).toEqual(['recovery_code_reused']);
    const [{ n }] = await t.db.query('SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NOT NULL', [mod.id]);
    expect(n).toBe(1);
  });

  it('when the code page is opened without a password step, then it sends to the sign-in page and a posted code does nothing', async () => {
    const agent = request.agent(t.app);
    await agent.get('/login/2fa').expect(303).expect('Location', '/login');
    const token = csrfFrom((await agent.get('/login')).text);
    await agent.post('/login/2fa').type('form').send({ _csrf: token, code: '123456' }).expect(303).expect('Location', '/login');
    await agent.get('/staff').expect(303);
  });
});

describe('REQUIRE_2FA and the admin reset of a second factor', () => {
  const clock = new ManualClock(T0);
  let m: MailingContext;
  beforeAll(async () => {
    // Outbox rows are due by the database's clock: the worker runs on real time; the app on the manual clock.
    m = await createMailingContext({ clock, workerClock: systemClock, env: { REQUIRE_2FA: 'admin' } });
  });
  afterAll(() => m.close());
  beforeEach(async () => {
    clock.set(T0);
    await m.reset();
  });

  it('when REQUIRE_2FA=admin and an admin has not enrolled, then every staff page sends them to enrolment; a moderator goes on as before', async () => {
    const admin = await createStaff(m.t.db, { role: 'admin' });
    const mod = await createStaff(m.t.db, { role: 'moderator' });
    const agent = await signedInAgent(m.t.app, admin.email);
    await agent.get('/staff').expect(303).expect('Location', '/account/2fa');
    await agent.get('/users').expect(303).expect('Location', '/account/2fa');
    const token = csrfFrom((await agent.get('/account/2fa').expect(200)).text);
    await agent.post('/users').type('form').send({ _csrf: token, email: 'x@example.org', name: 'X', role: 'moderator' }).expect(403);
    await (await signedInAgent(m.t.app, mod.email)).get('/staff').expect(200);
    await enrol(agent, clock);
    await agent.get('/users').expect(200);
  });

  it("when an admin resets a member's second factor, then a fresh proof is asked first, and the key, codes and sessions go, audited and emailed", async () => {
    const admin = await createStaff(m.t.db, { role: 'admin' });
    const mod = await createStaff(m.t.db, { role: 'moderator' });
    const adminAgent = await signedInAgent(m.t.app, admin.email);
    await enrol(adminAgent, clock);
    const modAgent = await signedInAgent(m.t.app, mod.email);
    await enrol(modAgent, clock);
    await modAgent.get('/staff').expect(200);

    clock.advance(11 * 60_000); // the admin's proof (their enrolment) is now stale
    let token = await csrfOf(adminAgent, '/users');
    const stale = await adminAgent.post('/users/action').type('form').send({ _csrf: token, action: 'reset-2fa', userId: mod.id });
    expect(stale.status).toBe(303);
    expect(stale.headers.location).toBe('/account/confirm?next=%2Fusers');
    expect(await m.t.db.query('SELECT 1 FROM totp_credentials WHERE user_id = $1', [mod.id])).toHaveLength(1);

    const confirm = await adminAgent.get(stale.headers.location).expect(200);
    const bad = await adminAgent
      .post('/account/confirm')
      .type('form')
      .send({ _csrf: csrfFrom(confirm.text), next: '/users', password: 'not my password' });
    expect(bad.status).toBe(401);
    expect(bad.text).toContain('That password is not right.');
    await adminAgent
      .post('/account/confirm')
      .type('form')
      .send({ _csrf: csrfFrom(confirm.text), next: '/users', password: PASSWORD })
      .expect(303)
      .expect('Location', '/users');

    token = await csrfOf(adminAgent, '/users');
    await adminAgent
      .post('/users/action')
      .type('form')
      .send({ _csrf: token, action: 'reset-2fa', userId: mod.id })
      .expect(303)
      .expect('Location', '/users');
    expect(await m.t.db.query('SELECT 1 FROM totp_credentials WHERE user_id = $1', [mod.id])).toHaveLength(0);
    expect(await m.t.db.query('SELECT 1 FROM recovery_codes WHERE user_id = $1', [mod.id])).toHaveLength(0);
    await modAgent.get('/staff').expect(303); // their session ended

    const [ev] = await m.t.db.query(`SELECT actor_id, subject_id, details FROM audit_events WHERE action = 'user.2fa_reset'`);
    expect(ev).toMatchObject({ actor_id: admin.id, subject_id: mod.id, details: { hadSecondFactor: true, sessionsEnded: 1 } });
    expect((await m.t.db.query(`SELECT details FROM audit_events WHERE action = 'user.reauthenticated'`))[0].details).toEqual({
      with: 'password',
    });
    await m.worker.drain();
    const mails = m.sink.to(mod.email);
    expect(mails.map((x) => x.parsed.subject)).toContain('Your second factor at Takedown Desk was reset');
    expect(mails.find((x) => /reset/.test(String(x.parsed.subject)))!.parsed.text).toContain(admin.email);
    // The member signs in with the password alone now.
    await signedInAgent(m.t.app, mod.email);
  });
});
