import 'reflect-metadata';
import { Client } from 'pg';
import { createDataSource } from '../src/db/data-source';
import { withTransaction } from '../src/db/transaction';
import { SYSTEM } from '../src/modules/audit';
import { createApiToken, createUser } from '../src/modules/auth';
import { BenchContext, BenchRow, BenchSuite, ensureBenchItems, load, rssRow, startServer } from './lib';

/**
 * The review queue's figures (issue 6):
 *  (1) GET /queue (first page, signed in through the real login form) with 100,000 open notices
 *      and 1,000,000 items — goal p95 ≤ 50 ms;
 *  (2) decisions per second through the API (`POST /api/v1/notices/:ref/decision`), each its own
 *      transaction with the row lock, audit event and outbox email.
 */
const ITEMS = Number(process.env.BENCH_ITEMS ?? 1_000_000);
const NOTICES = Number(process.env.BENCH_NOTICES ?? 100_000);
export const PASSWORD = 'bench-password-long-enough-0123';

async function generate(ctx: BenchContext): Promise<void> {
  const c = new Client({ connectionString: ctx.databaseUrl });
  await c.connect();
  const started = Date.now();
  const took = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  try {
    await ensureBenchItems(c, ITEMS);
    ctx.log(`${ITEMS.toLocaleString('en-US')} items (${took()})`);
    // Open notices: 80% pending, 15% in review, 5% needs_info; due times spread so ~10% are overdue.
    await c.query(
      `INSERT INTO notices (reference, status, name, organization, email, address, country, role, work_description, good_faith_statement, accuracy_statement,
                            statements_at, signature, submitted_at, channel, status_token_hash, flags, queued_at, due_at, version)
       SELECT 'TD-' || lpad(g::text, 7, '0'),
              CASE WHEN g % 20 = 0 THEN 'needs_info' WHEN g % 7 = 0 THEN 'in_review' ELSE 'pending' END,
              'Complainant ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'Rights Org ' || (g % 500) END, 'c' || g || '@rights.example', 'Somewhere 1', 'US', 'owner',
              'A work', 'good faith', 'accuracy', now() - g * interval '5 seconds', 'Complainant ' || g, now() - g * interval '5 seconds', 'api', md5(g::text) || md5(g::text),
              CASE WHEN g % 11 = 0 THEN '[{"code":"duplicate","reason":"Duplicate of an open notice"}]'::jsonb ELSE '[]'::jsonb END,
              now() - g * interval '5 seconds', now() - g * interval '5 seconds' + interval '48 hours', 1
         FROM generate_series(1, $1::int) g`,
      [NOTICES],
    );
    await c.query(`SELECT setval('notice_reference_seq', $1)`, [NOTICES + 1]);
    await c.query(
      `INSERT INTO notice_targets (notice_id, position, url, normalised_url, item_id, outcome)
       SELECT n.id, 1, 'http://127.0.0.1/items/bench-item-' || g, 'http://127.0.0.1/items/bench-item-' || g, i.id, 'pending'
         FROM generate_series(1, $1::int) g
         JOIN notices n ON n.reference = 'TD-' || lpad(g::text, 7, '0')
         JOIN items i ON i.slug = 'bench-item-' || g`,
      [NOTICES],
    );
    await c.query('VACUUM ANALYZE notices, notice_targets, items');
    ctx.log(`${NOTICES.toLocaleString('en-US')} open notices with their targets (${took()})`);
  } finally {
    await c.end();
  }
}

/** Cookies of a fetch answer, merged into a jar. */
function keep(jar: Map<string, string>, res: Response) {
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    jar.set(pair.slice(0, i), pair.slice(i + 1));
  }
}
const cookieHeader = (jar: Map<string, string>) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

/** Signs in through the real login form and returns the Cookie header. */
export async function signIn(url: string, email: string): Promise<string> {
  const jar = new Map<string, string>();
  const page = await fetch(`${url}/login`);
  keep(jar, page);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
  const res = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookieHeader(jar) },
    body: new URLSearchParams({ _csrf: csrf, email, password: PASSWORD, next: '/queue' }).toString(),
  });
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
  keep(jar, res);
  return cookieHeader(jar);
}

