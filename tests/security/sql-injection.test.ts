import request from 'supertest';
import { createTestContext, TestContext } from '../support/context';
import { Agent, appRoutes, buildWorld, fingerprint, leaks, RouteInfo, staffSession, World } from './support';

/**
 * Classic SQL-injection strings in every filter and search parameter of the staff pages, the API
 * lists and the public lookups, and in every path parameter of every GET route: never a 500, never
 * SQL or a stack in the body, never more rows than a harmless non-matching value gives, and every
 * table intact afterwards.
 */
export const INJECTIONS = [
  "' OR 1=1--",
  "' OR '1'='1",
  '" OR "1"="1',
  "'; DROP TABLE notices;--",
  "1'; DELETE FROM items;--",
  "1' UNION SELECT email, password_hash FROM users--",
  '1 UNION SELECT NULL,NULL,NULL--',
  "' AND 1=CAST((SELECT version()) AS int)--",
  '1) OR pg_sleep(0) IS NULL--',
  '%27',
  '%27%20OR%201%3D1--',
  '\\',
  "\\'",
  'a\u0000b',
  '\u0000',
  '%00',
  '$1',
  '%',
  '_',
  '*',
  "TD-000001' OR 1=1--",
  '9999999999999999999999',
  '-1',
  'x'.repeat(5000),
  // Sent as they are, not encoded again: bytes that are not UTF-8, an overlong quote, a bare %.
  'RAW:%ff%fe',
  'RAW:%C0%27%20OR%201=1--',
  'RAW:%',
];
/** The ones every filter parameter gets (and every path parameter). */
const CORE = [
  "' OR 1=1--",
  "'; DROP TABLE notices;--",
  "1' UNION SELECT email, password_hash FROM users--",
  '\\',
  'a\u0000b',
  '9999999999999999999999',
  'RAW:%ff%fe',
];
const enc = (v: string) => (v.startsWith('RAW:') ? v.slice(4) : encodeURIComponent(v));

/** The filters and search fields each list reads (README: queue, audit, items, outbox, exports, lookups). */
const PARAMS: Record<string, string[]> = {
  '/queue': ['status', 'assignee', 'source', 'claimType', 'flag', 'cursor'],
  '/audit': ['actor', 'action', 'subject', 'from', 'to', 'q', 'after', 'limit'],
  '/items': ['q', 'source', 'status', 'cursor'],
  '/outbox': ['status', 'cursor'],
  '/users': ['q'],
  '/sources': ['q'],
  '/counter-notices': ['q'],
  '/login': ['next'],
  '/api/v1/notices': ['status', 'assignee', 'source', 'claimType', 'flag', 'cursor'],
  '/api/v1/items': ['q', 'source', 'status', 'cursor'],
  '/api/v1/audit': ['actor', 'action', 'subject', 'from', 'to', 'q', 'after', 'limit'],
  '/api/v1/audit/export?format=jsonl': ['actor', 'action', 'subject', 'from', 'to', 'q', 'format'],
  '/api/v1/audit/exports/notices': ['from', 'to', 'full'],
  '/api/v1/notices/TD-000001': ['token'],
  '/': ['before'],
  '/takedown': ['url'],
  '/takedown/check': ['url'],
  '/takedown/TD-000001': ['token'],
  '/takedown/TD-000001/verify': ['token'],
  '/counter-notice': ['notice'],
  '/counter-notice/received': ['notice', 'restore'],
  '/opt-out/confirm': ['token'],
  '/transparency': ['month'],
};

/** Rows of a JSON list, to compare a payload's answer with a harmless value's. */
const rowsOf = (body: Record<string, unknown>): number | undefined => {
  for (const k of ['notices', 'items', 'events']) if (Array.isArray(body?.[k])) return (body[k] as unknown[]).length;
  return undefined;
};

async function inBatches<T>(jobs: (() => Promise<T>)[], size = 8): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < jobs.length; i += size) out.push(...(await Promise.all(jobs.slice(i, i + size).map((j) => j()))));
  return out;
}

