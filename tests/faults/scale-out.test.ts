import { withTransaction } from '../../src/db/transaction';
import { SYSTEM } from '../../src/modules/audit';
import { createSource, Item } from '../../src/modules/items';
import { enqueue } from '../../src/modules/mail';
import { messageIdFor } from '../../src/modules/mail/transport';
import { plainToInstance } from 'class-transformer';
import { submitNotice } from '../../src/modules/notices/submit-notice';
import { NoticeDto } from '../../src/modules/notices/notice.dto';
import { systemClock } from '../../src/shared/clock';
import { createTestDatabase, testConfig } from '../support/context';
import { makeItem, makeSource } from '../support/factories';
import { rss, rssItem, startFeedServer, xmlRoute } from '../support/feed-server';
import { startSmtpSink, SmtpSink } from '../support/smtp-sink';
import { createStaff, csrfFrom, PASSWORD, tokenFor } from '../support/staff';
import { AppProcess, sleep, startApp, waitFor } from './support/app-process';
import { call, noticeBody } from './support/http';

/**
 * Scale-out: two server processes (A and B) on one PostgreSQL.
 *  - A notice approved through A makes the item answer 451 on B within 1 s, although B holds the
 *    page in its memory cache (invalidation over LISTEN/NOTIFY).
 *  - Both run every job: the outbox is delivered once (one received message per row), the feed
 *    import job imports a due source once (one download, one audit event), the two audit sealers
 *    build one chain that verifies.
 */
const MAIL_FROM = 'Takedown Desk <desk@scale.test>';
const APPROVALS = 5;
const BULK_EMAILS = 200;
const POLL_MS = 50;
const STALE_UNVERIFIED = 10;