export const reviewSuite: BenchSuite = {
  name: 'review',
  async run(ctx) {
    await generate(ctx);
    const db = createDataSource(ctx.databaseUrl, { poolSize: 2 });
    await db.initialize();
    const { user } = await withTransaction(db, (tx) =>
      createUser(tx, {
        at: new Date(),
        actor: SYSTEM,
        email: 'bench-mod@desk.example',
        name: 'Bench Moderator',
        role: 'admin',
        password: PASSWORD,
      }),
    );
    const { token } = await withTransaction(db, (tx) => createApiToken(tx, { at: new Date(), actor: SYSTEM, user, name: 'bench' }));
    // Decisions need claimed notices: the in-review ones are given to the bench user.
    await db.query(`UPDATE notices SET assignee_id = $1 WHERE status = 'in_review'`, [user.id]);
    const claimed: string[] = (await db.query(`SELECT reference FROM notices WHERE status = 'in_review' ORDER BY reference`)).map(
      (r: { reference: string }) => r.reference,
    );
    await db.destroy();

    const app = await startServer({ DATABASE_URL: ctx.databaseUrl, SESSION_SECRET: 'bench-session-secret-0123456789abcdef' });
    const rows: BenchRow[] = [];
    try {
      const cookie = await signIn(app.url, 'bench-mod@desk.example');
      const check = await fetch(`${app.url}/queue`, { headers: { Cookie: cookie } });
      if (check.status !== 200 || !(await check.text()).includes('Review queue')) throw new Error(`GET /queue answered ${check.status}`);
      const headers = { Cookie: cookie };
      await load({ url: `${app.url}/queue`, headers, duration: 3, connections: 4 });
      for (const connections of [1, 4]) {
        const r = await load({ url: `${app.url}/queue`, headers, duration: 10, connections });
        rows.push({
          name: `GET /queue p95, ${NOTICES.toLocaleString('en-US')} open notices, ${ITEMS.toLocaleString('en-US')} items, ${connections} connection(s)`,
          value: r.p95,
          unit: 'ms',
          goal: '≤ 50 ms',
          ok: r.p95 <= 50 && r.non2xx === 0 && r.errors === 0,
          note: `${r.rps} req/s, p50 ${r.p50} ms${r.non2xx ? `, ${r.non2xx} non-2xx` : ''}`,
        });
      }
      const filtered = await load({ url: `${app.url}/queue?status=pending&flag=duplicate`, headers, duration: 5, connections: 4 });
      rows.push({
        name: 'GET /queue?status=pending&flag=duplicate p95, 4 connections',
        value: filtered.p95,
        unit: 'ms',
        goal: '≤ 50 ms',
        ok: filtered.p95 <= 50 && filtered.non2xx === 0,
        note: `${filtered.rps} req/s`,
      });

      // Decisions: each request takes the next claimed notice and rejects it.
      let next = 0;
      const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
      const body = JSON.stringify({ action: 'reject', reason: 'Benchmark rejection: the work is not identified.' });
      const d = await load({
        url: app.url,
        duration: 5,
        connections: 8,
        requests: [
          {
            method: 'POST',
            headers: auth,
            body,
            setupRequest: (req: Record<string, unknown>) => ({
              ...req,
              path: `/api/v1/notices/${claimed[next++ % claimed.length]}/decision`,
            }),
          },
        ] as never,
      });
      rows.push({
        name: 'decisions (reject) through the API, 8 connections',
        value: d.rps,
        unit: 'req/s',
        note: `p95 ${d.p95} ms; ${d.non2xx} non-2xx of ${next} sent (${claimed.length.toLocaleString('en-US')} claimed notices available)`,
      });
    } finally {
      await app.stop();
    }
    rows.push(rssRow('the review queue and decisions (whole suite)', app.rss.peak()));
    return rows;
  },
};
