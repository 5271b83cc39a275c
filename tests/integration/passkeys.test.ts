import request from 'supertest';
import { withTransaction } from '../../src/db/transaction';
import { resetSecondFactor } from '../../src/modules/auth';
import { ManualClock } from '../../src/shared/clock';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { createStaff, csrfFrom, PASSWORD, signedInAgent } from '../support/staff';

type Agent = ReturnType<typeof request.agent>;
const T0 = new Date('2026-12-02T10:00:00.000Z');
const ORIGIN = 'http://localhost:3000'; // the test config's PUBLIC_BASE_URL

/** A JSON POST as public/passkey.js sends it: the page's CSRF token in the header. */
const postJson = (agent: Agent, path: string, csrf: string, body: unknown = {}) =>
  agent
    .post(path)
    .set('Accept', 'application/json')
    .set('X-CSRF-Token', csrf)
    .send(body as object);

/** Adds a passkey through the account page's routes; returns the answer to the final POST. */
async function addPasskey(agent: Agent, auth: SoftAuthenticator, name = 'Test key', bend: { origin?: string } = {}) {
  const csrf = csrfFrom((await agent.get('/account/passkeys').expect(200)).text);
  const options = await postJson(agent, '/account/passkeys/options', csrf, { name }).expect(200);
  return postJson(agent, '/account/passkeys', csrf, { name, credential: auth.register(options.body, bend) });
}

/** The password step: the agent is half signed in and on the second step. */
async function passwordStep(app: TestContext['app'], email: string): Promise<{ agent: Agent; csrf: string; page: string }> {
  const agent = request.agent(app);
  const login = await agent.get('/login').expect(200);
  await agent
    .post('/login')
    .type('form')
    .send({ _csrf: csrfFrom(login.text), email, password: PASSWORD, next: '/staff' })
    .expect(303)
    .expect('Location', '/login/2fa');
  const page = (await agent.get('/login/2fa').expect(200)).text;
  return { agent, csrf: csrfFrom(page), page };
}

async function signInOptions(step: { agent: Agent; csrf: string }) {
  return (await postJson(step.agent, '/login/2fa/passkey/options', step.csrf).expect(200)).body as { challenge: string };
}

