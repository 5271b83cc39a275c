import request from 'supertest';
import type { Express } from 'express';
import { DataSource } from 'typeorm';
import { withTransaction } from '../../src/db/transaction';
import { createApiToken, User } from '../../src/modules/auth';
import { revokeApiTokens } from '../../src/modules/auth/api-tokens';
import { setActive } from '../../src/modules/auth/manage-users';
import { approveForTest, COMPLAINANT } from '../support/approve-fixture';
import { makeItem, makeSource } from '../support/factories';
import { storeInboundEmail } from '../../src/modules/inbound';
import { createStaff, csrfFrom, signedInAgent, tokenFor } from '../support/staff';

/**
 * Shared pieces of the security sweep (tests/security): the app's routes read from the Express
 * router itself (so a route added tomorrow is in every sweep without anyone listing it), a small
 * world with one of each thing a route can name, and a fingerprint of the database.
 */

/** `portal`: the rights holders' portal (its own session and CSRF), mounted at `/portal`. */
export type Area = 'public' | 'staff' | 'api' | 'portal';
export interface RouteInfo {
  area: Area;
  method: string;
  /** The path as registered, with `:params`. */
  path: string;
  key: string;
}

type Layer = {
  name?: string;
  rawPath?: string;
  route?: { path: string; methods: Record<string, boolean> };
  handle: { name?: string; stack?: Layer[] };
};

/**
 * Every route registered in the app. A router is the staff router when it runs csrf-csrf's
 * `doubleCsrfProtection` (the session and CSRF middleware of `createApp`); a router mounted at
 * `/api/v1` is the API; everything else is public.
 */
