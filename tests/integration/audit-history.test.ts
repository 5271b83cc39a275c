import request from 'supertest';
import { withTransaction } from '../../src/db/transaction';
import { record, sealAuditChain, SYSTEM, AUDIT_CSV_COLUMNS, type AuditAction } from '../../src/modules/audit';
import type { User } from '../../src/modules/auth';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createStaff, csrfOf, signedInAgent, tokenFor } from '../support/staff';

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF inside quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell || row.length) throw new Error(`CSV does not end with CRLF: ${JSON.stringify(text.slice(-40))}`);
  return rows;
}

describe('audit history, API and exports', () => {
  let t: TestContext;
  let admin: User;
  let moderator: User;
  let adminToken: string;
  let modToken: string;

  beforeAll(async () => {
    t = await createTestContext();
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await truncateAll(t.db);
    admin = await createStaff(t.db, { role: 'admin', email: 'root@desk.example' });
    moderator = await createStaff(t.db, { role: 'moderator', email: 'mod@desk.example' });
    adminToken = await tokenFor(t.db, admin);
    modToken = await tokenFor(t.db, moderator);
  });

  const api = (path: string, token = adminToken) => request(t.app).get(path).set('Authorization', `Bearer ${token}`);

  const write = (
    events: { action: string; subject?: { type: string; id: string }; details?: Record<string, unknown>; at?: Date; actor?: User }[],
  ) =>
    withTransaction(t.db, async (tx) => {
      for (const e of events) {
        await record(tx, {
          actor: e.actor ? { type: 'user', id: e.actor.id, label: e.actor.email } : { type: 'system' },
          action: e.action as AuditAction, // fixtures include made-up actions
          subject: e.subject,
          details: e.details,
          at: e.at ?? new Date(),
          context: { ip: '203.0.113.9', requestId: 'req-12345678' },
        });
      }
    });

  describe('filters', () => {
    it('when filtering by action, subject, actor, dates and text, then only the matching events come back, newest first', async () => {
      const source = await makeSource(t.db);
      const item = await makeItem(t.db, source);
      await write([
        {
          action: 'notice.submitted',
          subject: { type: 'notice', id: 'TD-000001' },
          at: new Date('2026-01-10T10:00:00Z'),
          details: { note: 'first' },
        },
        {
          action: 'notice.approved',
          subject: { type: 'notice', id: 'TD-000001' },
          at: new Date('2026-02-10T10:00:00Z'),
          actor: admin,
          details: { reason: 'Mirror of Harbour' },
        },
        { action: 'notice.submitted', subject: { type: 'notice', id: 'TD-000002' }, at: new Date('2026-02-11T10:00:00Z') },
        { action: 'item.removed', subject: { type: 'item', id: item.id }, at: new Date('2026-02-12T10:00:00Z'), actor: moderator },
      ]);

      const byAction = (await api('/api/v1/audit?action=notice.submitted').expect(200)).body;
      expect(byAction.events.map((e: { subjectId: string }) => e.subjectId)).toEqual(['TD-000002', 'TD-000001']);

      const prefix = (await api('/api/v1/audit?action=notice.*').expect(200)).body;
      expect(prefix.events).toHaveLength(3);

      const byRef = (await api('/api/v1/audit?subject=TD-000001').expect(200)).body;
      expect(byRef.events.map((e: { action: string }) => e.action)).toEqual(['notice.approved', 'notice.submitted']);
      expect(byRef.events[0].link).toBe('/notices/TD-000001');

      const byItem = (await api(`/api/v1/audit?subject=${item.id}`).expect(200)).body;
      expect(byItem.events[0].action).toBe('item.removed');
      expect(
        byItem.events.every((e: { subjectType: string; subjectId: string }) => e.subjectType === 'item' && e.subjectId === item.id),
      ).toBe(true);
      expect(byItem.events[0].link).toBe(`/items/${item.id}/admin`);

      const byActor = (await api(`/api/v1/audit?actor=${encodeURIComponent('ROOT@desk.example')}`).expect(200)).body;
      expect(byActor.events.map((e: { action: string }) => e.action)).toEqual(['notice.approved']);

      const byUserSubject = (await api(`/api/v1/audit?subject=${encodeURIComponent('mod@desk.example')}&action=user.created`).expect(200))
        .body;
      expect(byUserSubject.events).toHaveLength(1);
      expect(byUserSubject.events[0].subjectId).toBe(moderator.id);

      const inFebruary = (await api('/api/v1/audit?from=2026-02-01&to=2026-02-11&action=notice.*').expect(200)).body;
      expect(inFebruary.events.map((e: { subjectId: string }) => e.subjectId)).toEqual(['TD-000002', 'TD-000001']);

      const text = (await api('/api/v1/audit?q=mirror%20OF').expect(200)).body;
      expect(text.events.map((e: { action: string }) => e.action)).toEqual(['notice.approved']);
      const noWildcards = (await api('/api/v1/audit?q=%25').expect(200)).body;
      expect(noWildcards.events).toHaveLength(0);
    });

    it('when paging with the cursor, then every event is seen exactly once', async () => {
      await write(Array.from({ length: 25 }, (_, i) => ({ action: 'test.paged', details: { i } })));
      const seen: number[] = [];
      let after: string | null = null;
      for (let page = 0; page < 10; page++) {
        const res: request.Response = await api(`/api/v1/audit?action=test.paged&limit=10${after ? `&after=${after}` : ''}`).expect(200);
        seen.push(...res.body.events.map((e: { details: { i: number } }) => e.details.i));
        after = res.body.next;
        if (!after) break;
      }
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 24 - i));
    });

    it.each([
      ['from', 'from=2026-13-01'],
      ['to', 'to=yesterday'],
      ['to', 'from=2026-03-01&to=2026-02-01'],
      ['action', 'action=DROP%20TABLE'],
      ['subject', 'subject=%3Cscript%3E'],
      ['actor', 'actor=nobody'],
      ['after', 'after=abc'],
      ['limit', 'limit=100000'],
      ['sort', 'sort=id'],
    ])('when the %s filter is malformed, then 400 names that field', async (field, qs) => {
      const res = await api(`/api/v1/audit?${qs}`).expect(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      const export400 = await api(`/api/v1/audit/export?format=csv&${qs}`).expect(400);
      expect(export400.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('when the history page is searched, then events link to their subjects and a bad date is a 400 page', async () => {
      await write([{ action: 'notice.submitted', subject: { type: 'notice', id: 'TD-000777' }, details: { text: '<b>bold</b>' } }]);
      const agent = await signedInAgent(t.app, admin.email);
      const page = await agent.get('/audit?subject=TD-000777').expect(200);
      expect(page.text).toContain('href="/notices/TD-000777"');
      expect(page.text).not.toContain('<b>bold</b>');
      // The export is a POST form carrying the page's filters (an export is audited: no GET link).
      expect(page.text).toContain('<form method="post" action="/audit/export">');
      expect(page.text).toContain('<input type="hidden" name="subject" value="TD-000777">');
      expect(page.text).toContain('name="format" value="csv"');
      expect(page.text).not.toMatch(/href="\/audit\/export\?/);
      const bad = await agent.get('/audit?from=31.12.2026').expect(400);
      expect(bad.text).toContain('from must be a date');
    });
  });

  describe('verification', () => {
    it('when the history is clean, then the API and the page say so; after a tamper, both name the sequence', async () => {
      await write(Array.from({ length: 12 }, (_, i) => ({ action: 'test.verified', details: { i } })));
      const clean = (await api('/api/v1/audit/verify').expect(200)).body;
      expect(clean).toMatchObject({ ok: true, firstBadSequence: null, unsealed: 0 });
      const [{ seq }] = await t.db.query(
        `SELECT sequence::int AS seq FROM audit_events WHERE action = 'test.verified' AND details->>'i' = '5'`,
      );
      await t.db.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica'); // the database owner, guard off
        await tx.query(`UPDATE audit_events SET actor_label = 'someone else' WHERE sequence = $1`, [seq]);
      });
      const broken = (await api('/api/v1/audit/verify').expect(200)).body;
      expect(broken).toMatchObject({ ok: false, firstBadSequence: seq, events: seq - 1 });
      const agent = await signedInAgent(t.app, admin.email);
      const page = await agent.get('/audit/verify').expect(200);
      expect(page.text).toContain(`The chain is broken at event ${seq}`);
    });
  });

  describe('coverage', () => {
    it('when a staff member signs in and an admin creates a user over HTTP, then each event carries actor, subject, before/after and the request id', async () => {
      const agent = request.agent(t.app);
      const login = await agent.get('/login').expect(200);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(login.text)![1];
      await agent
        .post('/login')
        .set('X-Request-Id', 'coverage-login-0001')
        .type('form')
        .send({ _csrf: csrf, email: admin.email, password: 'a-long-enough-test-password', next: '/staff' })
        .expect(303);
      const users = await agent.get('/users').expect(200);
      const csrf2 = /name="_csrf" value="([^"]+)"/.exec(users.text)![1];
      await agent
        .post('/users')
        .set('X-Request-Id', 'coverage-create-0002')
        .type('form')
        .send({ _csrf: csrf2, email: 'new@desk.example', name: 'New Person', role: 'moderator' });
      const events = (await api('/api/v1/audit?q=&action=user.*').expect(200)).body.events;
      const login1 = events.find((e: { requestId: string }) => e.requestId === 'coverage-login-0001');
      expect(login1).toMatchObject({ action: 'user.logged_in', actorId: admin.id, subjectType: 'user', subjectId: admin.id });
      expect(login1.ip).toBeTruthy();
      const created = events.find((e: { requestId: string }) => e.requestId === 'coverage-create-0002');
      expect(created).toMatchObject({
        action: 'user.created',
        actorId: admin.id,
        subjectType: 'user',
        details: { after: { email: 'new@desk.example', role: 'moderator' } },
      });
    });
  });

  describe('access', () => {
    it('when a moderator opens the audit pages, API or exports, then the answer is 403', async () => {
      const agent = await signedInAgent(t.app, moderator.email);
      for (const path of ['/audit', '/audit/verify', '/audit/exports']) {
        await agent.get(path).expect(403);
      }
      const csrf = await csrfOf(agent);
      for (const path of ['/audit/export', '/audit/exports/notices', '/audit/exports/decisions']) {
        await agent.post(path).type('form').send({ _csrf: csrf, format: 'csv' }).expect(403);
      }
      for (const path of [
        '/api/v1/audit',
        '/api/v1/audit/verify',
        '/api/v1/audit/export?format=jsonl',
        '/api/v1/audit/exports/decisions',
      ]) {
        await api(path, modToken).expect(403);
      }
      await request(t.app).get('/api/v1/audit').expect(401);
    });
  });

  describe('exports', () => {
    const hostile = ["=cmd|' /C calc'!A0", '+1+1', '-2', '@SUM(A1)', '\tTAB', 'a, b', 'say "hi"', 'line1\nline2\r\nline3'];

    it('when hostile values are exported as CSV, then each stays one quoted-as-needed text cell and formulas are neutralised', async () => {
      await withTransaction(t.db, async (tx) => {
        for (const v of hostile) {
          await record(tx, {
            actor: { type: 'system', label: v },
            action: 'test.hostile' as AuditAction,
            subject: { type: 'test', id: v },
            details: { v },
            at: new Date(),
          });
        }
      });
      await sealAuditChain(t.db);
      const res = await api('/api/v1/audit/export?format=csv&action=test.hostile').buffer(true).parse(textParser).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-events-\d+\.csv"$/);
      const rows = parseCsv(res.body as string);
      expect(rows[0]).toEqual([...AUDIT_CSV_COLUMNS]);
      expect(rows).toHaveLength(hostile.length + 1);
      const label = AUDIT_CSV_COLUMNS.indexOf('actor_label');
      const subject = AUDIT_CSV_COLUMNS.indexOf('subject_id');
      const details = AUDIT_CSV_COLUMNS.indexOf('details');
      hostile.forEach((v, i) => {
        const expected = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
        expect(rows[i + 1][label]).toBe(expected);
        expect(rows[i + 1][subject]).toBe(expected);
        expect(JSON.parse(rows[i + 1][details])).toEqual({ v });
        for (const cell of rows[i + 1]) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      });
      expect(rows[1][AUDIT_CSV_COLUMNS.indexOf('hash')]).toMatch(/^[0-9a-f]{64}$/);
    });

    it('when exported as JSON Lines, then every line is one event that parses back to what was recorded', async () => {
      await write(hostile.map((v) => ({ action: 'test.hostile', details: { v } })));
      const res = await api('/api/v1/audit/export?format=jsonl&action=test.hostile').buffer(true).parse(textParser).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      const lines = (res.body as string).split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.map((l) => JSON.parse(l).details.v)).toEqual(hostile);
      expect(JSON.parse(lines[0])).toMatchObject({
        action: 'test.hostile',
        actorType: 'system',
        ip: '203.0.113.9',
        requestId: 'req-12345678',
      });
    });

    it('when filter values hold quotes, backslashes and SQL, then the export (whose filter is inlined into COPY) finds exactly those events', async () => {
      // An actor filter is an email address (or id); this one holds a quote and a backslash.
      const label = (i: number) => `o'b\\${i}'--@example.org`;
      const tricky = ["O'Brien \\ co", "x'); DROP TABLE audit_events; --", "back\\slash\\'", '100% _match_', 'naïve 🙂 "q"'];
      await withTransaction(t.db, async (tx) => {
        for (const [i, v] of tricky.entries()) {
          await record(tx, {
            actor: { type: 'user', id: admin.id, label: label(i) },
            action: 'test.tricky' as AuditAction,
            subject: { type: 'notice', id: v },
            details: { v },
            at: new Date(),
          });
        }
        await record(tx, {
          actor: SYSTEM,
          action: 'test.tricky' as AuditAction,
          subject: { type: 'notice', id: 'other' },
          details: { v: 'other' },
          at: new Date(),
        });
      });
      await sealAuditChain(t.db);
      for (const [i, v] of tricky.entries()) {
        for (const qs of [
          `subject=${encodeURIComponent(`notice:${v}`)}`,
          `actor=${encodeURIComponent(label(i))}`,
          `q=${encodeURIComponent(v.slice(0, 4))}`,
        ]) {
          const res = await api(`/api/v1/audit/export?format=jsonl&action=test.tricky&${qs}`).buffer(true).parse(textParser).expect(200);
          const values = (res.body as string)
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l).details.v);
          expect(values).toContain(v);
          expect(values).not.toContain('other');
        }
      }
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'test.tricky'`);
      expect(n).toBe(tricky.length + 1);
    });

    it('when the range is empty, then the CSV is its header alone and the JSON Lines file is empty', async () => {
      const csv = await api('/api/v1/audit/export?format=csv&from=2001-01-01&to=2001-01-02').buffer(true).parse(textParser).expect(200);
      expect(csv.body).toBe(`${AUDIT_CSV_COLUMNS.join(',')}\r\n`);
      const jsonl = await api('/api/v1/audit/export?format=jsonl&from=2001-01-01&to=2001-01-02').buffer(true).parse(textParser).expect(200);
      expect(jsonl.body).toBe('');
    });

    it('when a staff export is asked for by GET (a link, an <img>, a prefetch) or posted without the CSRF token, then nothing is exported or recorded', async () => {
      const agent = await signedInAgent(t.app, admin.email);
      for (const path of ['/audit/export?format=csv', '/audit/exports/notices?full=true', '/audit/exports/decisions?full=true']) {
        await agent.get(path).expect(404);
        await agent.post(path.split('?')[0]).type('form').send({ format: 'csv', full: 'true' }).expect(403);
      }
      expect(await t.db.query(`SELECT id FROM audit_events WHERE action = 'audit.exported'`)).toEqual([]);
    });

    it('when an admin exports, then the export itself is an audit event with who, what and the filter', async () => {
      await api('/api/v1/audit/export?format=csv&action=notice.*&from=2026-01-01').buffer(true).parse(textParser).expect(200);
      const agent = await signedInAgent(t.app, admin.email);
      const csrf = await csrfOf(agent, '/audit');
      await agent.post('/audit/export').type('form').send({ _csrf: csrf, format: 'jsonl' }).buffer(true).parse(textParser).expect(200);
      const rows = await t.db.query(`SELECT actor_id, details, request_id FROM audit_events WHERE action = 'audit.exported' ORDER BY id`);
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({
        actor_id: admin.id,
        details: { what: 'audit_events', format: 'csv', filter: { action: 'notice.*', from: '2026-01-01T00:00:00.000Z' } },
      });
      expect(rows[0].request_id).toBeTruthy();
      expect(rows[1]).toMatchObject({ actor_id: admin.id, details: { format: 'jsonl' } });
    });

    it('when no format or a wrong one is asked for, then 400 names format', async () => {
      const res = await api('/api/v1/audit/export?format=xlsx').expect(400);
      expect(res.body.errors[0].field).toBe('format');
    });
  });
});

/** supertest: keep any body as text. */
function textParser(raw: unknown, cb: (err: Error | null, body: string) => void) {
  const res = raw as NodeJS.ReadableStream & { setEncoding(e: string): void };
  let data = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (data += c));
  res.on('end', () => cb(null, data));
}
