import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { withTransaction } from '../../src/db/transaction';
import { record, type AuditAction } from '../../src/modules/audit';
import { ManualClock } from '../../src/shared/clock';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createStaff, csrfOf, signedInAgent, tokenFor } from '../support/staff';

const H = 3_600_000;

interface NoticeSpec {
  reference: string;
  status: string;
  claimType?: string;
  submittedAt: string;
  decidedAfterHours?: number;
  targets?: string[];
  organization?: string | null;
  name?: string;
  email?: string;
  phone?: string;
  address?: string;
  role?: string;
  rightsOwner?: string | null;
}

/** Inserts a notice in a given state directly: the report reads state, not how it got there. */
async function insertNotice(t: TestContext, n: NoticeSpec, itemId: string | null = null): Promise<string> {
  const id = randomUUID();
  const submitted = new Date(n.submittedAt);
  await t.db.query(
    `INSERT INTO notices (id, reference, status, claim_type, name, organization, email, phone, address, country, role, rights_owner,
                          work_description, original_urls, good_faith_statement, accuracy_statement, statements_at, signature,
                          submitted_at, channel, submitter_ip, status_token_hash, decided_at, decision, statement_of_reasons, version)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'US', $10, $11, 'My essay on tides', ARRAY['https://origin.example/essay'],
             'good faith', 'accurate', $12, $5, $12, 'api', '192.0.2.77', repeat('a', 64), $13, $14, $15, 1)`,
    [
      id,
      n.reference,
      n.status,
      n.claimType ?? 'copyright',
      n.name ?? 'Grace Hopper',
      n.organization === undefined ? null : n.organization,
      n.email ?? 'grace@private.example',
      n.phone ?? '+1 555 0199',
      n.address ?? '42 Secret Lane, Arlington VA',
      n.role ?? 'owner',
      n.rightsOwner ?? null,
      submitted,
      n.decidedAfterHours === undefined ? null : new Date(submitted.getTime() + n.decidedAfterHours * H),
      n.decidedAfterHours === undefined ? null : n.status,
      n.decidedAfterHours === undefined ? null : JSON.stringify({ territorialScope: ['WORLDWIDE'], facts: 'Copied in full' }),
    ],
  );
  for (const [i, outcome] of (n.targets ?? ['pending']).entries()) {
    await t.db.query(
      `INSERT INTO notice_targets (notice_id, position, url, normalised_url, item_id, outcome) VALUES ($1, $2, $3, $3, $4, $5)`,
      [id, i, `http://localhost:3000/items/essay-${n.reference}-${i}`, outcome === 'not_found' ? null : itemId, outcome],
    );
  }
  return id;
}

async function event(
  t: TestContext,
  action: string,
  at: string,
  subject: { type: string; id: string } = { type: 'item', id: randomUUID() },
) {
  await withTransaction(t.db, (tx) => record(tx, { actor: { type: 'system' }, action: action as AuditAction, subject, at: new Date(at) }));
}

const PERSONAL = [
  'Grace Hopper',
  'grace@private.example',
  '+1 555 0199',
  '42 Secret Lane',
  '192.0.2.77',
  'Ada Byron',
  'ada@press.example',
  '+44 20 7000 0000',
  '7 Press Yard',
];

