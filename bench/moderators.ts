import 'reflect-metadata';
import http from 'node:http';
import { Client } from 'pg';
import { createDataSource } from '../src/db/data-source';
import { withTransaction } from '../src/db/transaction';
import { SYSTEM } from '../src/modules/audit';
import { createApiToken, createUser, User } from '../src/modules/auth';
import { BenchRow, BenchSuite, load, rssRow, startServer } from './lib';
import { PASSWORD, signIn } from './review';

/**
 * Moderators at speed (issue 16):
 *  - `live`: 200 browsers on the live stream (`GET /live`), half on each of two app instances
 *    sharing one database; a moderator claims and releases a notice through the API on the first
 *    instance; each change must reach every stream — goal p95 ≤ 200 ms from the request's start
 *    (so the claim's own transaction is included) to the event's arrival;
 *  - `dashboard`: `GET /dashboard` with 1,000,000 notices (two years of decisions by ten
 *    moderators, 20,000 open, 10,000 counter-notices) — goal p95 ≤ 300 ms.
 */

const CLIENTS = Number(process.env.BENCH_LIVE_CLIENTS ?? 200);
const CHANGES = Number(process.env.BENCH_LIVE_CHANGES ?? 60);
const DASHBOARD_NOTICES = Number(process.env.BENCH_DASHBOARD_NOTICES ?? 1_000_000);

async function benchUser(databaseUrl: string, email: string, name: string): Promise<{ user: User; token: string }> {
  const db = createDataSource(databaseUrl, { poolSize: 2 });
  await db.initialize();
  try {
    const { user } = await withTransaction(db, (tx) =>
      createUser(tx, { at: new Date(), actor: SYSTEM, email, name, role: 'moderator', password: PASSWORD }),
    );
    const { token } = await withTransaction(db, (tx) => createApiToken(tx, { at: new Date(), actor: SYSTEM, user, name: 'bench' }));
    return { user, token };
  } finally {
    await db.destroy();
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** One event-stream client: calls `onNotice` with each `notice` event's data and the time it arrived. */
function stream(
  url: string,
  cookie: string,
  onNotice: (data: { ref: string; version: number }, at: number) => void,
): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { Accept: 'text/event-stream', Cookie: cookie } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET /live answered ${res.statusCode}`));
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        const at = performance.now();
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (block.startsWith('event: notice\n')) onNotice(JSON.parse(block.slice(block.indexOf('data: ') + 6)), at);
        }
      });
      res.on('error', () => undefined);
      resolve(req);
    });
    req.on('error', reject);
  });
}

export const liveSuite: BenchSuite = {
  name: 'live',
  async run(ctx) {
    const { token } = await benchUser(ctx.databaseUrl, 'bench-live@desk.example', 'Bench Live');
    const c = new Client({ connectionString: ctx.databaseUrl });
    await c.connect();
    const reference = 'TD-80000001';
    await c.query(
      `INSERT INTO notices (reference, status, name, email, address, country, role, work_description, good_faith_statement, accuracy_statement,
                            statements_at, signature, submitted_at, channel, status_token_hash, flags, queued_at, due_at, version)
       VALUES ($1::text, 'pending', 'C', 'c@x.example', 'A', 'US', 'owner', 'W', 'g', 'a', now(), 'C', now(), 'api', md5($1::text) || md5($1::text), '[]', now(), now() + interval '48 hours', 1)`,
      [reference],
    );
    await c.end();
    const env = {
      DATABASE_URL: ctx.databaseUrl,
      SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
      HTTP_MAX_CONNECTIONS_PER_ADDRESS: '0',
    };
    const [a, b] = await Promise.all([startServer(env), startServer(env)]);
    const requests: http.ClientRequest[] = [];
    try {
      const cookies = [await signIn(a.url, 'bench-live@desk.example'), await signIn(b.url, 'bench-live@desk.example')];
      // version → the time its change was requested, and the arrival times of its event.
      const started = new Map<number, number>();
      const arrivals = new Map<number, number[]>();
      for (let i = 0; i < CLIENTS; i++) {
        const onA = i % 2 === 0;
        requests.push(
          await stream(`${onA ? a.url : b.url}/live`, cookies[onA ? 0 : 1], (d, at) => {
            if (d.ref !== reference) return;
            let list = arrivals.get(d.version);
            if (!list) arrivals.set(d.version, (list = []));
            list.push(at);
          }),
        );
      }
      ctx.log(`${CLIENTS} streams open (${CLIENTS / 2} on each of two instances)`);
      await new Promise((r) => setTimeout(r, 1_000));
      const auth = { Authorization: `Bearer ${token}` };
      for (let k = 0; k < CHANGES; k++) {
        const version = k + 2; // each claim or release adds one to the notice's version
        started.set(version, performance.now());
        const res = await fetch(`${a.url}/api/v1/notices/${reference}/${k % 2 === 0 ? 'claim' : 'release'}`, {
          method: 'POST',
          headers: auth,
        });
        if (res.status !== 200) throw new Error(`${k % 2 === 0 ? 'claim' : 'release'} answered ${res.status}: ${await res.text()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 1_000));
      const latencies: number[] = [];
      let missing = 0;
      for (const [version, t0] of started) {
        const got = arrivals.get(version) ?? [];
        missing += CLIENTS - got.length;
        for (const at of got) latencies.push(at - t0);
      }
      latencies.sort((x, y) => x - y);
      const p95 = Math.round(percentile(latencies, 95));
      const row: BenchRow = {
        name: `live stream: a claim/release on instance A reaches ${CLIENTS} streams on two instances, p95`,
        value: p95,
        unit: 'ms',
        goal: '≤ 200 ms',
        ok: p95 <= 200 && missing === 0,
        note: `${CHANGES} changes, ${latencies.length} deliveries, ${missing} missing; p50 ${Math.round(percentile(latencies, 50))} ms, p99 ${Math.round(percentile(latencies, 99))} ms, max ${Math.round(latencies[latencies.length - 1])} ms; from the API request's start`,
      };
      return [
        row,
        rssRow(`live stream, ${CLIENTS} browsers on two instances (the higher of the two)`, Math.max(a.rss.peak(), b.rss.peak())),
      ];
    } finally {
      for (const r of requests) r.destroy();
      await Promise.all([a.stop(), b.stop()]);
    }
  },
};

