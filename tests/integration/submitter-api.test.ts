import request from 'supertest';
import type { MailWorker } from '../../src/modules/mail';
import { ManualClock, systemClock } from '../../src/shared/clock';
import { COMPLAINANT } from '../support/approve-fixture';
import type { TestContext } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createMailingContext, MailingContext } from '../support/mailing';
import { PortalAgent, portalAgent } from '../support/portal';
import type { SmtpSink } from '../support/smtp-sink';
import { createStaff, csrfFrom, csrfOf, tokenFor } from '../support/staff';

const RIGHTS = 'rights@analytical.example';
const { email: _e, goodFaith: _g, accuracy: _a, signature: _s, ...WITHOUT_STATEMENTS } = COMPLAINANT;

describe('submitter API tokens: created in the portal, shown once, acting as that submitter only', () => {
  const clock = new ManualClock(new Date('2026-12-01T10:00:00Z'));
  let t: TestContext;
  let sink: SmtpSink;
  let worker: MailWorker;
  let mailing: MailingContext;
  let pageUrl: string;
  let agent: PortalAgent;

  const rows = (sql: string, params: unknown[] = []) => t.db.query(sql, params);
  /** Creates a token through the portal form; the clear token is read from the page it is shown on, once. */
  const createToken = async (name: string) => {
    const csrf = await csrfOf(agent, '/portal/tokens');
    await agent.post('/portal/tokens').type('form').send({ _csrf: csrf, name }).expect(303);
    const page = await agent.get('/portal/tokens').expect(200);
    const token = /<code class="secret">(tds_[\w-]+)<\/code>/.exec(page.text)![1];
    const again = await agent.get('/portal/tokens').expect(200);
    expect(again.text).not.toContain(token);
    return token;
  };

  beforeAll(async () => {
    mailing = await createMailingContext({
      clock,
      workerClock: systemClock,
      env: { REQUIRE_EMAIL_VERIFICATION: 'true', INTAKE_PER_HOUR: '10000' },
    });
    ({ t, sink, worker } = mailing);
  });
  afterAll(() => mailing.close());
  beforeEach(async () => {
    await mailing.reset();
    const source = await makeSource(t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    pageUrl = `http://localhost:3000/items/${(await makeItem(t.db, source)).slug}`;
    agent = await portalAgent(t.app, worker, sink, RIGHTS);
  });

  it('when a token is created, then only its hash is stored, it is shown once, and creating and revoking it are audited; a revoked token is 401', async () => {
    const token = await createToken('enforcement system');
    const [row] = await rows(`SELECT id, name, prefix, token_hash FROM submitter_api_tokens`);
    expect(row).toMatchObject({ name: 'enforcement system', prefix: token.slice(0, 10) });
    expect(row.token_hash).not.toContain(token.slice(4));
    await request(t.app).get('/api/v1/notices').set('Authorization', `Bearer ${token}`).expect(200);
    expect((await rows(`SELECT last_used_at FROM submitter_api_tokens`))[0].last_used_at).toEqual(clock.now());

    const csrf = await csrfOf(agent, '/portal/tokens');
    await agent.post(`/portal/tokens/${row.id}/revoke`).type('form').send({ _csrf: csrf }).expect(303);
    const res = await request(t.app).get('/api/v1/notices').set('Authorization', `Bearer ${token}`).expect(401);
    expect(res.body.errors[0].message).toMatch(/revoked/);
    expect(
      (await rows(`SELECT action FROM audit_events WHERE action LIKE 'submitter.token_%' ORDER BY id`)).map(
        (r: { action: string }) => r.action,
      ),
    ).toEqual(['submitter.token_created', 'submitter.token_revoked']);
  });

  it('when a notice is sent with a submitter token and no statements, then it relies on the standing statements, comes from the verified address and is pending at once', async () => {
    const token = await createToken('api');
    // No standing statements yet: the statements and signature are required as usual.
    const refused = await request(t.app)
      .post('/api/v1/notices')
      .set('Authorization', `Bearer ${token}`)
      .send({ ...WITHOUT_STATEMENTS, infringingUrls: [pageUrl] })
      .expect(422);
    expect(refused.body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['goodFaith', 'accuracy', 'signature']),
    );

    const page = await agent.get('/portal/profile');
    await agent
      .post('/portal/statements')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), signature: 'Ada Lovelace', goodFaith: 'true', accuracy: 'true' })
      .expect(303);
    const res = await request(t.app)
      .post('/api/v1/notices')
      .set('Authorization', `Bearer ${token}`)
      .send({ ...WITHOUT_STATEMENTS, infringingUrls: [pageUrl] })
      .expect(201);
    expect(res.body).toMatchObject({ status: 'pending', statements: 'standing', targets: [{ url: pageUrl, matched: true }] });
    const [n] = await rows(`SELECT email, channel, status, statements_source, email_verified_at FROM notices`);
    expect(n).toMatchObject({
      email: RIGHTS,
      channel: 'api',
      status: 'pending',
      statements_source: 'standing',
      email_verified_at: clock.now(),
    });

    // Another address in the body is refused, not used.
    const spoof = await request(t.app)
      .post('/api/v1/notices')
      .set('Authorization', `Bearer ${token}`)
      .send({ ...WITHOUT_STATEMENTS, email: 'victim@other.example', infringingUrls: [pageUrl] })
      .expect(422);
    expect(spoof.body.errors[0].field).toBe('email');
  });

  it('when a submitter token reads notices, then it sees only its own; it opens no staff route', async () => {
    const token = await createToken('reader');
    const mine = (
      await request(t.app)
        .post('/api/v1/notices')
        .send({ ...COMPLAINANT, email: RIGHTS, infringingUrls: [pageUrl] })
        .expect(201)
    ).body.reference;
    const theirs = (
      await request(t.app)
        .post('/api/v1/notices')
        .send({ ...COMPLAINANT, infringingUrls: [pageUrl] })
        .expect(201)
    ).body.reference;
    const list = await request(t.app).get('/api/v1/notices').set('Authorization', `Bearer ${token}`).expect(200);
    expect(list.body.notices.map((n: { reference: string }) => n.reference)).toEqual([mine]);
    const one = await request(t.app).get(`/api/v1/notices/${mine}`).set('Authorization', `Bearer ${token}`).expect(200);
    expect(one.body).toMatchObject({ reference: mine, targets: [{ url: pageUrl, matched: true, outcome: 'pending' }] });
    await request(t.app).get(`/api/v1/notices/${theirs}`).set('Authorization', `Bearer ${token}`).expect(404);
    for (const [method, path] of [
      ['post', `/api/v1/notices/${mine}/claim`],
      ['get', '/api/v1/items'],
      ['get', '/api/v1/me'],
      ['get', '/api/v1/audit'],
    ] as const) {
      await request(t.app)[method](path).set('Authorization', `Bearer ${token}`).expect(401);
    }
    // And a staff token on the same routes is still the staff API.
    const staffToken = await tokenFor(t.db, await createStaff(t.db, { role: 'moderator' }));
    const queue = await request(t.app).get('/api/v1/notices').set('Authorization', `Bearer ${staffToken}`).expect(200);
    // (Both notices wait for email verification, so the queue itself is empty; its shape is the staff queue's.)
    expect(queue.body).toHaveProperty('counts');
    const staffView = await request(t.app).get(`/api/v1/notices/${theirs}`).set('Authorization', `Bearer ${staffToken}`).expect(200);
    expect(staffView.body.reference).toBe(theirs);
  });

  it('when a suspended submitter sends a notice with its token, then it is 403 naming until when and why', async () => {
    const token = await createToken('api');
    await rows(
      `UPDATE submitters SET suspended_until = '2026-12-31T00:00:00Z', suspension_reason = 'Repeated manifestly unfounded notices.'`,
    );
    const res = await request(t.app)
      .post('/api/v1/notices')
      .set('Authorization', `Bearer ${token}`)
      .send({ ...COMPLAINANT, email: undefined, infringingUrls: [pageUrl] })
      .expect(403);
    expect(res.body.errors?.[0]?.message ?? res.body.message).toMatch(
      /until 2026-12-31T00:00:00.000Z because: Repeated manifestly unfounded notices\./,
    );
    expect(await rows(`SELECT id FROM notices`)).toHaveLength(0);
  });

  it('when the OpenAPI document is read, then it describes submitter tokens on the notice routes', async () => {
    const doc = (await request(t.app).get('/api/v1/openapi.json').expect(200)).body;
    expect(doc.components.securitySchemes.submitterToken.description).toMatch(/tds_/);
    expect(doc.paths['/notices'].post.security).toContainEqual({ submitterToken: [] });
    expect(doc.paths['/notices'].get.security).toContainEqual({ submitterToken: [] });
  });
});