describe('passkeys as a second factor (WebAuthn, server side)', () => {
  const clock = new ManualClock(T0);
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext({ clock, env: { LOGIN_MAX_FAILURES: '10' } });
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    clock.set(T0);
    await truncateAll(t.db);
  });
  const events = async (action: string) =>
    (await t.db.query('SELECT subject_id, details FROM audit_events WHERE action = $1 ORDER BY id', [action])) as {
      subject_id: string;
      details: Record<string, unknown>;
    }[];

  it('when a member adds a passkey and signs in with it, then it is stored and audited, the password leads to the second step, and the passkey completes it', async () => {
    const mod = await createStaff(t.db);
    const agent = await signedInAgent(t.app, mod.email);
    const auth = new SoftAuthenticator(ORIGIN);
    const added = await addPasskey(agent, auth, 'YubiKey 5');
    expect(added.status).toBe(201);
    expect(added.body.redirect).toBe('/account/passkeys');
    const [row] = await t.db.query('SELECT user_id, credential_id, counter, name, transports FROM passkeys');
    expect(row).toEqual({ user_id: mod.id, credential_id: auth.id, counter: '0', name: 'YubiKey 5', transports: ['internal'] });
    expect((await events('user.passkey_added')).map((e) => [e.subject_id, e.details.name])).toEqual([[mod.id, 'YubiKey 5']]);
    expect((await agent.get('/account/passkeys').expect(200)).text).toContain('YubiKey 5');
    expect(await t.db.query('SELECT 1 FROM webauthn_challenges')).toEqual([]);

    const step = await passwordStep(t.app, mod.email);
    expect(step.page).toContain('Use a passkey');
    expect(step.page).not.toContain('id="code"'); // no authenticator app on this account
    // Half signed in: no staff page yet.
    await step.agent.get('/queue').expect(303).expect('Location', '/login?next=%2Fqueue');
    const done = await postJson(step.agent, '/login/2fa/passkey', step.csrf, { credential: auth.assert(await signInOptions(step)) });
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ redirect: '/staff' });
    await step.agent.get('/queue').expect(200);
    const [used] = await t.db.query('SELECT counter, last_used_at FROM passkeys');
    expect(used.counter).toBe('1');
    expect(used.last_used_at).toEqual(T0);
    expect((await events('user.logged_in')).at(-1)!.details).toMatchObject({ secondFactor: 'passkey' });
  });

  it('when a member adds a second passkey, then both are listed, the first is excluded from the second set-up, and either one completes the sign-in', async () => {
    const mod = await createStaff(t.db);
    const agent = await signedInAgent(t.app, mod.email);
    const laptop = new SoftAuthenticator(ORIGIN);
    const phone = new SoftAuthenticator(ORIGIN);
    expect((await addPasskey(agent, laptop, 'Laptop')).status).toBe(201);
    const csrf = csrfFrom((await agent.get('/account/passkeys').expect(200)).text);
    const options = await postJson(agent, '/account/passkeys/options', csrf, { name: 'Phone' }).expect(200);
    expect(options.body.excludeCredentials.map((c: { id: string }) => c.id)).toEqual([laptop.id]);
    const added = await postJson(agent, '/account/passkeys', csrf, { name: 'Phone', credential: phone.register(options.body) });
    expect(added.status).toBe(201);
    const page = (await agent.get('/account/passkeys').expect(200)).text;
    expect(page).toContain('Laptop');
    expect(page).toContain('Phone');
    for (const auth of [phone, laptop]) {
      const step = await passwordStep(t.app, mod.email);
      const opts = await signInOptions(step);
      const done = await postJson(step.agent, '/login/2fa/passkey', step.csrf, { credential: auth.assert(opts) });
      expect(done.status).toBe(200);
      await step.agent.get('/queue').expect(200);
    }
    const used = await t.db.query('SELECT name, counter FROM passkeys ORDER BY name');
    expect(used).toEqual([
      { name: 'Laptop', counter: '1' },
      { name: 'Phone', counter: '1' },
    ]);
  });

  it('when a registration answer is for another origin, for a challenge never issued, or replayed, then it is refused with a message, nothing more is stored, and each refusal is audited', async () => {
    const mod = await createStaff(t.db);
    const agent = await signedInAgent(t.app, mod.email);
    const auth = new SoftAuthenticator(ORIGIN);

    const evil = await addPasskey(agent, auth, 'Key', { origin: 'https://evil.example' });
    expect(evil.status).toBe(422);
    expect(evil.body.errors[0].message).toBe('The passkey could not be verified. Try again.');

    const csrf = csrfFrom((await agent.get('/account/passkeys').expect(200)).text);
    const invented = await postJson(agent, '/account/passkeys', csrf, {
      name: 'Key',
      credential: auth.register({ challenge: Buffer.from('never-issued-challenge').toString('base64url') }),
    });
    expect(invented.status).toBe(422);
    expect(invented.body.errors[0].message).toMatch(/expired or was already used/);

    const options = await postJson(agent, '/account/passkeys/options', csrf, { name: 'Key' }).expect(200);
    const answer = auth.register(options.body);
    await postJson(agent, '/account/passkeys', csrf, { name: 'Key', credential: answer }).expect(201);
    const replay = await postJson(agent, '/account/passkeys', csrf, { name: 'Key again', credential: answer });
    expect(replay.status).toBe(422);

    expect(await t.db.query('SELECT name FROM passkeys')).toEqual([{ name: 'Key' }]);
    expect((await events('user.passkey_refused')).map((e) => e.details.reason)).toEqual([
      'passkey_wrong_origin',
      'bad_challenge',
      'bad_challenge',
    ]);
  });

  it('when the form is sent without a name or without an answer, then 422 names the field, and an expired set-up (over 5 minutes) is refused', async () => {
    const mod = await createStaff(t.db);
    const agent = await signedInAgent(t.app, mod.email);
    const csrf = csrfFrom((await agent.get('/account/passkeys').expect(200)).text);
    const noName = await postJson(agent, '/account/passkeys/options', csrf, { name: '  ' });
    expect(noName.status).toBe(422);
    expect(noName.body.errors).toEqual([{ field: 'name', message: expect.stringMatching(/Give the passkey a name/) }]);
    const noAnswer = await postJson(agent, '/account/passkeys', csrf, { name: 'Key', credential: 'x' });
    expect(noAnswer.status).toBe(422);
    expect(noAnswer.body.errors[0].field).toBe('credential');

    const auth = new SoftAuthenticator(ORIGIN);
    const options = await postJson(agent, '/account/passkeys/options', csrf, { name: 'Key' }).expect(200);
    clock.advance(5 * 60_000 + 1000);
    const late = await postJson(agent, '/account/passkeys', csrf, { name: 'Key', credential: auth.register(options.body) });
    expect(late.status).toBe(422);
    expect(late.body.errors[0].message).toMatch(/expired or was already used/);
    expect(await t.db.query('SELECT 1 FROM passkeys')).toEqual([]);
  });

  it("when a sign-in answer is replayed, made for another origin, from a key whose counter went back, or over another member's challenge, then each is refused, audited with its reason and counted towards the lockout", async () => {
    const mod = await createStaff(t.db);
    const other = await createStaff(t.db);
    const auth = new SoftAuthenticator(ORIGIN);
    const otherAuth = new SoftAuthenticator(ORIGIN);
    await addPasskey(await signedInAgent(t.app, mod.email), auth).then((r) => expect(r.status).toBe(201));
    await addPasskey(await signedInAgent(t.app, other.email), otherAuth).then((r) => expect(r.status).toBe(201));

    // Another origin (a phishing site relaying the challenge).
    let step = await passwordStep(t.app, mod.email);
    const phished = await postJson(step.agent, '/login/2fa/passkey', step.csrf, {
      credential: auth.assert(await signInOptions(step), { origin: 'https://desk-login.example' }),
    });
    expect(phished.status).toBe(401);
    expect(phished.body.errors[0].message).toBe('That passkey answer was made for another site.');

    // A good sign-in, whose answer is captured and replayed in a later sign-in.
    step = await passwordStep(t.app, mod.email);
    const captured = auth.assert(await signInOptions(step));
    await postJson(step.agent, '/login/2fa/passkey', step.csrf, { credential: captured }).expect(200);
    step = await passwordStep(t.app, mod.email);
    await signInOptions(step);
    const replayed = await postJson(step.agent, '/login/2fa/passkey', step.csrf, { credential: captured });
    expect(replayed.status).toBe(401);
    expect(replayed.body.errors[0].message).toMatch(/expired or was already used/);

    // A cloned key: its counter does not move past the one last seen.
    step = await passwordStep(t.app, mod.email);
    const clone = await postJson(step.agent, '/login/2fa/passkey', step.csrf, {
      credential: auth.assert(await signInOptions(step), { counter: auth.counter }),
    });
    expect(clone.status).toBe(401);
    expect(clone.body.errors[0].message).toMatch(/counter went backwards/);

    // The other member's challenge, signed by this member's key.
    const theirs = await passwordStep(t.app, other.email);
    const theirOptions = await signInOptions(theirs);
    step = await passwordStep(t.app, mod.email);
    await signInOptions(step);
    const borrowed = await postJson(step.agent, '/login/2fa/passkey', step.csrf, { credential: auth.assert(theirOptions) });
    expect(borrowed.status).toBe(401);
    // …and that challenge is still good for its owner.
    await postJson(theirs.agent, '/login/2fa/passkey', theirs.csrf, { credential: otherAuth.assert(theirOptions) }).expect(200);

    const failed = (await events('user.2fa_failed')).filter((e) => e.subject_id === mod.id);
    expect(failed.map((e) => e.details.reason)).toEqual([
      'passkey_wrong_origin',
      'passkey_bad_challenge',
      'passkey_counter',
      'passkey_bad_challenge',
    ]);
    expect(failed.map((e) => e.details.failures)).toEqual([1, 1, 2, 3]); // the good sign-in cleared the first
    const [{ failed_logins }] = await t.db.query('SELECT failed_logins FROM users WHERE id = $1', [mod.id]);
    expect(failed_logins).toBe(3);
  });

  it('when the sign-in step is called without a password step just taken, then it sends to the sign-in page and hands out no challenge', async () => {
    const mod = await createStaff(t.db);
    const agent = await signedInAgent(t.app, mod.email);
    const csrf = csrfFrom((await agent.get('/account/passkeys').expect(200)).text);
    await postJson(agent, '/login/2fa/passkey/options', csrf).expect(303).expect('Location', '/login');
    expect(await t.db.query('SELECT 1 FROM webauthn_challenges')).toEqual([]);
  });

  it("when a passkey is removed, then it needs a fresh proof, it goes and is audited, another member's passkey cannot be removed, and the password alone signs in again", async () => {
    const mod = await createStaff(t.db);
    const other = await createStaff(t.db);
    const agent = await signedInAgent(t.app, mod.email);
    await addPasskey(agent, new SoftAuthenticator(ORIGIN), 'Laptop').then((r) => expect(r.status).toBe(201));
    await addPasskey(await signedInAgent(t.app, other.email), new SoftAuthenticator(ORIGIN), 'Theirs');
    const [{ id }] = await t.db.query('SELECT id FROM passkeys WHERE user_id = $1', [mod.id]);
    const [{ id: theirId }] = await t.db.query('SELECT id FROM passkeys WHERE user_id = $1', [other.id]);

    clock.advance(11 * 60_000);
    const page = await agent.get('/account/passkeys').expect(200);
    expect(page.text).toContain('Confirm it is you');
    const csrf = csrfFrom(page.text);
    await agent
      .post(`/account/passkeys/${id}/remove`)
      .type('form')
      .send({ _csrf: csrf })
      .expect(303)
      .expect('Location', '/account/confirm?next=%2Faccount%2Fpasskeys');
    expect(await t.db.query('SELECT 1 FROM passkeys WHERE id = $1', [id])).toHaveLength(1);
    await agent.post('/account/confirm').type('form').send({ _csrf: csrf, password: PASSWORD, next: '/account/passkeys' }).expect(303);

    await agent.post(`/account/passkeys/${theirId}/remove`).type('form').send({ _csrf: csrf }).expect(303);
    expect((await agent.get('/account/passkeys')).text).toContain('No such passkey of yours');
    await agent.post(`/account/passkeys/${id}/remove`).type('form').send({ _csrf: csrf }).expect(303);
    expect(await t.db.query('SELECT user_id FROM passkeys')).toEqual([{ user_id: other.id }]);
    expect((await events('user.passkey_removed')).map((e) => [e.subject_id, e.details.name])).toEqual([[mod.id, 'Laptop']]);
    await signedInAgent(t.app, mod.email); // password alone: straight to /staff
  });

  it("when a member signs in with a passkey alone, then user verification signs them in; without it, over another browser's challenge, or with an unknown passkey it is refused and audited", async () => {
    const mod = await createStaff(t.db);
    const auth = new SoftAuthenticator(ORIGIN);
    await addPasskey(await signedInAgent(t.app, mod.email), auth).then((r) => expect(r.status).toBe(201));
    const browser = async () => {
      const agent = request.agent(t.app);
      const csrf = csrfFrom((await agent.get('/login').expect(200)).text);
      const options = (await postJson(agent, '/login/passkey/options', csrf).expect(200)).body as {
        challenge: string;
        allowCredentials?: unknown[];
      };
      return { agent, csrf, options };
    };

    const a = await browser();
    expect(a.options.allowCredentials ?? []).toEqual([]); // nobody is known yet: discoverable passkeys
    const noUv = await postJson(a.agent, '/login/passkey', a.csrf, { credential: auth.assert(a.options, { userVerified: false }) });
    expect(noUv.status).toBe(401);
    expect(noUv.body.errors[0].message).toBe('That passkey answer could not be verified. Try again.');

    const b = await browser();
    const c = await browser();
    const crossed = await postJson(b.agent, '/login/passkey', b.csrf, { credential: auth.assert(c.options) });
    expect(crossed.status).toBe(401);
    expect(crossed.body.errors[0].message).toMatch(/expired or was already used/);
    expect(await t.db.query(`SELECT 1 FROM webauthn_challenges WHERE challenge = $1`, [c.options.challenge])).toHaveLength(1);

    const stranger = await postJson(c.agent, '/login/passkey', c.csrf, { credential: new SoftAuthenticator(ORIGIN).assert(c.options) });
    expect(stranger.status).toBe(401);
    expect(stranger.body.errors[0].message).toBe('That passkey is not registered here. Sign in with your email and password.');

    const d = await browser();
    const ok = await postJson(d.agent, '/login/passkey', d.csrf, { credential: auth.assert(d.options), next: '/queue' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ redirect: '/queue' });
    await d.agent.get('/queue').expect(200);
    expect((await events('user.logged_in')).at(-1)!.details).toMatchObject({ secondFactor: 'passkey', passwordless: true });
    expect((await events('user.2fa_failed')).map((e) => e.details.reason)).toEqual(['passkey_invalid', 'passkey_bad_challenge']);
    expect((await events('user.login_failed')).map((e) => e.details)).toEqual([{ reason: 'passkey_unknown', passwordless: true }]);
  });

  it('when a fresh proof is needed, then the passkey gives it on the confirm page; a refused answer gives none and is audited', async () => {
    const mod = await createStaff(t.db);
    const auth = new SoftAuthenticator(ORIGIN);
    const agent = await signedInAgent(t.app, mod.email);
    await addPasskey(agent, auth).then((r) => expect(r.status).toBe(201));
    clock.advance(11 * 60_000);
    const page = await agent.get('/account/confirm?next=%2Faccount%2Fpasskeys').expect(200);
    expect(page.text).toContain('Confirm with a passkey');
    const csrf = csrfFrom(page.text);
    const options = async () => (await postJson(agent, '/account/confirm/passkey/options', csrf).expect(200)).body;
    const bad = await postJson(agent, '/account/confirm/passkey', csrf, {
      credential: auth.assert(await options(), { origin: 'https://evil.example' }),
      next: '/account/passkeys',
    });
    expect(bad.status).toBe(401);
    expect((await agent.get('/account/passkeys').expect(200)).text).toContain('Confirm it is you'); // still no fresh proof
    const ok = await postJson(agent, '/account/confirm/passkey', csrf, {
      credential: auth.assert(await options()),
      next: '/account/passkeys',
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ redirect: '/account/passkeys' });
    expect((await agent.get('/account/passkeys').expect(200)).text).toContain('Add a passkey</button>');
    expect((await events('user.reauthenticated')).map((e) => e.details.secondFactor)).toEqual(['passkey']);
    expect((await events('user.2fa_failed')).map((e) => e.details.reason)).toEqual(['passkey_wrong_origin']);
  });

  it("when an admin resets a member's second factor, then the member's passkeys go too", async () => {
    const mod = await createStaff(t.db);
    await addPasskey(await signedInAgent(t.app, mod.email), new SoftAuthenticator(ORIGIN));
    await withTransaction(t.db, (tx) => resetSecondFactor(tx, { actor: { type: 'system' }, userId: mod.id, at: clock.now() }));
    expect(await t.db.query('SELECT 1 FROM passkeys')).toEqual([]);
    expect((await events('user.2fa_reset'))[0].details).toMatchObject({ hadSecondFactor: true, passkeysRemoved: 1 });
  });
});