/** A million notices: two years of decisions by ten moderators, the last 2% still open. */
async function generateNotices(databaseUrl: string, moderators: string[], log: (l: string) => void): Promise<void> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  const started = Date.now();
  try {
    const open = Math.round(DASHBOARD_NOTICES * 0.02);
    for (let from = 1; from <= DASHBOARD_NOTICES; from += 200_000) {
      const to = Math.min(DASHBOARD_NOTICES, from + 199_999);
      // Notice g was submitted (N − g) × 63 s ago (N = 1,000,000: two years); the newest `open` are open,
      // the rest decided 1–72 hours after submission by one of the moderators (or withdrawn, no moderator).
      await c.query(
        `INSERT INTO notices (reference, status, name, email, address, country, role, work_description, good_faith_statement, accuracy_statement,
                              statements_at, signature, submitted_at, channel, status_token_hash, flags, queued_at, due_at, decided_at, decided_by, decision, version)
         SELECT 'TD-9' || lpad(g::text, 7, '0'),
                CASE WHEN g > $3 - $4 THEN (CASE WHEN g % 10 = 0 THEN 'needs_info' WHEN g % 4 = 0 THEN 'in_review' ELSE 'pending' END)
                     WHEN g % 17 = 0 THEN 'withdrawn' WHEN g % 3 = 0 THEN 'approved' WHEN g % 29 = 0 THEN 'spam' ELSE 'rejected' END,
                'Complainant', 'c' || (g % 5000) || '@rights.example', 'Somewhere 1', 'US', 'owner', 'A work', 'g', 'a',
                s.at, 'Complainant', s.at, 'api', md5(g::text) || md5(g::text), '[]'::jsonb, s.at,
                CASE WHEN g > $3 - $4 AND g % 10 <> 0 THEN s.at + interval '48 hours' END,
                CASE WHEN g <= $3 - $4 THEN s.at + (1 + g % 72) * interval '1 hour' END,
                CASE WHEN g <= $3 - $4 AND g % 17 <> 0 THEN ($5::uuid[])[1 + g % array_length($5::uuid[], 1)] END,
                CASE WHEN g > $3 - $4 THEN NULL WHEN g % 17 = 0 THEN 'withdrawn' WHEN g % 3 = 0 THEN 'approved' WHEN g % 29 = 0 THEN 'spam' ELSE 'rejected' END,
                1
           FROM generate_series($1::int, $2::int) g, LATERAL (SELECT now() - ($3 - g) * interval '63 seconds' AS at) s`,
        [from, to, DASHBOARD_NOTICES, open, moderators],
      );
    }
    // 10,000 counter-notices on approved notices, a third of them restored 10 days later.
    await c.query(
      `INSERT INTO counter_notices (notice_id, status, urls, item_ids, name, email, phone, address, country, mistake_statement, consent_statement,
                                    statements_at, signature, channel, received_at, restore_after, restored_at)
       SELECT n.id, CASE WHEN k % 3 = 0 THEN 'restored' ELSE 'received' END, '{}', '{}', 'S', 's@x.example', '1', 'A', 'US', 'm', 'c',
              n.decided_at + interval '1 day', 'S', 'api', n.decided_at + interval '1 day', n.decided_at + interval '15 days',
              CASE WHEN k % 3 = 0 THEN n.decided_at + interval '11 days' END
         FROM (SELECT id, decided_at, row_number() OVER () AS k FROM notices WHERE decision = 'approved' AND reference LIKE 'TD-9%' LIMIT 10000) n`,
    );
    await c.query('VACUUM ANALYZE notices, counter_notices');
    log(
      `${DASHBOARD_NOTICES.toLocaleString('en-US')} notices and 10,000 counter-notices (${((Date.now() - started) / 1000).toFixed(0)} s)`,
    );
  } finally {
    await c.end();
  }
}

