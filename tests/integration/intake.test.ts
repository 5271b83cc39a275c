import { Client } from 'pg';
import request from 'supertest';
import type { MailWorker } from '../../src/modules/mail';
import { Item, Source } from '../../src/modules/items';
import { expireUnverifiedNotices, NoticeDto, sendModeratorDigest, submitNotice } from '../../src/modules/notices';
import { withTransaction } from '../../src/db/transaction';
import { ManualClock } from '../../src/shared/clock';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { createStaff, signedInAgent } from '../support/staff';
import { createMailingContext, MailingContext } from '../support/mailing';
import type { SmtpSink } from '../support/smtp-sink';

const BASE = 'http://localhost:3000';

const notice = (over: Record<string, unknown> = {}) => ({
  name: 'Ada Lovelace',
  organization: 'Analytical Press Ltd',
  email: 'ada@analytical.example',
  phone: '+44 20 7946 0000',
  address: '12 Marylebone Road, London, United Kingdom',
  country: 'GB',
  role: 'owner',
  workDescription: 'My article "Notes on the Engine", first published on our site.',
  infringingUrls: ['https://elsewhere.example/not-ours'],
  goodFaith: true,
  accuracy: true,
  signature: 'Ada Lovelace',
  ...over,
});

/** The same notice as the HTML form sends it. */
const form = (over: Record<string, unknown> = {}) => {
  const n = notice(over) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(n)) {
    if (k === 'goodFaith' || k === 'accuracy') {
      if (v === true) out[k] = 'true';
    } else if (Array.isArray(v)) out[k] = v.join('\n');
    else if (v !== undefined) out[k] = String(v);
  }
  return out;
};

const originalQuery = Client.prototype.query;

/** Every statement this process sends to PostgreSQL, in order (the spy calls through; nothing is faked). */
function countStatements() {
  const sent: string[] = [];
  const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    sent.push(typeof q === 'string' ? q : String(q?.text));
    return (originalQuery as (...a: unknown[]) => unknown).apply(this, args) as never;
  });
  return { sent, spy };
}

