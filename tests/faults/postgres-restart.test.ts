import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';
import { messageIdFor } from '../../src/modules/mail/transport';
import { makeItem, makeSource } from '../support/factories';
import { startSmtpSink, SmtpSink } from '../support/smtp-sink';
import { createStaff, tokenFor } from '../support/staff';
import { AppProcess, sleep, startApp, waitFor } from './support/app-process';
import { call, noticeBody } from './support/http';
import { OwnPostgres, startOwnPostgres } from './support/own-postgres';

/**
 * Scenario 3: PostgreSQL restarts (fast shutdown, a few seconds down, start) while clients keep
 * sending requests. During the outage answers are 503 with Retry-After — never a 500, never a hang
 * (every request has a 15 s deadline); afterwards the same process serves 200/201 again by itself,
 * its background jobs resume (the audit sealer catches up, the outbox drains with each email
 * delivered once) and the audit chain verifies.
 */
const CLIENTS = 6;
const OUTAGE_MS = 4_000;
const REQUEST_DEADLINE_MS = 15_000;
const MAIL_FROM = 'Takedown Desk <desk@restart.test>';

type Phase = 'before' | 'outage' | 'recovering' | 'after';
interface Outcome {
  phase: Phase;
  what: string;
  status: number | string;
  retryAfter: string | null;
  body?: string;
}