export function appRoutes(app: Express): RouteInfo[] {
  const out: RouteInfo[] = [];
  const walk = (stack: Layer[], prefix: string, area: Area) => {
    for (const l of stack) {
      if (l.route) {
        for (const m of Object.keys(l.route.methods)) {
          if (m === '_all') continue;
          const method = m.toUpperCase();
          const path = `${prefix}${l.route.path}`;
          out.push({ area, method, path, key: `${method} ${path}` });
        }
      } else if (l.handle?.stack) {
        const mount = l.rawPath && l.rawPath !== '/' ? l.rawPath : '';
        const sub = l.handle.stack;
        const next: Area =
          mount === '/api/v1' || prefix.startsWith('/api/v1')
            ? 'api'
            : mount === '/portal' || prefix.startsWith('/portal')
              ? 'portal'
              : sub.some((s) => s.name === 'doubleCsrfProtection')
                ? 'staff'
                : area;
        walk(sub, prefix + mount, next);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '', 'public');
  if (!out.some((r) => r.area === 'staff')) throw new Error('no staff router found: did createApp change how it mounts CSRF?');
  if (!out.some((r) => r.area === 'api')) throw new Error('no /api/v1 router found');
  if (!out.some((r) => r.area === 'portal')) throw new Error('no /portal router found');
  return out;
}

export const isWrite = (method: string) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method);

/** One of everything a route's path can name, all made through the product's own use cases. */
export interface World {
  admin: User;
  moderator: User;
  adminToken: string;
  moderatorToken: string;
  revokedToken: string;
  /** The token of a staff member who was deactivated afterwards. */
  deactivatedToken: string;
  sourceId: string;
  itemId: string;
  itemSlug: string;
  /** A pending notice on another item. */
  reference: string;
  statusToken: string;
  /** The approved notice that removed `removedItemId`, countered. */
  approvedReference: string;
  counterNoticeId: string;
  outboxId: string;
  /** A stored inbound email (the mailbox). */
  inboundEmailId: string;
}

export async function buildWorld(app: Express, db: DataSource): Promise<World> {
  const admin = await createStaff(db, { role: 'admin' });
  const moderator = await createStaff(db, { role: 'moderator' });
  const adminToken = await tokenFor(db, admin);
  const moderatorToken = await tokenFor(db, moderator);
  const system = { type: 'system' } as const;
  const { token: revokedToken, apiToken } = await withTransaction(db, (tx) =>
    createApiToken(tx, { at: new Date(), actor: system, user: admin, name: 'revoked' }),
  );
  await withTransaction(db, (tx) => revokeApiTokens(tx, { at: new Date(), actor: system, user: admin, tokenId: apiToken.id }));
  const leaver = await createStaff(db, { role: 'admin' });
  const { token: deactivatedToken } = await withTransaction(db, (tx) =>
    createApiToken(tx, { at: new Date(), actor: system, user: leaver, name: 'leaver' }),
  );
  await withTransaction(db, (tx) => setActive(tx, { at: new Date(), actor: system, userId: leaver.id, active: false }));

  const source = await makeSource(db, { name: 'Harbour Gazette', domains: ['harbourgazette.example'] });
  const item = await makeItem(db, source);
  const removed = await makeItem(db, source);
  const pageUrl = (slug: string) => `http://localhost:3000/items/${slug}`;

  const approved = await request(app)
    .post('/api/v1/notices')
    .send({ ...COMPLAINANT, infringingUrls: [pageUrl(removed.slug)] })
    .expect(201);
  await approveForTest(db, approved.body.reference, new Date());
  const counter = await request(app)
    .post('/api/v1/counter-notices')
    .send({
      notice: approved.body.reference,
      name: 'Grace Hopper',
      email: 'grace@harbourgazette.example',
      phone: '+1 202 555 0142',
      address: '1 Harbour Street, Annapolis, MD 21401',
      country: 'US',
      removedUrls: [pageUrl(removed.slug)],
      mistake: true,
      consent: true,
      signature: 'Grace Hopper',
    })
    .expect(201);

  const pending = await request(app)
    .post('/api/v1/notices')
    .send({ ...COMPLAINANT, infringingUrls: [pageUrl(item.slug)] })
    .expect(201);
  const [{ id: outboxId }] = await db.query(`SELECT id FROM outbound_emails ORDER BY created_at LIMIT 1`);
  const inbound = await withTransaction(db, (tx) =>
    storeInboundEmail(tx, Buffer.from('From: a@b.example\r\nSubject: hello\r\nMessage-ID: <world@b.example>\r\n\r\nHello.\r\n'), 'api', {
      at: new Date(),
    }),
  );
  return {
    admin,
    moderator,
    adminToken,
    moderatorToken,
    revokedToken,
    deactivatedToken,
    sourceId: source.id,
    itemId: item.id,
    itemSlug: item.slug,
    reference: pending.body.reference,
    statusToken: new URL(pending.body.statusUrl).searchParams.get('token')!,
    approvedReference: approved.body.reference,
    counterNoticeId: counter.body.id,
    outboxId: String(outboxId),
    inboundEmailId: inbound.id,
  };
}

/** A registered path with its parameters filled from the world. */
export function fillPath(path: string, w: World): string {
  return path.replace(/:(\w+)/g, (_m, name: string) => {
    if (name === 'reference') return w.reference;
    if (name === 'slug') return w.itemSlug;
    if (name === 'part') return '1';
    if (name === 'handle') return '0'.repeat(24); // a session handle that is no one's
    if (name === 'n') return '0';
    if (name === 'id') {
      if (path.includes('/sources/')) return w.sourceId;
      if (path.includes('/items/')) return w.itemId;
      if (path.includes('/counter-notices/')) return w.counterNoticeId;
      if (path.includes('/outbox/')) return w.outboxId;
      if (path.includes('/complaints/')) return '00000000-0000-4000-8000-000000000000'; // no such complaint: 404 past the guards
      if (path.includes('/account/passkeys/')) return '00000000-0000-4000-8000-000000000000'; // nobody's passkey: nothing removed
      if (path.includes('/submitters/')) return '00000000-0000-4000-8000-000000000000'; // no such submitter: 404 past the guards
      if (path.includes('/inbound-emails/') || path.includes('/mailbox/')) return w.inboundEmailId;
      // Someone else's (here: nobody's) token: the answer is the 404 of an unknown one.
      if (path.includes('/portal/tokens/') || path.includes('/batches/') || path.includes('/webhooks/'))
        return '00000000-0000-4000-8000-000000000000';
      // Bulk jobs and saved views: nobody's; the answer past the guards is a 404.
      if (path.includes('/jobs/') || path.includes('/views/')) return '00000000-0000-4000-8000-000000000000';
      // No such image: the 404 past the guards (a release of an unknown image changes nothing).
      if (path.startsWith('/images/') || path.startsWith('/api/v1/images/')) return '00000000-0000-4000-8000-000000000000';
    }
    if (name === 'imageId') return '00000000-0000-4000-8000-000000000000';
    throw new Error(`no value for :${name} in ${path}: teach fillPath about it`);
  });
}

export type Agent = ReturnType<typeof request.agent>;

/** A signed-in agent and a CSRF token valid for its session. */
export async function staffSession(app: Express, user: User): Promise<{ agent: Agent; csrf: string }> {
  const agent = await signedInAgent(app, user.email);
  const page = await agent.get('/staff').expect(200);
  return { agent, csrf: csrfFrom(page.text) };
}

/** A cookie-keeping anonymous client with a CSRF token bound to its (anonymous) session. */
export async function anonymousSession(app: Express): Promise<{ agent: Agent; csrf: string }> {
  const agent = request.agent(app);
  const page = await agent.get('/login').expect(200);
  return { agent, csrf: csrfFrom(page.text) };
}

/** A cookie-keeping anonymous portal client with a CSRF token bound to its (anonymous) portal session. */
export async function anonymousPortalSession(app: Express): Promise<{ agent: Agent; csrf: string }> {
  const agent = request.agent(app);
  const page = await agent.get('/portal/login').expect(200);
  return { agent, csrf: csrfFrom(page.text) };
}

/**
 * A portal client signed in as `email` through the real sign-in form and link. The link is read
 * from the queued email's row (no SMTP server in the sweep).
 */
export async function submitterSession(app: Express, db: DataSource, email: string): Promise<{ agent: Agent; csrf: string }> {
  const anon = await anonymousPortalSession(app);
  await anon.agent.post('/portal/login').type('form').send({ _csrf: anon.csrf, email }).expect(200);
  const [row] = await db.query(
    `SELECT data->>'signInUrl' AS url FROM outbound_emails WHERE template = 'portal-sign-in' AND "to" = $1 ORDER BY created_at DESC LIMIT 1`,
    [email],
  );
  const token = new URL(row.url).searchParams.get('token')!;
  const page = await anon.agent.get(`/portal/login/link?token=${token}`).expect(200);
  await anon.agent
    .post('/portal/login/link')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), token })
    .expect(303);
  const home = await anon.agent.get('/portal').expect(200);
  return { agent: anon.agent, csrf: csrfFrom(home.text) };
}