describe('transparency report and public notice records', () => {
  let t: TestContext;
  let itemId: string;
  const clock = new ManualClock(new Date('2026-03-15T12:00:00Z'));

  beforeAll(async () => {
    t = await createTestContext({ clock });
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await truncateAll(t.db);
    const source = await makeSource(t.db);
    itemId = (await makeItem(t.db, source)).id;
  });

  async function knownDataSet() {
    await insertNotice(
      t,
      {
        reference: 'TD-000001',
        status: 'approved',
        submittedAt: '2026-01-05T00:00:00Z',
        decidedAfterHours: 10,
        targets: ['removed', 'removed'],
      },
      itemId,
    );
    await insertNotice(
      t,
      {
        reference: 'TD-000002',
        status: 'approved',
        submittedAt: '2026-01-10T00:00:00Z',
        decidedAfterHours: 20,
        targets: ['removed', 'kept'],
        organization: 'Press Corp',
        name: 'Ada Byron',
        email: 'ada@press.example',
        phone: '+44 20 7000 0000',
        address: '7 Press Yard',
      },
      itemId,
    );
    await insertNotice(
      t,
      {
        reference: 'TD-000003',
        status: 'rejected',
        claimType: 'trademark',
        submittedAt: '2026-01-12T00:00:00Z',
        decidedAfterHours: 30,
        targets: ['kept'],
      },
      itemId,
    );
    await insertNotice(t, { reference: 'TD-000004', status: 'withdrawn', submittedAt: '2026-01-20T00:00:00Z' });
    await insertNotice(
      t,
      {
        reference: 'TD-000005',
        status: 'restored',
        claimType: 'privacy',
        submittedAt: '2026-02-01T00:00:00Z',
        decidedAfterHours: 48,
        targets: ['restored'],
      },
      itemId,
    );
    await insertNotice(t, { reference: 'TD-000006', status: 'pending', submittedAt: '2026-02-10T00:00:00Z' });
    await insertNotice(t, {
      reference: 'TD-000007',
      status: 'spam',
      claimType: 'defamation',
      submittedAt: '2026-02-11T00:00:00Z',
      decidedAfterHours: 40,
      targets: ['not_found'],
    });
    await insertNotice(t, { reference: 'TD-000008', status: 'unverified', submittedAt: '2025-01-01T00:00:00Z' }); // outside the 12 months
    await event(t, 'item.removed', '2026-01-05T10:00:00Z');
    await event(t, 'item.removed', '2026-01-05T10:00:00Z');
    await event(t, 'item.removed', '2026-01-10T20:00:00Z');
    await event(t, 'item.restored', '2026-02-20T00:00:00Z');
    await event(t, 'notice.countered', '2026-02-05T00:00:00Z', { type: 'notice', id: 'TD-000005' });
  }

  it('when the report is built from a known data set, then every monthly figure matches, percentiles included', async () => {
    await knownDataSet();
    const res = await request(t.app).get('/transparency').set('Accept', 'application/json').expect(200);
    const [feb, jan, ...rest] = res.body.months;
    expect(rest).toEqual([]);
    expect(jan).toEqual({
      month: '2026-01',
      received: { copyright: 3, trademark: 1, defamation: 0, privacy: 0, other: 0, total: 4 },
      outcomes: { removed: 1, partly_removed: 1, restored: 0, rejected: 1, withdrawn: 1, spam: 0, open: 0 },
      urlsRemoved: 3,
      urlsRestored: 0,
      imagesRemoved: 0,
      imagesRemovedAtImport: 0,
      imagesRestored: 0,
      counterNotices: 0,
      decisions: 3,
      medianHours: 20,
      p90Hours: 28,
      complaints: 0,
      complaintsDecided: 0,
      complaintsReversed: 0,
      complaintMedianHours: null,
    });
    expect(feb).toEqual({
      month: '2026-02',
      received: { copyright: 1, trademark: 0, defamation: 1, privacy: 1, other: 0, total: 3 },
      outcomes: { removed: 0, partly_removed: 0, restored: 1, rejected: 0, withdrawn: 0, spam: 1, open: 1 },
      urlsRemoved: 0,
      urlsRestored: 1,
      imagesRemoved: 0,
      imagesRemovedAtImport: 0,
      imagesRestored: 0,
      counterNotices: 1,
      decisions: 2,
      medianHours: 44,
      p90Hours: 47.2,
      complaints: 0,
      complaintsDecided: 0,
      complaintsReversed: 0,
      complaintMedianHours: null,
    });
  });

  it('when the report page is opened without a session, then it shows tables and inline SVG charts without script or style attributes', async () => {
    await knownDataSet();
    const res = await request(t.app).get('/transparency').expect(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.text).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(res.text.match(/<svg /g)).toHaveLength(4);
    expect(res.text).toMatch(/<th scope="row">2026-01<\/th><td>3<\/td><td>1<\/td>/);
    expect(res.text).not.toMatch(/<script|\sstyle=|<style/);
    expect(res.headers['content-security-policy']).toContain("style-src 'self'");
  });

  it('when any public page is scanned, then no complainant email, phone, address, IP or private name appears', async () => {
    await knownDataSet();
    const pages = [
      '/transparency',
      ...['TD-000001', 'TD-000002', 'TD-000003', 'TD-000005', 'TD-000007'].map((r) => `/transparency/notices/${r}`),
    ];
    for (const path of pages) {
      const html = (await request(t.app).get(path).expect(200)).text;
      const json = JSON.stringify((await request(t.app).get(path).set('Accept', 'application/json').expect(200)).body);
      for (const secret of PERSONAL) {
        expect({ path, found: html.includes(secret) || html.includes(secret.replace(/ /g, '&nbsp;')) }).toEqual({ path, found: false });
        expect({ path, found: json.includes(secret) }).toEqual({ path, found: false });
      }
    }
    const privateOne = (await request(t.app).get('/transparency/notices/TD-000001').expect(200)).text;
    expect(privateOne).toContain('[private]');
    const org = (await request(t.app).get('/transparency/notices/TD-000002').expect(200)).text;
    expect(org).toContain('Press Corp');
  });

  it('when a notice changes after removal, then its public record shows the current status and per-URL outcome', async () => {
    await knownDataSet();
    const before = (await request(t.app).get('/transparency/notices/td-000001').set('Accept', 'application/json').expect(200)).body;
    expect(before).toMatchObject({ reference: 'TD-000001', status: 'approved', statusLabel: 'content removed', claimant: '[private]' });
    expect(before.targets.map((x: { outcome: string }) => x.outcome)).toEqual(['removed', 'removed']);
    await t.db.query(`UPDATE notices SET status = 'restored' WHERE reference = 'TD-000001'`);
    await t.db.query(
      `UPDATE notice_targets SET outcome = 'restored' WHERE notice_id = (SELECT id FROM notices WHERE reference = 'TD-000001')`,
    );
    const res = await request(t.app).get('/transparency/notices/TD-000001').expect(200);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.text).toContain('content restored after a counter-notice');
    expect(res.text).not.toContain('>removed<');
  });

  it('when a reference is unknown, malformed or never confirmed, then the public record is 404', async () => {
    await knownDataSet();
    await request(t.app).get('/transparency/notices/TD-999999').expect(404);
    await request(t.app).get('/transparency/notices/%3Cscript%3E').expect(404);
    await request(t.app).get('/transparency/notices/TD-000008').expect(404);
  });

  describe('notice exports', () => {
    it('when notices are exported Lumen-style, then private complainants are redacted unless the full record is asked for, and both are audited', async () => {
      await knownDataSet();
      const admin = await createStaff(t.db, { role: 'admin' });
      const token = await tokenFor(t.db, admin);
      const redacted = await request(t.app)
        .get('/api/v1/audit/exports/notices?from=2026-01-01&to=2026-01-31')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      const list = JSON.parse(redacted.text);
      expect(list.map((n: { id: string }) => n.id)).toEqual(['TD-000001', 'TD-000002', 'TD-000003', 'TD-000004']);
      for (const secret of PERSONAL) expect(redacted.text).not.toContain(secret);
      expect(list[0]).toMatchObject({
        type: 'DMCA',
        action_taken: 'Yes',
        redacted: true,
        works: [{ description: 'My essay on tides', copyrighted_urls: [{ url: 'https://origin.example/essay' }] }],
      });
      expect(list[0].parties[0]).toEqual({ role: 'sender', name: '[private]', country_code: 'US' });
      expect(list[1].action_taken).toBe('Partial');
      expect(list[1].parties[0].name).toBe('Press Corp');

      const agent = await signedInAgent(t.app, admin.email);
      const csrf = await csrfOf(agent, '/audit/exports');
      const full = await agent.post('/audit/exports/notices').type('form').send({ _csrf: csrf, full: 'true' }).expect(200);
      expect(full.text).toContain('grace@private.example');
      expect(full.text).toContain('42 Secret Lane');

      const audits = await t.db.query(`SELECT actor_id, details FROM audit_events WHERE action = 'audit.exported' ORDER BY id`);
      expect(audits.map((a: { details: { fullRecord: boolean } }) => a.details.fullRecord)).toEqual([false, true]);
      expect(audits[1]).toMatchObject({ actor_id: admin.id, details: { what: 'notices', format: 'lumen' } });
    });

    it('when decisions are exported for the DSA database, then each removal is one statement with the required fields and no personal data', async () => {
      await knownDataSet();
      const token = await tokenFor(t.db, await createStaff(t.db, { role: 'admin' }));
      const res = await request(t.app).get('/api/v1/audit/exports/decisions').set('Authorization', `Bearer ${token}`).expect(200);
      const statements = res.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(statements.map((s: { puid: string }) => s.puid)).toEqual(['TD-000001', 'TD-000002', 'TD-000005']);
      for (const secret of PERSONAL) expect(res.text).not.toContain(secret);
      expect(statements[0]).toMatchObject({
        decision_visibility: ['DECISION_VISIBILITY_CONTENT_DISABLED'],
        decision_ground: 'DECISION_GROUND_ILLEGAL_CONTENT',
        category: 'STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS',
        territorial_scope: ['WORLDWIDE'],
        decision_facts: 'Copied in full',
        source_type: 'SOURCE_ARTICLE_16',
        source_identity: '[private]',
        automated_detection: 'No',
        automated_decision: 'AUTOMATED_DECISION_NOT_AUTOMATED',
        application_date: '2026-01-05',
      });
      expect(statements[0].illegal_content_legal_ground).toMatch(/512/);
      expect(statements[0].redress.length).toBeGreaterThan(0);
      const bad = await request(t.app).get('/api/v1/audit/exports/decisions?from=soon').set('Authorization', `Bearer ${token}`).expect(400);
      expect(bad.body.errors[0].field).toBe('from');
    });
  });
});