describe('when PostgreSQL restarts under load', () => {
  let pg: OwnPostgres;
  let db: DataSource;
  let sink: SmtpSink;
  let app: AppProcess;

  beforeAll(async () => {
    pg = await startOwnPostgres('takedown_faults');
    sink = await startSmtpSink();
  });

  afterAll(async () => {
    await app?.stop();
    await db?.destroy().catch(() => undefined);
    await sink?.stop();
    await pg?.destroy();
  });

  it('then requests during the outage get 503 with Retry-After and the app recovers by itself', async () => {
    app = await startApp({ DATABASE_URL: pg.url, SMTP_URL: sink.url, MAIL_FROM, MAIL_RETRY_BASE_SECONDS: '2' });
    db = createDataSource(pg.url, { poolSize: 2 });
    await db.initialize();
    const source = await makeSource(db);
    const items = [await makeItem(db, source), await makeItem(db, source), await makeItem(db, source)];
    const admin = await createStaff(db, { role: 'admin' });
    const token = await tokenFor(db, admin);

    let phase: Phase = 'before';
    let running = true;
    const outcomes: Outcome[] = [];
    const requests = [
      (n: number) => ({
        what: 'GET item page',
        go: () =>
          call(app.url, 'GET', `/items/${items[n % items.length].slug}`, {
            headers: { Accept: 'text/html' },
            timeoutMs: REQUEST_DEADLINE_MS,
          }),
      }),
      (n: number) => ({
        what: 'POST notice',
        go: () =>
          call(app.url, 'POST', '/api/v1/notices', {
            body: noticeBody(`pg${n}-${Math.random().toString(36).slice(2, 8)}`, [items[n % items.length].originalUrl]),
            timeoutMs: REQUEST_DEADLINE_MS,
          }),
      }),
      () => ({
        what: 'GET queue (API)',
        go: () => call(app.url, 'GET', '/api/v1/notices?status=pending', { token, timeoutMs: REQUEST_DEADLINE_MS }),
      }),
      () => ({ what: 'GET /', go: () => call(app.url, 'GET', '/', { headers: { Accept: 'text/html' }, timeoutMs: REQUEST_DEADLINE_MS }) }),
    ];
    const client = async (c: number) => {
      for (let n = c; running; n++) {
        const { what, go } = requests[n % requests.length](n);
        const startedIn = phase;
        // A request that was in flight when PostgreSQL stopped counts as one of the outage's.
        const phaseOf = () => (startedIn === 'before' && phase !== 'before' ? 'outage' : startedIn);
        try {
          const res = await go();
          outcomes.push({
            phase: phaseOf(),
            what,
            status: res.status,
            retryAfter: res.headers.get('retry-after'),
            body: res.status === 500 ? res.text.slice(0, 500) : undefined,
          });
        } catch (e) {
          outcomes.push({ phase: phaseOf(), what, status: `no answer: ${(e as Error).name} ${(e as Error).message}`, retryAfter: null });
        }
        await sleep(20);
      }
    };
    const load = Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));

    await waitFor(
      'some successful requests before the outage',
      async () => outcomes.filter((o) => o.phase === 'before').length >= 30,
      60_000,
    );
    phase = 'outage';
    await pg.stop();
    const outageStarted = Date.now();
    await waitFor('a 503 during the outage', async () => outcomes.some((o) => o.phase === 'outage' && o.status === 503), 30_000);
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));
    await pg.start();
    phase = 'recovering';
    // The same process, not restarted, serves again: a notice is taken and a page is read.
    const recoveredIn = Date.now();
    await waitFor(
      'a 201 for a notice after PostgreSQL is back',
      async () =>
        (await call(app.url, 'POST', '/api/v1/notices', { body: noticeBody(`recovered-${Date.now()}`, [items[0].originalUrl]) })).status ===
        201,
      60_000,
      200,
    );
    await waitFor(
      'a 200 for the queue after PostgreSQL is back',
      async () => (await call(app.url, 'GET', '/api/v1/notices?status=pending', { token })).status === 200,
      60_000,
      200,
    );
    const recoveryMs = Date.now() - recoveredIn;
    phase = 'after';
    const afterFrom = outcomes.length;
    await waitFor('requests after the recovery', async () => outcomes.slice(afterFrom).length >= 40, 60_000);
    running = false;
    await load;

    const summary = (list: Outcome[]) => {
      const m = new Map<string, number>();
      for (const o of list) m.set(`${o.what} → ${o.status}`, (m.get(`${o.what} → ${o.status}`) ?? 0) + 1);
      return Object.fromEntries(m);
    };
    const of = (p: Phase) => outcomes.filter((o) => o.phase === p);
    process.stdout.write(
      `postgres-restart: recovery ${recoveryMs} ms after start;\n  before ${JSON.stringify(summary(of('before')))}\n` +
        `  outage ${JSON.stringify(summary(of('outage')))}\n  recovering ${JSON.stringify(summary(of('recovering')))}\n` +
        `  after ${JSON.stringify(summary(of('after')))}\n`,
    );
    const okOrUnavailable = (o: Outcome) => o.status === 200 || o.status === 201 || o.status === 503;
    expect(outcomes.filter((o) => !okOrUnavailable(o))).toEqual([]); // no 500, no hang, no dropped connection
    expect(outcomes.filter((o) => o.status === 503 && o.retryAfter === null)).toEqual([]);
    expect(of('before').filter((o) => o.status === 503)).toEqual([]);
    expect(of('after').filter((o) => o.status === 503)).toEqual([]);
    expect(of('outage').filter((o) => o.status === 503).length).toBeGreaterThan(0);

    // The background jobs came back too: the sealer seals what was written since, and the chain verifies.
    const verify = await waitFor(
      'the audit chain to be sealed and verified',
      async () => {
        const res = await call(app.url, 'GET', '/api/v1/audit/verify', { token });
        return res.status === 200 && res.body.unsealed === 0 ? res : undefined;
      },
      60_000,
      250,
    );
    expect(verify.body).toMatchObject({ ok: true, firstBadSequence: null, unsealed: 0 });

    // The mail worker came back too, and no email whose delivery was cut by the outage is left
    // waiting for its lease (it would be sent twice then): the outbox drains, each email once.
    await waitFor(
      'the outbox to drain',
      async () => {
        const [row] = await db.query(`SELECT count(*)::int AS n FROM outbound_emails WHERE status = 'queued'`);
        return row.n === 0;
      },
      60_000,
      250,
    );
    const emails: { id: string; status: string }[] = await db.query(`SELECT id, status FROM outbound_emails`);
    expect(emails.filter((e) => e.status !== 'sent')).toEqual([]);
    expect(sink.messages.map((m) => m.parsed.messageId).sort()).toEqual(emails.map((e) => messageIdFor(e.id, MAIL_FROM)).sort());
    expect(app.running).toBe(true);
  });
});