const count = async (t: TestContext, table: string) => (await t.db.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n as number;

describe('takedown intake', () => {
  let t: TestContext;
  let sink: SmtpSink;
  let worker: MailWorker;
  let source: Source;
  let item: Item;

  let mailing: MailingContext;
  beforeAll(async () => {
    mailing = await createMailingContext({ env: { INTAKE_PER_HOUR: '1000', SENDER_BURST: '3' } });
    ({ t, sink, worker } = mailing);
  });
  afterAll(() => mailing.close());
  beforeEach(async () => {
    await mailing.reset();
    source = await makeSource(t.db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
    item = await makeItem(t.db, source, { title: 'Tides', originalUrl: 'https://harbourgazette.example/2026/05/tides' });
  });

  describe('the form', () => {
    it('when opened from an item page, then the URL is pre-filled and every element of § 512(c)(3) is asked for', async () => {
      const page = await request(t.app)
        .get(`/takedown?url=${encodeURIComponent(`${BASE}/items/${item.slug}`)}`)
        .expect(200);
      expect(page.text).toContain(`${BASE}/items/${item.slug}</textarea>`);
      for (const field of [
        'name',
        'email',
        'address',
        'country',
        'role',
        'workDescription',
        'infringingUrls',
        'goodFaith',
        'accuracy',
        'signature',
        'claimType',
      ]) {
        expect(page.text).toContain(`name="${field}"`);
      }
      expect(page.text).toContain('under penalty of perjury');
    });

    it.each([
      ['signature', { signature: '' }, 'Type your full name'],
      ['signature', { signature: 'Someone Else' }, 'exactly as in the name field'],
      ['workDescription', { workDescription: '' }, 'Describe the copyrighted work'],
      ['infringingUrls', { infringingUrls: [] }, 'at least one URL'],
      ['infringingUrls', { infringingUrls: ['javascript:alert(1)'] }, 'must start with http'],
      ['name', { name: '' }, 'full name'],
      ['email', { email: 'ada-at-example' }, 'email address'],
      ['address', { address: '' }, 'postal address'],
      ['country', { country: 'Narnia' }, 'ISO 3166'],
      ['goodFaith', { goodFaith: false }, 'good-faith statement'],
      ['accuracy', { accuracy: false }, 'penalty of perjury'],
      ['rightsOwner', { role: 'agent' }, 'name the rights owner'],
    ])(
      'when %s is missing or malformed, then 422 with the error next to that field, the values kept, and nothing stored',
      async (field, over, message) => {
        const res = await request(t.app)
          .post('/takedown')
          .type('form')
          .send(form({ workDescription: 'Kept <value> & "quoted"', ...over }));
        expect(res.status).toBe(422);
        expect(res.text).toMatch(new RegExp(`<p class="field-error" id="${field}-error">[^<]*${message}`));
        expect(res.text).toContain(`aria-describedby="${field}-error`);
        if (!('workDescription' in over)) expect(res.text).toContain('Kept &lt;value&gt; &amp; &quot;quoted&quot;');
        expect(await count(t, 'notices')).toBe(0);
      },
    );

    it('when the form is valid, then 303 to the status page, which shows the notice, and the acknowledgement email carries a working link', async () => {
      const res = await request(t.app)
        .post('/takedown')
        .type('form')
        .send(form({ infringingUrls: [`${BASE}/items/${item.slug}`, 'https://elsewhere.example/x'] }));
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(/^\/takedown\/TD-\d{6}\?token=[\w-]{43}$/);
      const page = await request(t.app).get(res.headers.location).expect(200);
      expect(page.text).toContain('in the queue');
      expect(page.text).toContain(`${BASE}/items/${item.slug}`);
      expect(page.text).toContain('no: not found on this site');

      await worker.drain();
      const mails = sink.to('ada@analytical.example');
      expect(mails).toHaveLength(1);
      const reference = /TD-\d{6}/.exec(res.headers.location)![0];
      expect(mails[0].parsed.subject).toContain(reference);
      const link = new RegExp(`${BASE}(/takedown/${reference}\\?token=[\\w-]+)`).exec(mails[0].parsed.text ?? '')![1];
      expect(link).toBe(res.headers.location);
      // Handlebars escapes "=" in attributes as &#x3D;, which the mail client decodes.
      expect(String(mails[0].parsed.html).replace(/&#x3D;/g, '=')).toContain(`href="${BASE}${link}"`);
    });

    it('when a browser sends every field, the optional ones empty (found by the browser journey: a 500), then 303 and the empty ones stored as null', async () => {
      const body = {
        ...form(),
        website: '',
        organization: '',
        phone: '',
        rightsOwner: '',
        originalUrls: '',
        workPublishedAt: '',
        claimType: 'copyright',
      };
      const res = await request(t.app).post('/takedown').type('form').send(body);
      expect(res.status).toBe(303);
      const [row] = await t.db.query('SELECT organization, phone, rights_owner, work_published_at FROM notices');
      expect(row).toEqual({ organization: null, phone: null, rights_owner: null, work_published_at: null });
    });

    it('when the honeypot is filled, then nothing is stored', async () => {
      const res = await request(t.app)
        .post('/takedown')
        .type('form')
        .send({ ...form(), website: 'http://spam.example' });
      expect(res.status).toBe(400);
      expect(await count(t, 'notices')).toBe(0);
    });
  });

  describe('the API', () => {
    it('when a valid notice is posted, then 201 with reference, status, statusUrl and per-URL matches', async () => {
      const res = await request(t.app)
        .post('/api/v1/notices')
        .send(notice({ infringingUrls: [`${BASE}/items/${item.slug}`, 'https://elsewhere.example/x'] }))
        .expect(201);
      expect(res.body).toEqual({
        reference: expect.stringMatching(/^TD-\d{6}$/),
        status: 'pending',
        statusUrl: expect.stringMatching(new RegExp(`^${BASE}/takedown/TD-\\d{6}\\?token=`)),
        targets: [
          { url: `${BASE}/items/${item.slug}`, matched: true, itemId: item.id },
          { url: 'https://elsewhere.example/x', matched: false, itemId: null },
        ],
      });
      // One transaction wrote the notice, its targets, the audit event and the emails.
      expect(await count(t, 'notices')).toBe(1);
      expect(await count(t, 'notice_targets')).toBe(2);
      const events = await t.db.query(`SELECT action, actor_type, details FROM audit_events WHERE action = 'notice.submitted'`);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actor_type: 'public', details: { channel: 'api', urls: 2, matched: 1 } });
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM outbound_emails WHERE template = 'notice-received'`);
      expect(n).toBe(1);
    });

    it.each([
      ['signature', { signature: undefined }],
      ['workDescription', { workDescription: undefined }],
      ['infringingUrls', { infringingUrls: 'not a list' }],
      ['infringingUrls', { infringingUrls: Array.from({ length: 1001 }, (_, i) => `https://x.example/${i}`) }],
      ['email', { email: 'nope' }],
      ['address', { address: undefined }],
      ['country', { country: 'XX' }],
      ['goodFaith', { goodFaith: 'yes please' }],
      ['accuracy', { accuracy: undefined }],
      ['rightsOwner', { role: 'agent' }],
      ['claimType', { claimType: 'patent' }],
      ['admin', { admin: true }],
    ])('when %s is missing or malformed, then 422 with errors[] naming it and nothing stored', async (field, over) => {
      const res = await request(t.app).post('/api/v1/notices').send(notice(over)).expect(422);
      expect(res.body.errors.some((e: { field: string }) => e.field === field)).toBe(true);
      expect(await count(t, 'notices')).toBe(0);
      expect(await count(t, "audit_events WHERE action LIKE 'notice.%'")).toBe(0);
    });

    it('when a request is retried with the same Idempotency-Key, then the first answer comes back and one notice exists', async () => {
      const body = notice({ infringingUrls: [`/items/${item.slug}`] });
      const [a, b] = await Promise.all([
        request(t.app).post('/api/v1/notices').set('Idempotency-Key', 'retry-1').send(body),
        request(t.app).post('/api/v1/notices').set('Idempotency-Key', 'retry-1').send(body),
      ]);
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(b.body).toEqual(a.body);
      const c = await request(t.app).post('/api/v1/notices').set('Idempotency-Key', 'retry-1').send(body).expect(201);
      expect(c.headers['idempotent-replayed']).toBe('true');
      expect(c.body).toEqual(a.body);
      expect(await count(t, 'notices')).toBe(1);
      const other = await request(t.app).post('/api/v1/notices').set('Idempotency-Key', 'retry-1').send(notice()).expect(422);
      expect(other.body.errors[0].field).toBe('Idempotency-Key');
    });

    it('when a notice is posted without an Idempotency-Key, then it costs three statements: the rate limit, the registry match with the triage facts, and ONE write', async () => {
      // Issue 18: the intake is bound by its round trips, not by its work. Every statement the
      // process sends to PostgreSQL is counted (the spy calls through; nothing is faked).
      const { sent, spy } = countStatements();
      try {
        await request(t.app)
          .post('/api/v1/notices')
          .send(notice({ infringingUrls: [`/items/${item.slug}`, item.originalUrl] }))
          .expect(201);
      } finally {
        spy.mockRestore();
      }
      expect(sent).toHaveLength(3);
      expect(sent[0]).toMatch(/INSERT INTO "?rate_limits/);
      expect(sent[1]).toMatch(/FROM items i .*nextval\('notice_reference_seq'\)/s);
      expect(sent.filter((q) => /^\s*(START TRANSACTION|BEGIN|COMMIT)/i.test(q))).toEqual([]);
      const write = sent[2];
      for (const table of ['notices', 'notice_targets', 'webhook_deliveries', 'audit_events', 'outbound_emails']) {
        expect(write).toMatch(new RegExp(`INSERT INTO "?${table}"?`));
      }
      // …and wrote what the intake always wrote.
      expect(await count(t, 'notices')).toBe(1);
      expect(await count(t, 'notice_targets')).toBe(2);
      expect(await count(t, `audit_events WHERE action = 'notice.submitted'`)).toBe(1);
      expect(await count(t, `outbound_emails WHERE template = 'notice-received'`)).toBe(1);
    });

    it('when ten notices arrive at once, then their reads and their writes go in groups, and each notice still gets its own reference, targets, audit event and emails', async () => {
      // Issue 18: statements of one shape arriving while others are in flight go together
      // (db/statement-groups.ts). Ten use-case calls in one tick: the first reads go alone, the
      // other eight wait and go as one statement; their writes follow in the same way.
      const { sent, spy } = countStatements();
      const ten = Array.from({ length: 10 }, (_, i) => i);
      let answers: Awaited<ReturnType<typeof submitNotice>>[];
      try {
        answers = await Promise.all(
          ten.map((i) =>
            submitNotice(t, {
              dto: notice({ email: `sender${i}@analytical.example`, infringingUrls: [`/items/${item.slug}`] }) as unknown as NoticeDto,
              channel: 'api',
              context: { ip: `192.0.2.${i + 1}` },
              grouped: true,
            }),
          ),
        );
      } finally {
        spy.mockRestore();
      }
      const reads = sent.filter((q) => q.includes(`nextval('notice_reference_seq')`));
      const writes = sent.filter((q) => /INSERT INTO "notices"/.test(q));
      expect(reads).toHaveLength(3);
      expect(reads.filter((q) => q.includes('UNION ALL'))).toHaveLength(1);
      expect(writes.length).toBeLessThan(10);
      expect(writes.some((q) => (q.match(/INSERT INTO "notices"/g) ?? []).length > 1)).toBe(true);
      // Every notice is whole and its own.
      const references = answers.map((a) => a.answer.reference);
      expect(new Set(references).size).toBe(10);
      const rows: { reference: string; email: string; targets: number; item: string; events: number; acks: number }[] = await t.db.query(
        `SELECT n.reference, n.email,
                (SELECT count(*)::int FROM notice_targets x WHERE x.notice_id = n.id) AS targets,
                (SELECT min(x.item_id::text) FROM notice_targets x WHERE x.notice_id = n.id) AS item,
                (SELECT count(*)::int FROM audit_events a WHERE a.action = 'notice.submitted' AND a.subject_id = n.reference) AS events,
                (SELECT count(*)::int FROM outbound_emails e WHERE e.notice_id = n.id AND e.template = 'notice-received' AND e."to" = n.email) AS acks
           FROM notices n ORDER BY n.email`,
      );
      expect(rows).toEqual(
        ten.map((i) => ({
          reference: expect.any(String),
          email: `sender${i}@analytical.example`,
          targets: 1,
          item: item.id,
          events: 1,
          acks: 1,
        })),
      );
      expect(rows.map((r) => r.reference).sort()).toEqual([...references].sort());
    });

    it('when the body is over 1 MB, then 413', async () => {
      const res = await request(t.app)
        .post('/api/v1/notices')
        .send(notice({ workDescription: 'x'.repeat(1_100_000) }));
      expect(res.status).toBe(413);
    });
  });

  describe('matching', () => {
    it('when URLs name our page (absolute, relative, with tracking parameters) or the original article, then each finds the item; duplicates are folded', async () => {
      const urls = [
        `${BASE}/items/${item.slug}`,
        `/items/${item.slug}`,
        `${BASE}/items/${item.slug}?utm_source=newsletter#comments`,
        'https://www.harbourgazette.example/2026/05/tides/?fbclid=abc',
        'https://harbourgazette.example/2026/05/tides',
        'https://elsewhere.example/unknown',
      ];
      const res = await request(t.app)
        .post('/api/v1/notices')
        .send(notice({ infringingUrls: urls }))
        .expect(201);
      const matched = res.body.targets.filter((x: { matched: boolean }) => x.matched);
      expect(matched.every((x: { itemId: string }) => x.itemId === item.id)).toBe(true);
      // Our page URL spellings fold into one target, the original URL spellings into another.
      expect(res.body.targets).toHaveLength(3);
      const outcomes = await t.db.query(`SELECT outcome, item_id FROM notice_targets ORDER BY position`);
      expect(outcomes.map((o: { outcome: string }) => o.outcome)).toEqual(['pending', 'pending', 'not_found']);
    });

    it('when every URL is off-site, then the notice is accepted, flagged, and the answer says so honestly', async () => {
      const res = await request(t.app).post('/api/v1/notices').send(notice()).expect(201);
      expect(res.body.targets[0].matched).toBe(false);
      const [{ flags }] = await t.db.query('SELECT flags FROM notices');
      expect(flags.map((f: { code: string }) => f.code)).toContain('not_on_site');
      const page = await request(t.app).get(res.body.statusUrl.slice(BASE.length)).expect(200);
      expect(page.text).toContain('None of these URLs are on this site');
    });
  });

  describe('triage flags', () => {
    const flagsOf = async (reference: string) =>
      ((await t.db.query('SELECT flags FROM notices WHERE reference = $1', [reference]))[0].flags as { code: string }[]).map((f) => f.code);

    it('when a second notice names the same URL, then it is flagged as a duplicate of the open one', async () => {
      const first = await request(t.app)
        .post('/api/v1/notices')
        .send(notice({ infringingUrls: [`/items/${item.slug}`] }))
        .expect(201);
      const second = await request(t.app)
        .post('/api/v1/notices')
        .send(notice({ email: 'legal@harbourgazette.example', infringingUrls: [`${BASE}/items/${item.slug}`] }))
        .expect(201);
      expect(await flagsOf(first.body.reference)).not.toContain('duplicate');
      const [{ flags }] = await t.db.query('SELECT flags FROM notices WHERE reference = $1', [second.body.reference]);
      expect(flags.find((f: { code: string }) => f.code === 'duplicate').reason).toContain(first.body.reference);
    });

    it('when the claimed original is on another domain and dated after our copy, then source_mismatch, backdated and email_domain_unrelated', async () => {
      const res = await request(t.app)
        .post('/api/v1/notices')
        .send(
          notice({
            email: 'owner@copycat.example',
            originalUrls: ['https://copycat.example/tides-original'],
            workPublishedAt: new Date(Date.now() + 86_400_000 * 3).toISOString().slice(0, 10),
            infringingUrls: [`/items/${item.slug}`],
          }),
        )
        .expect(201);
      const flags = await flagsOf(res.body.reference);
      expect(flags).toEqual(expect.arrayContaining(['source_mismatch', 'backdated']));
      expect(flags).not.toContain('not_on_site');
      const own = await request(t.app)
        .post('/api/v1/notices')
        .send(
          notice({
            email: 'legal@harbourgazette.example',
            originalUrls: ['https://harbourgazette.example/2026/05/tides'],
            infringingUrls: ['https://harbourgazette.example/2026/05/tides'],
          }),
        )
        .expect(201);
      expect(await flagsOf(own.body.reference)).toEqual(['duplicate']);
      const unrelated = await request(t.app)
        .post('/api/v1/notices')
        .send(notice({ email: 'me@mailbox.example', originalUrls: ['https://harbourgazette.example/x'] }))
        .expect(201);
      expect(await flagsOf(unrelated.body.reference)).toContain('email_domain_unrelated');
    });

    it('when one sender sends many notices in an hour, then the later ones are flagged sender_burst', async () => {
      const refs: string[] = [];
      for (let i = 0; i < 4; i++) refs.push((await request(t.app).post('/api/v1/notices').send(notice()).expect(201)).body.reference);
      expect(await flagsOf(refs[2])).not.toContain('sender_burst');
      expect(await flagsOf(refs[3])).toContain('sender_burst');
    });

    it('when the claim is not about copyright, then it goes to the queue marked as such', async () => {
      const res = await request(t.app)
        .post('/api/v1/notices')
        .send(notice({ claimType: 'defamation' }))
        .expect(201);
      expect(res.body.status).toBe('pending');
      expect(await flagsOf(res.body.reference)).toContain('non_copyright');
    });
  });

  describe('the status link', () => {
    it('when the token is wrong or missing, then the same 404 as an unknown reference', async () => {
      const res = await request(t.app).post('/api/v1/notices').send(notice()).expect(201);
      const ref = res.body.reference;
      const unknown = await request(t.app).get('/takedown/TD-999999?token=abc').expect(404);
      const wrong = await request(t.app)
        .get(`/takedown/${ref}?token=${'A'.repeat(43)}`)
        .expect(404);
      const missing = await request(t.app).get(`/takedown/${ref}`).expect(404);
      expect(wrong.text).toBe(unknown.text.replace(/TD-999999/g, ref).replace(new RegExp(ref, 'g'), ref));
      expect(missing.status).toBe(404);
      await request(t.app).get(`/api/v1/notices/${ref}?token=nope`).expect(404);
      const token = new URL(res.body.statusUrl).searchParams.get('token');
      const api = await request(t.app).get(`/api/v1/notices/${ref}?token=${token}`).expect(200);
      expect(api.body).toMatchObject({
        reference: ref,
        status: 'pending',
        targets: [{ url: 'https://elsewhere.example/not-ours', matched: false, outcome: 'not_found' }],
      });
      expect(JSON.stringify(api.body)).not.toContain('flags');
    });

    it("when the status page is opened without its key (the address printed in decision emails), then a 404 says to use the acknowledgement email's private link, the same for any reference", async () => {
      const res = await request(t.app).post('/api/v1/notices').send(notice()).expect(201);
      const ref = res.body.reference;
      const keyless = await request(t.app).get(`/takedown/${ref}`).expect(404);
      expect(keyless.headers['cache-control']).toBe('no-store');
      expect(keyless.text).toContain(`We received your notice ${ref}`);
      expect(keyless.text).toContain('private link');
      expect(keyless.text).toContain(t.config.dmcaAgent.email);
      expect(keyless.text).not.toContain('Notice not found');
      // Nothing tells a stranger whether the reference exists.
      const unknown = await request(t.app).get('/takedown/TD-999999').expect(404);
      expect(unknown.text.replace(/TD-999999/g, ref)).toBe(keyless.text);
      // A wrong key is still the plain not-found answer, the same as an unknown reference.
      const wrong = await request(t.app)
        .get(`/takedown/${ref}?token=${'A'.repeat(43)}`)
        .expect(404);
      expect(wrong.text).toContain('Notice not found');
    });

    it('when markup is sent in any field, then it is stored as text and escaped on the status page and in email', async () => {
      const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>';
      const res = await request(t.app)
        .post('/api/v1/notices')
        .send(notice({ name: `Ada ${hostile}`, signature: `Ada ${hostile}`, workDescription: `Work ${hostile}` }))
        .expect(201);
      const [{ name }] = await t.db.query('SELECT name FROM notices');
      expect(name).toBe(`Ada ${hostile}`);
      const page = await request(t.app).get(res.body.statusUrl.slice(BASE.length)).expect(200);
      expect(page.text).not.toContain('<script>alert(1)');
      await worker.drain();
      const [mail] = sink.to('ada@analytical.example');
      expect(mail.parsed.html).not.toContain('<script>alert(1)');
      expect(mail.parsed.html).toContain('&lt;script&gt;');
    });

    it('when the complainant withdraws from the status page, then the notice is withdrawn, audited and a second withdrawal is refused', async () => {
      const res = await request(t.app).post('/api/v1/notices').send(notice()).expect(201);
      const path = res.body.statusUrl.slice(BASE.length);
      const token = new URL(res.body.statusUrl).searchParams.get('token');
      const page = await request(t.app).get(path).expect(200);
      expect(page.text).toContain('Withdraw notice');
      await request(t.app)
        .post(`/takedown/${res.body.reference}/withdraw`)
        .type('form')
        .send({ token: 'wrong-token-wrong-token-wrong' })
        .expect(404);
      await request(t.app).post(`/takedown/${res.body.reference}/withdraw`).type('form').send({ token }).expect(303);
      const after = await request(t.app).get(path).expect(200);
      expect(after.text).toContain('withdrawn');
      expect(after.text).not.toContain('Withdraw notice');
      await request(t.app).post(`/takedown/${res.body.reference}/withdraw`).type('form').send({ token }).expect(409);
      expect(await count(t, `audit_events WHERE action = 'notice.withdrawn'`)).toBe(1);
    });
  });

  it('when anything fails after the notice is inserted, then no notice, no target, no audit event and no email remain', async () => {
    await t.db.query(
      `CREATE FUNCTION fail_outbox() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected outbox failure'; END $$`,
    );
    await t.db.query(`CREATE TRIGGER fail_outbox BEFORE INSERT ON outbound_emails FOR EACH ROW EXECUTE FUNCTION fail_outbox()`);
    try {
      const res = await request(t.app)
        .post('/api/v1/notices')
        .send(notice({ infringingUrls: [`/items/${item.slug}`] }));
      expect(res.status).toBe(500);
      expect(JSON.stringify(res.body)).not.toContain('injected');
    } finally {
      await t.db.query('DROP TRIGGER fail_outbox ON outbound_emails');
      await t.db.query('DROP FUNCTION fail_outbox()');
    }
    expect(await count(t, 'notices')).toBe(0);
    expect(await count(t, 'notice_targets')).toBe(0);
    expect(await count(t, `audit_events WHERE action = 'notice.submitted'`)).toBe(0);
    expect(await count(t, 'outbound_emails')).toBe(0);
  });

  it("when a notice names an item, then the item's staff page lists the notice and what became of the URL", async () => {
    const res = await request(t.app)
      .post('/api/v1/notices')
      .send(notice({ infringingUrls: [`/items/${item.slug}`] }))
      .expect(201);
    const admin = await createStaff(t.db, { role: 'admin' });
    const agent = await signedInAgent(t.app, admin.email);
    const page = await agent.get(`/items/${item.id}/admin`).expect(200);
    expect(page.text).toContain(`<a href="/notices/${res.body.reference}">${res.body.reference}</a>`);
    expect(page.text).toContain(`/items/${item.slug}</td><td>pending</td>`);
  });

  it('when moderators exist, then each is told about a new notice', async () => {
    const mod = await createStaff(t.db, { role: 'moderator' });
    const res = await request(t.app).post('/api/v1/notices').send(notice()).expect(201);
    await worker.drain();
    const mail = sink.to(mod.email).find((m) => m.parsed.subject?.includes(res.body.reference));
    expect(mail?.parsed.text).toContain(`/notices/${res.body.reference}`);
  });
});

describe('intake with email verification and limits', () => {
  let t: TestContext;
  const clock = new ManualClock(new Date('2026-11-30T12:00:00Z'));
  beforeAll(async () => {
    t = await createTestContext({ clock, env: { REQUIRE_EMAIL_VERIFICATION: 'true', INTAKE_PER_HOUR: '3' } });
  });
  afterAll(() => t.close());
  beforeEach(() => truncateAll(t.db));

  it('when verification is required, then the notice waits unverified until the emailed link is followed', async () => {
    const res = await request(t.app).post('/api/v1/notices').send(notice()).expect(201);
    expect(res.body.status).toBe('unverified');
    const [row] = await t.db.query(`SELECT data FROM outbound_emails WHERE template = 'notice-received'`);
    expect(row.data.verifyUrl).toMatch(/\/verify\?token=/);
    const verifyPath = row.data.verifyUrl.slice(BASE.length);
    await request(t.app)
      .get(verifyPath.replace(/token=[^&]+/, 'token=bad-bad-bad-bad-bad-bad-bad'))
      .expect(404);
    // Opening the link (a person, or a mail scanner) only shows the button; nothing changes yet.
    const page = await request(t.app).get(verifyPath).expect(200);
    const token = new URL(row.data.verifyUrl).searchParams.get('token')!;
    expect(page.text).toContain(`action="/takedown/${res.body.reference}/verify"`);
    expect(page.text).toContain(`name="token" value="${token}"`);
    expect((await t.db.query('SELECT status FROM notices'))[0].status).toBe('unverified');
    await request(t.app)
      .post(`/takedown/${res.body.reference}/verify`)
      .type('form')
      .send({ token: 'bad-bad-bad-bad-bad-bad-bad' })
      .expect(404);
    expect((await t.db.query('SELECT status FROM notices'))[0].status).toBe('unverified');
    const done = await request(t.app).post(`/takedown/${res.body.reference}/verify`).type('form').send({ token }).expect(303);
    expect(done.headers.location).toBe(`/takedown/${res.body.reference}?token=${token}`);
    // The link opened again after confirming leads to the status page.
    await request(t.app).get(verifyPath).expect(303);
    const [n] = await t.db.query('SELECT status, email_verified_at, due_at FROM notices');
    expect(n.status).toBe('pending');
    expect(n.email_verified_at).not.toBeNull();
    expect(new Date(n.due_at).getTime()).toBe(clock.now().getTime() + 48 * 3_600_000);
  });

  it('when an unverified notice is 7 days old, then the expiry job withdraws it as system', async () => {
    await request(t.app).post('/api/v1/notices').send(notice()).expect(201);
    clock.advance(6 * 86_400_000);
    expect(await expireUnverifiedNotices(t)).toBe(0);
    clock.advance(86_400_000 + 1000);
    expect(await expireUnverifiedNotices(t)).toBe(1);
    const [n] = await t.db.query('SELECT status, decision FROM notices');
    expect(n).toEqual({ status: 'withdrawn', decision: 'expired' });
    const [e] = await t.db.query(`SELECT actor_type FROM audit_events WHERE action = 'notice.expired'`);
    expect(e.actor_type).toBe('system');
  });

  it('when one address sends more than INTAKE_PER_HOUR notices, then 429 with Retry-After, as a page or JSON', async () => {
    for (let i = 0; i < 3; i++) await request(t.app).post('/api/v1/notices').send(notice()).expect(201);
    const api = await request(t.app).post('/api/v1/notices').send(notice()).expect(429);
    expect(api.headers['retry-after']).toBeDefined();
    expect(api.body.errors[0].message).toMatch(/Too many requests/);
    expect(await count(t, 'notices')).toBe(3);
  });
});

describe('moderator notifications', () => {
  let t: TestContext;
  const clock = new ManualClock(new Date('2026-11-30T12:10:00Z'));
  const newNoticeEmails = async () =>
    (await t.db.query(`SELECT "to", data->>'reference' AS reference FROM outbound_emails WHERE template = 'notice-new' ORDER BY "to"`)) as {
      to: string;
      reference: string;
    }[];

  afterEach(() => t.close());

  it('when a notice arrives, then every active staff member gets one "new notice" email, queued with the acknowledgement', async () => {
    t = await createTestContext({ clock, env: { INTAKE_PER_HOUR: '1000' } });
    const a = await createStaff(t.db, { role: 'moderator', email: 'a-mod@desk.example' });
    const b = await createStaff(t.db, { role: 'admin', email: 'b-admin@desk.example' });
    const gone = await createStaff(t.db, { role: 'moderator', email: 'c-gone@desk.example' });
    await t.db.query('UPDATE users SET active = false WHERE id = $1', [gone.id]);
    const res = await request(t.app).post('/api/v1/notices').send(notice()).expect(201);
    expect(await newNoticeEmails()).toEqual([
      { to: a.email, reference: res.body.reference },
      { to: b.email, reference: res.body.reference },
    ]);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM outbound_emails WHERE template = 'notice-received'`);
    expect(n).toBe(1);
  });

  it('when moderators take a digest, then no email per notice, and one digest per period lists the notices of that period', async () => {
    t = await createTestContext({ clock, env: { INTAKE_PER_HOUR: '1000', MODERATOR_DIGEST_MINUTES: '60' } });
    const mod = await createStaff(t.db, { role: 'moderator', email: 'a-mod@desk.example' });
    const first = await request(t.app).post('/api/v1/notices').send(notice()).expect(201);
    const second = await request(t.app)
      .post('/api/v1/notices')
      .send(notice({ email: 'grace@navy.example' }))
      .expect(201);
    expect(await newNoticeEmails()).toEqual([]);

    // 12:10 is inside the 12:00–13:00 period, which is not complete yet: nothing to send.
    expect(await withTransaction(t.db, (tx) => sendModeratorDigest(tx, t))).toBe(0);
    clock.advance(3_600_000);
    expect(await withTransaction(t.db, (tx) => sendModeratorDigest(tx, t))).toBe(1);
    // A second run in the same period (another instance, a restart) sends nothing new.
    await withTransaction(t.db, (tx) => sendModeratorDigest(tx, t));
    const digests = await t.db.query(`SELECT "to", data FROM outbound_emails WHERE template = 'notice-digest'`);
    expect(digests).toHaveLength(1);
    expect(digests[0].to).toBe(mod.email);
    expect(digests[0].data.count).toBe(2);
    expect(digests[0].data.notices.map((n: { reference: string }) => n.reference)).toEqual([first.body.reference, second.body.reference]);
  });
});