/**
 * A digest of every table's content except the session store and the rate-limit counters (which a
 * request may touch without changing anything the product owns). Equal before and after = nothing
 * changed.
 */
export async function fingerprint(db: DataSource): Promise<Record<string, string>> {
  const tables: { tablename: string }[] = await db.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('sessions', 'rate_limits', 'typeorm_migrations') ORDER BY tablename`,
  );
  const sql = tables
    .map(
      ({ tablename }) =>
        `SELECT '${tablename}' AS t, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS d FROM "${tablename}" x`,
    )
    .join(' UNION ALL ');
  const rows: { t: string; d: string }[] = await db.query(sql);
  const out: Record<string, string> = {};
  for (const r of rows) out[r.t] = r.d;
  return out;
}

/** Text that must never reach a client: stack frames, SQL, driver and ORM error names. */
export const LEAK_PATTERNS: RegExp[] = [
  /\bat [\w.<>]+ \(.*:\d+:\d+\)/, // a stack frame
  /node_modules/,
  /\/src\/[\w/-]+\.ts/,
  /QueryFailedError|TypeORMError|EntityNotFound|pg-protocol|DatabaseError/,
  /syntax error at or near/i,
  // A query as a driver or the ORM would quote it: a table of ours followed by a clause.
  /\b(FROM|INTO|UPDATE|JOIN)\s+"?(notices|notice_targets|items|sources|users|api_tokens|audit_events|outbound_emails|counter_notices|sessions)"?\s+("?\w+"?\s+)?(WHERE|SET|JOIN|ORDER|LIMIT|VALUES|AS|ON)\b/i,
  /\$\d+\b[^\n<]{0,40}\b(AND|OR|WHERE|LIMIT)\b/,
  /invalid input syntax for/i,
  /out of range for type/i,
  /unterminated quoted string/i,
  /relation "\w+" does not exist/i,
  /TypeError|ReferenceError|RangeError|SyntaxError: Unexpected/,
];

export function leaks(body: string): string[] {
  return LEAK_PATTERNS.filter((p) => p.test(body)).map(String);
}