export const dashboardSuite: BenchSuite = {
  name: 'dashboard',
  async run(ctx) {
    const me = await benchUser(ctx.databaseUrl, 'bench-dashboard@desk.example', 'Bench Dashboard');
    const others = [];
    for (let i = 1; i < 10; i++) others.push((await benchUser(ctx.databaseUrl, `bench-mod-${i}@desk.example`, `Moderator ${i}`)).user.id);
    await generateNotices(ctx.databaseUrl, [me.user.id, ...others], ctx.log);
    const app = await startServer({ DATABASE_URL: ctx.databaseUrl, SESSION_SECRET: 'bench-session-secret-0123456789abcdef' });
    const rows: BenchRow[] = [];
    try {
      const cookie = await signIn(app.url, 'bench-dashboard@desk.example');
      // The first request computes the figures (nothing cached yet): its time is the cost of a refresh.
      const coldStart = performance.now();
      const check = await fetch(`${app.url}/dashboard`, { headers: { Cookie: cookie } });
      const html = await check.text();
      if (check.status !== 200 || !html.includes('Team dashboard')) throw new Error(`GET /dashboard answered ${check.status}`);
      const cold = Math.round(performance.now() - coldStart);
      const decisions = /<dt>Decisions \(30 days\)<\/dt><dd>(\d+)<\/dd>/.exec(html)?.[1];
      const headers = { Cookie: cookie };
      await load({ url: `${app.url}/dashboard`, headers, duration: 3, connections: 2 });
      for (const connections of [1, 4]) {
        const r = await load({ url: `${app.url}/dashboard`, headers, duration: 10, connections });
        rows.push({
          name: `GET /dashboard p95, ${DASHBOARD_NOTICES.toLocaleString('en-US')} notices (${decisions} decisions in its 30 days), ${connections} connection(s)`,
          value: r.p95,
          unit: 'ms',
          goal: '≤ 300 ms',
          ok: r.p95 <= 300 && r.non2xx === 0 && r.errors === 0,
          note: `${r.rps} req/s, p50 ${r.p50} ms${r.non2xx ? `, ${r.non2xx} non-2xx` : ''}; figures refreshed every 30 s, the first (uncached) request took ${cold} ms`,
        });
      }
    } finally {
      await app.stop();
    }
    rows.push(rssRow('GET /dashboard with 1,000,000 notices (whole suite)', app.rss.peak()));
    return rows;
  },
};