describe('SQL injection in query and path parameters', () => {
  let t: TestContext;
  let w: World;
  let admin: Agent;
  let routes: RouteInfo[];
  let before: Record<string, string>;
  let lastEvent: string;

  beforeAll(async () => {
    t = await createTestContext({ env: { INTAKE_PER_HOUR: '10000' } });
    w = await buildWorld(t.app, t.db);
    admin = (await staffSession(t.app, w.admin)).agent;
    routes = appRoutes(t.app);
    before = await fingerprint(t.db);
    [{ id: lastEvent }] = await t.db.query(`SELECT max(id)::text AS id FROM audit_events`);
  });
  afterAll(() => t.close());

  const areaOf = (path: string) =>
    path.startsWith('/api/v1')
      ? 'api'
      : routes.find((r) => r.area === 'staff' && new RegExp(`^${r.path.replace(/:\w+/g, '[^/]+')}$`).test(path.split('?')[0]))
        ? 'staff'
        : 'public';
  const send = (pathAndQuery: string) => {
    const area = areaOf(pathAndQuery);
    if (area === 'api')
      return request(t.app).get(pathAndQuery).set('Authorization', `Bearer ${w.adminToken}`).set('Accept', 'application/json');
    if (area === 'staff') return admin.get(pathAndQuery).redirects(0);
    return request(t.app).get(pathAndQuery).redirects(0);
  };
  /** A request that never answers is a finding too (a hung handler), not a test timeout. */
  const call = async (pathAndQuery: string): Promise<request.Response> => {
    try {
      return await send(pathAndQuery).timeout({ response: 10_000 });
    } catch (e) {
      return {
        status: 599,
        text: `no answer: ${(e as Error).message} for ${pathAndQuery.slice(0, 120)}`,
        body: {},
        headers: {},
      } as unknown as request.Response;
    }
  };
  const withParam = (base: string, name: string, value: string) =>
    `${base}${base.includes('?') ? '&' : '?'}${encodeURIComponent(name)}=${enc(value)}`;

  /**
   * A payload may be shown back (escaped) in a form value, and exports or the audit page show the
   * filters earlier exports recorded: neither is a leak. Form values and every payload are removed
   * before looking for SQL or a stack.
   */
  const withoutEcho = (text: string, _payload: string) => {
    let out = text.replace(/value="[^"]*"/g, '').replace(/<textarea[^>]*>[^<]*<\/textarea>/g, '');
    for (const payload of INJECTIONS) {
      const forms = [
        payload,
        payload.toUpperCase(),
        JSON.stringify(payload).slice(1, -1),
        JSON.stringify(JSON.stringify(payload).slice(1, -1)).slice(1, -1),
        payload.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;'),
        payload.replace(/'/g, '&#39;'),
        encodeURIComponent(payload),
      ];
      out = forms.reduce((acc, f) => (f.length > 2 ? acc.split(f).join('') : acc), out);
    }
    return out;
  };
  const check = (label: string, res: request.Response, problems: string[], payload = '') => {
    if (res.status >= 500) problems.push(`${label} → ${res.status}${res.status === 599 ? ` ${res.text}` : ''}`);
    const found = leaks(withoutEcho(res.text ?? '', payload));
    if (found.length) problems.push(`${label} → body shows ${found.join(', ')}: ${res.text.slice(0, 300)}`);
  };

  it('when the audit search text is an injection string, then it is searched for literally: nothing matches', async () => {
    for (const payload of ["' OR 1=1--", "' OR '1'='1", '%', '\\']) {
      const res = await request(t.app)
        .get(withParam('/api/v1/audit', 'q', payload))
        .set('Authorization', `Bearer ${w.adminToken}`)
        .expect(200);
      expect([payload, res.body.events.length]).toEqual([payload, 0]);
    }
  });

  it('when a NUL character is in a filter, a path or a form, then it is a 400 naming the field, not a database error', async () => {
    const api = await request(t.app).get('/api/v1/items?q=a%00b').set('Authorization', `Bearer ${w.adminToken}`).expect(400);
    expect(api.body.errors).toEqual([{ field: 'q', message: 'q must not contain a NUL character.' }]);
    const page = await admin.get('/queue?flag=%00').expect(400);
    expect(page.text).toContain('flag must not contain a NUL character.');
    await request(t.app).get('/items/a%00b').expect(400);
    const form = await request(t.app).post('/api/v1/notices').send({ name: 'A\u0000B' }).expect(400);
    expect(form.body.errors[0].field).toBe('name');
  });

  it('when a filter or search parameter carries an injection string, then no 500, no SQL or stack in the body, and no more rows than a harmless value', async () => {
    const problems: string[] = [];
    const jobs: (() => Promise<void>)[] = [];
    for (const [base, names] of Object.entries(PARAMS)) {
      const path = base.replace('TD-000001', w.reference);
      for (const name of names) {
        jobs.push(async () => {
          const harmless = path.startsWith('/api/') ? await call(withParam(path, name, 'zz-no-such-value')) : undefined;
          const harmlessRows = harmless?.status === 200 ? rowsOf(harmless.body) : 0;
          for (const payload of CORE) {
            const label = `${path} ${name}=${JSON.stringify(payload.slice(0, 40))}`;
            const res = await call(withParam(path, name, payload));
            check(label, res, problems, payload);
            const rows = res.status === 200 ? rowsOf(res.body) : undefined;
            // Free text (`q`) may truly match parts of a payload; its own test is below.
            if (name !== 'q' && rows !== undefined && rows > (harmlessRows ?? 0))
              problems.push(`${label} → ${rows} rows where a harmless value gives ${harmlessRows}`);
          }
          // The same parameter twice (an array in req.query).
          check(`${path} ${name} twice`, await call(`${withParam(path, name, "' OR 1=1--")}&${encodeURIComponent(name)}=x`), problems);
        });
      }
    }
    await inBatches(jobs, 6);
    expect(problems).toEqual([]);
  }, 120_000);

  it('when the staff export forms (POST) carry an injection string in a filter, then no 500 and no SQL or stack', async () => {
    const problems: string[] = [];
    const csrf = (await admin.get('/audit/exports').expect(200)).text.match(/name="_csrf" value="([^"]+)"/)![1];
    const forms: Record<string, string[]> = {
      '/audit/export': ['actor', 'action', 'subject', 'from', 'to', 'q', 'format'],
      '/audit/exports/notices': ['from', 'to', 'full'],
      '/audit/exports/decisions': ['from', 'to', 'full'],
    };
    for (const [path, names] of Object.entries(forms)) {
      for (const name of names) {
        for (const payload of CORE.filter((p) => !p.startsWith('RAW:'))) {
          const res = await admin
            .post(path)
            .type('form')
            .send({ _csrf: csrf, format: 'csv', [name]: payload })
            .redirects(0);
          check(`POST ${path} ${name}=${JSON.stringify(payload.slice(0, 40))}`, res, problems, payload);
        }
      }
    }
    expect(problems).toEqual([]);
  }, 60_000);

  it('when a path parameter of any GET route carries an injection string, then no 500 and no SQL or stack in the body', async () => {
    const problems: string[] = [];
    const withParams = [...new Set(routes.filter((r) => r.method === 'GET' && r.path.includes(':')).map((r) => r.path))];
    expect(withParams.length).toBeGreaterThan(8);
    const jobs = withParams.flatMap((p) =>
      [...CORE, '%27', '%', 'x'.repeat(5000)].map((payload) => async () => {
        const path = p.replace(/:\w+/g, enc(payload));
        check(`GET ${p} with ${JSON.stringify(payload.slice(0, 40))}`, await call(path), problems, payload);
      }),
    );
    await inBatches(jobs, 8);
    expect(problems).toEqual([]);
  }, 60_000);

  it('when every GET route gets every known parameter name set to an injection string at once, then no 500 and no SQL or stack', async () => {
    const problems: string[] = [];
    const names = [...new Set(Object.values(PARAMS).flat())];
    const gets = [...new Set(routes.filter((r) => r.method === 'GET').map((r) => r.path))];
    const jobs = gets.flatMap((p) =>
      [INJECTIONS[0], INJECTIONS[13]].map((payload) => async () => {
        const path = p
          .replace(/:reference/g, w.reference)
          .replace(/:slug/g, w.itemSlug)
          .replace(/:id/g, w.itemId);
        const qs = names.map((n) => `${n}=${enc(payload)}`).join('&');
        check(`GET ${p}?…=${JSON.stringify(payload)}`, await call(`${path}?${qs}`), problems, payload);
      }),
    );
    await inBatches(jobs, 8);
    expect(problems).toEqual([]);
  }, 60_000);

  it('when the sweep is over, then every table is intact (nothing but the audit trail of the exports changed)', async () => {
    const after = await fingerprint(t.db);
    const { audit_events: _a1, api_tokens: _t1, ...rest1 } = before;
    const { audit_events: _a2, api_tokens: _t2, ...rest2 } = after;
    expect(rest2).toEqual(rest1);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM notices`);
    expect(n).toBe(2);
    const written: { action: string }[] = await t.db.query(`SELECT DISTINCT action FROM audit_events WHERE id > $1`, [lastEvent]);
    expect(written.map((e) => e.action).filter((a) => a !== 'audit.exported')).toEqual([]);
  });
});