describe('REQUIRE_2FA with passkeys', () => {
  const clock = new ManualClock(T0);
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext({ clock, env: { REQUIRE_2FA: 'all' } });
  });
  afterAll(() => t.close());

  it('when a member must enrol, then the passkeys page is open to them, and once a passkey is added no page sends them to enrolment', async () => {
    const mod = await createStaff(t.db);
    const agent = await signedInAgent(t.app, mod.email);
    await agent.get('/queue').expect(303).expect('Location', '/account/2fa');
    expect((await agent.get('/account/2fa').expect(200)).text).toContain('href="/account/passkeys"');
    const added = await addPasskey(agent, new SoftAuthenticator('http://localhost:3000'));
    expect(added.status).toBe(201);
    await agent.get('/queue').expect(200);
  });

  it('when a member who must enrol signed in over 10 minutes ago adds a passkey, then the fresh proof is asked on the confirm page (not a loop back to enrolment) and the passkey is added', async () => {
    clock.set(T0);
    const mod = await createStaff(t.db);
    const agent = await signedInAgent(t.app, mod.email);
    clock.advance(11 * 60_000);
    const csrf = csrfFrom((await agent.get('/account/passkeys').expect(200)).text);
    const stale = await postJson(agent, '/account/passkeys/options', csrf, { name: 'Late key' });
    expect(stale.status).toBe(403);
    expect(stale.body.errors[0].message).toContain('/account/confirm');
    const confirm = await agent.get('/account/confirm?next=%2Faccount%2Fpasskeys').expect(200);
    await agent
      .post('/account/confirm')
      .type('form')
      .send({ _csrf: csrfFrom(confirm.text), password: PASSWORD, next: '/account/passkeys' })
      .expect(303)
      .expect('Location', '/account/passkeys');
    expect((await addPasskey(agent, new SoftAuthenticator('http://localhost:3000'), 'Late key')).status).toBe(201);
    // Enrolled now: the other staff pages open.
    await agent.get('/queue').expect(200);
  });
});