describe('when two instances run on one PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let sink: SmtpSink;
  let feeds: Awaited<ReturnType<typeof startFeedServer>>;
  let a: AppProcess;
  let b: AppProcess;
  let moderatorToken: string;
  let adminToken: string;
  let items: Item[];
  let feedSourceId: string;
  let moderatorEmail: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    sink = await startSmtpSink();
    feeds = await startFeedServer();
    feeds.routes.set(
      '/scale.xml',
      xmlRoute(rss([0, 1, 2].map((i) => rssItem({ guid: `s-${i}`, link: `https://scale.example/a/${i}`, title: `Scale ${i}` })))),
    );
    const source = await makeSource(database.db);
    items = [];
    for (let i = 0; i < APPROVALS; i++) items.push(await makeItem(database.db, source));
    const feedSource = await withTransaction(database.db, (tx) =>
      createSource(tx, {
        name: 'Scale feed',
        domains: ['scale.example'],
        feedUrl: `${feeds.url}/scale.xml`,
        at: new Date(),
        actor: SYSTEM,
      }),
    );
    feedSourceId = feedSource.id;
    const moderator = await createStaff(database.db, { role: 'moderator' });
    moderatorEmail = moderator.email;
    moderatorToken = await tokenFor(database.db, moderator);
    adminToken = await tokenFor(database.db, await createStaff(database.db, { role: 'admin' }));
    // Notices never confirmed by their senders, 8 days old: the notice-expiry job of each instance
    // finds them due at its first run.
    const verifying = {
      db: database.db,
      clock: systemClock,
      config: testConfig({ REQUIRE_EMAIL_VERIFICATION: 'true' }),
      sessionSecret: 'x'.repeat(48),
    };
    for (let i = 0; i < STALE_UNVERIFIED; i++) {
      const dto = plainToInstance(NoticeDto, noticeBody(`stale${i}`, ['https://elsewhere.example/stale']));
      await submitNotice(verifying, { dto, channel: 'api', context: { ip: '127.0.0.1' } });
    }
    await database.db.query(`UPDATE notices SET submitted_at = now() - interval '8 days' WHERE status = 'unverified'`);
    // Both at once: their first job runs (feed import, sealer, mail) race each other.
    const env = { DATABASE_URL: database.url, SMTP_URL: sink.url, MAIL_FROM };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await feeds?.close();
    await sink?.stop();
    await database?.drop();
  });

  it('then a notice approved on A answers 451 on B within 1 s, B having had the page cached', async () => {
    const delays: number[] = [];
    for (const [i, item] of items.entries()) {
      const submitted = await call(a.url, 'POST', '/api/v1/notices', { body: noticeBody(`scale${i}`, [item.originalUrl]) });
      expect(submitted.status).toBe(201);
      const reference = submitted.body.reference as string;
      expect((await call(a.url, 'POST', `/api/v1/notices/${reference}/claim`, { token: moderatorToken, body: {} })).status).toBe(200);

      // Warm B's cache, and prove it is warm: a change written straight to the database (no NOTIFY)
      // is not seen by B, because B answers from memory.
      await waitFor(
        'B to serve the item page from its cache',
        async () => {
          const first = await call(b.url, 'GET', `/items/${item.slug}`, { headers: { Accept: 'text/html' } });
          expect(first.status).toBe(200);
          const marker = `Unannounced title ${Math.random().toString(36).slice(2)}`;
          await database.db.query(`UPDATE items SET title = $2 WHERE id = $1`, [item.id, marker]);
          const second = await call(b.url, 'GET', `/items/${item.slug}`, { headers: { Accept: 'text/html' } });
          return second.status === 200 && !second.text.includes(marker);
        },
        30_000,
        200,
      );

      const decision = await call(a.url, 'POST', `/api/v1/notices/${reference}/decision`, {
        token: moderatorToken,
        body: { action: 'approve', reason: 'The claim is valid.' },
      });
      expect(decision.status).toBe(200);
      const decided = Date.now();
      let status: number;
      for (;;) {
        status = (await call(b.url, 'GET', `/items/${item.slug}`, { headers: { Accept: 'text/html' } })).status;
        if (status === 451 || Date.now() - decided > 10_000) break;
        await sleep(POLL_MS);
      }
      expect(status).toBe(451);
      delays.push(Date.now() - decided);
    }
    process.stdout.write(`scale-out: approval on A → first 451 on B after ${delays.join(', ')} ms (poll every ${POLL_MS} ms)\n`);
    for (const d of delays) expect(d).toBeLessThan(1_000);
  });

  it('then a moderator signed in on A works on B: the session and CSRF token of one instance hold on the other', async () => {
    const jar = new Map<string, string>();
    const browse = async (base: string, path: string, form?: Record<string, string>) => {
      const res = await fetch(`${base}${path}`, {
        method: form ? 'POST' : 'GET',
        headers: {
          Accept: 'text/html',
          Cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: form ? new URLSearchParams(form).toString() : undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(15_000),
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const i = pair.indexOf('=');
        jar.set(pair.slice(0, i), pair.slice(i + 1));
      }
      return { status: res.status, text: await res.text(), location: res.headers.get('location') };
    };
    const login = await browse(a.url, '/login');
    expect(login.status).toBe(200);
    const signedIn = await browse(a.url, '/login', {
      _csrf: csrfFrom(login.text),
      email: moderatorEmail,
      password: PASSWORD,
      next: '/queue',
    });
    expect(signedIn.status).toBe(303);

    const submitted = await call(a.url, 'POST', '/api/v1/notices', { body: noticeBody('session', ['https://elsewhere.example/session']) });
    expect(submitted.status).toBe(201);
    const reference = submitted.body.reference as string;
    // The page (and its CSRF token) comes from A, the form is posted to B.
    const page = await browse(a.url, `/notices/${reference}`);
    expect(page.status).toBe(200);
    const queueOnB = await browse(b.url, '/queue');
    expect(queueOnB.status).toBe(200);
    const claimOnB = await browse(b.url, `/notices/${reference}/claim`, {
      _csrf: csrfFrom(page.text),
      version: /name="version" value="(\d+)"/.exec(page.text)?.[1] ?? '',
    });
    expect(claimOnB.status).toBe(303);
    const [notice] = await database.db.query(`SELECT status FROM notices WHERE reference = $1`, [reference]);
    expect(notice.status).toBe('in_review');
  });

  it('then every queued email is delivered once, though both instances run a mail worker', async () => {
    // A burst written in one transaction: both workers see it due at once.
    await withTransaction(database.db, async (tx) => {
      for (let i = 0; i < BULK_EMAILS; i++) {
        await enqueue(tx, 'staff-account-created', `person-${i}@scale.test`, {
          name: `Person ${i}`,
          role: 'moderator',
          email: `person-${i}@scale.test`,
        });
      }
    });
    await waitFor(
      'the outbox to drain',
      async () => {
        const [row] = await database.db.query(`SELECT count(*)::int AS n FROM outbound_emails WHERE status = 'queued'`);
        return row.n === 0;
      },
      120_000,
      250,
    );
    const rows: { id: string; status: string }[] = await database.db.query(`SELECT id, status FROM outbound_emails`);
    expect(rows.length).toBeGreaterThanOrEqual(BULK_EMAILS);
    expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
    expect(sink.messages.map((m) => m.parsed.messageId).sort()).toEqual(rows.map((r) => messageIdFor(r.id, MAIL_FROM)).sort());
    const [{ n: sentEvents }] = await database.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'email.sent'`);
    expect(sentEvents).toBe(rows.length);
  });

  it('then the scheduled feed import ran once, each stale notice expired once, and the two sealers built one chain', async () => {
    const expired: { n: number; notices: number }[] = await database.db.query(
      `SELECT count(*)::int AS n, count(DISTINCT subject_id)::int AS notices FROM audit_events WHERE action = 'notice.expired'`,
    );
    expect(expired[0]).toEqual({ n: STALE_UNVERIFIED, notices: STALE_UNVERIFIED });
    const [{ n: stillUnverified }] = await database.db.query(`SELECT count(*)::int AS n FROM notices WHERE status = 'unverified'`);
    expect(stillUnverified).toBe(0);
    const [source] = await database.db.query(`SELECT last_fetch_result AS result FROM sources WHERE id = $1`, [feedSourceId]);
    expect(source.result).toMatchObject({ ok: true, created: 3 });
    expect(feeds.hits.get('/scale.xml')).toBe(1);
    const [{ n: fetched }] = await database.db.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE action IN ('source.fetched', 'source.fetch_failed') AND subject_id = $1`,
      [feedSourceId],
    );
    expect(fetched).toBe(1);
    const verify = await waitFor(
      'the audit chain to be sealed',
      async () => {
        const res = await call(b.url, 'GET', '/api/v1/audit/verify', { token: adminToken });
        return res.status === 200 && res.body.unsealed === 0 ? res : undefined;
      },
      60_000,
      250,
    );
    expect(verify.body).toMatchObject({ ok: true, firstBadSequence: null });
    const [{ events, sequences }] = await database.db.query(
      `SELECT count(*)::int AS events, count(DISTINCT sequence)::int AS sequences FROM audit_events`,
    );
    expect(sequences).toBe(events);
    expect(verify.body.events).toBe(events);
  });
});
