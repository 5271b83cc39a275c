import 'reflect-metadata';
import { Client } from 'pg';
import { createDataSource } from '../src/db/data-source';
import { createSubmitterToken } from '../src/modules/submitters';
import { BenchContext, BenchRow, BenchSuite, cpuMeter, ensureBenchItems, load, postmasterPid, rssRow, startServer } from './lib';

/**
 * Rights holders' figures (issue 17, SPEC §14):
 *  (1) a batch of 100,000 URLs in 1,000 works against 1,000,000 items, end to end: from the
 *      `POST /api/v1/batches` (submitter token) to `GET /api/v1/batches/:id` saying `done`, the job
 *      running in the server as it does in production — goal ≥ 5,000 URLs/s;
 *  (2) `GET /portal` (first page, a real portal session from the emailed link) for a submitter with
 *      10,000 notices — goal p95 ≤ 100 ms.
 * BENCH_ITEMS, BENCH_BATCH_WORKS and BENCH_BATCH_URLS_PER_WORK make it smaller for a quick look.
 */
const ITEMS = Number(process.env.BENCH_ITEMS ?? 1_000_000);
const WORKS = Number(process.env.BENCH_BATCH_WORKS ?? 1_000);
const PER_WORK = Number(process.env.BENCH_BATCH_URLS_PER_WORK ?? 100);
const LIST_NOTICES = Number(process.env.BENCH_PORTAL_NOTICES ?? 10_000);
const BATCHER = 'batcher@bench-rights.example';
const LISTER = 'lister@bench-rights.example';

async function generate(ctx: BenchContext): Promise<void> {
  const c = new Client({ connectionString: ctx.databaseUrl });
  await c.connect();
  const started = Date.now();
  const took = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  try {
    await ensureBenchItems(c, ITEMS);
    await c.query('VACUUM ANALYZE items');
    ctx.log(`${ITEMS.toLocaleString('en-US')} items (${took()})`);
    // Two submitters with a profile and standing statements (what the portal would have saved).
    for (const email of [BATCHER, LISTER]) {
      const [{ id }] = (
        await c.query(
          `INSERT INTO submitters (email, email_verified_at, name, organization, role, address, country)
           VALUES ($1, now(), 'Bench Rights', 'Bench Rights Ltd', 'owner', '1 Bench Street, Benchtown', 'GB') RETURNING id`,
          [email],
        )
      ).rows;
      await c.query(
        `INSERT INTO standing_statements (submitter_id, version, good_faith_statement, accuracy_statement, signature, made_at)
         VALUES ($1, 1, 'good faith', 'accuracy', 'Bench Rights', now())`,
        [id],
      );
    }
    // The lister's 10,000 notices, decided in a mix of ways, one target each.
    await c.query(
      `INSERT INTO notices (reference, status, name, organization, email, address, country, role, work_description, good_faith_statement, accuracy_statement,
                            statements_at, signature, submitted_at, channel, status_token_hash, flags, queued_at, due_at, version, email_verified_at)
       SELECT 'TD-9' || lpad(g::text, 6, '0'),
              CASE WHEN g % 5 = 0 THEN 'rejected' WHEN g % 3 = 0 THEN 'pending' ELSE 'approved' END,
              'Bench Rights', 'Bench Rights Ltd', $2, '1 Bench Street', 'GB', 'owner', 'Work number ' || g, 'good faith', 'accuracy',
              now() - g * interval '1 minute', 'Bench Rights', now() - g * interval '1 minute', 'api', md5(g::text) || md5(g::text), '[]'::jsonb,
              now() - g * interval '1 minute', now() - g * interval '1 minute' + interval '48 hours', 1, now() - g * interval '1 minute'
         FROM generate_series(1, $1::int) g`,
      [LIST_NOTICES, LISTER],
    );
    await c.query(
      `INSERT INTO notice_targets (notice_id, position, url, normalised_url, item_id, outcome)
       SELECT n.id, 1, 'http://127.0.0.1/items/bench-item-' || g, 'http://127.0.0.1/items/bench-item-' || g, i.id,
              CASE n.status WHEN 'approved' THEN 'removed' WHEN 'rejected' THEN 'kept' ELSE 'pending' END
         FROM generate_series(1, $1::int) g
         JOIN notices n ON n.reference = 'TD-9' || lpad(g::text, 6, '0')
         JOIN items i ON i.slug = 'bench-item-' || g`,
      [LIST_NOTICES],
    );
    await c.query('VACUUM ANALYZE notices, notice_targets, submitters');
    ctx.log(`2 submitters, ${LIST_NOTICES.toLocaleString('en-US')} notices for the portal list (${took()})`);
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
const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1];

/** A portal session through the real forms: ask for a link, read it from the outbox (no SMTP here), use it. */
async function portalSession(url: string, c: Client, email: string): Promise<string> {
  const jar = new Map<string, string>();
  const form = await fetch(`${url}/portal/login`);
  keep(jar, form);
  const asked = await fetch(`${url}/portal/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookieHeader(jar) },
    body: new URLSearchParams({ _csrf: csrfIn(await form.text()), email }).toString(),
  });
  keep(jar, asked);
  const [{ link }] = (
    await c.query(`SELECT data->>'signInUrl' AS link FROM outbound_emails WHERE "to" = $1 ORDER BY created_at DESC LIMIT 1`, [email])
  ).rows;
  const page = await fetch(link, { headers: { Cookie: cookieHeader(jar) } });
  keep(jar, page);
  const res = await fetch(`${url}/portal/login/link`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookieHeader(jar) },
    body: new URLSearchParams({ _csrf: csrfIn(await page.text()), token: new URL(link).searchParams.get('token')! }).toString(),
  });
  if (res.status !== 303) throw new Error(`portal sign-in failed: ${res.status}`);
  keep(jar, res);
  return cookieHeader(jar);
}

export const batchesSuite: BenchSuite = {
  name: 'batches',
  async run(ctx) {
    await generate(ctx);
    const db = createDataSource(ctx.databaseUrl, { poolSize: 2 });
    await db.initialize();
    const [{ id: batcherId }] = await db.query(`SELECT id FROM submitters WHERE email = $1`, [BATCHER]);
    const { token } = await createSubmitterToken(
      { db, clock: { now: () => new Date() } },
      { submitterId: batcherId, name: 'bench', context: {} },
    );
    await db.destroy();
    const server = await startServer({
      DATABASE_URL: ctx.databaseUrl,
      SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
      INTAKE_PER_HOUR: '1000000',
      SENDER_BURST: '10000',
    });
    const c = new Client({ connectionString: ctx.databaseUrl });
    await c.connect();
    const rows: BenchRow[] = [];
    try {
      // (1) 1,000 works × 100 URLs, every URL an item of the registry (spread over the million).
      const stride = Math.max(1, Math.floor(ITEMS / (WORKS * PER_WORK)));
      const works = Array.from({ length: WORKS }, (_, w) => ({
        description: `Bench work ${w + 1}`,
        originalUrls: [`https://rights.example/works/${w + 1}`],
        infringingUrls: Array.from(
          { length: PER_WORK },
          (_, u) => `${server.url}/items/bench-item-${((w * PER_WORK + u) * stride) % ITEMS || ITEMS}`,
        ),
      }));
      const urls = WORKS * PER_WORK;
      const cpu = cpuMeter(server.proc.pid!, await postmasterPid(c));
      const started = performance.now();
      const posted = await fetch(`${server.url}/api/v1/batches`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ works }),
      });
      if (posted.status !== 202) throw new Error(`batch not accepted: ${posted.status} ${await posted.text()}`);
      const { id } = (await posted.json()) as { id: string };
      let status = 'queued';
      let processed = 0;
      let lastLog = 0;
      while (status !== 'done' && status !== 'failed') {
        await new Promise((r) => setTimeout(r, 500));
        const s = (await (await fetch(`${server.url}/api/v1/batches/${id}`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
          status: string;
          processed: number;
        };
        status = s.status;
        processed = s.processed;
        if (performance.now() - lastLog > 15_000) {
          ctx.log(`batch ${status}: ${processed.toLocaleString('en-US')} of ${urls.toLocaleString('en-US')} URLs`);
          lastLog = performance.now();
        }
      }
      const seconds = (performance.now() - started) / 1000;
      const spent = cpu.stop();
      const cpuSeconds = spent.server + spent.postgres;
      const [{ n, t }] = (
        await c.query(
          `SELECT count(DISTINCT n.id)::int AS n, count(t.id)::int AS t FROM notices n JOIN notice_targets t ON t.notice_id = n.id WHERE n.email = $1`,
          [BATCHER],
        )
      ).rows;
      ctx.log(`batch ${status} in ${seconds.toFixed(1)} s: ${n} notices, ${t} targets`);
      ctx.log(
        `CPU: server ${spent.server.toFixed(1)} s + PostgreSQL ${spent.postgres.toFixed(1)} s = ${Math.round(urls / cpuSeconds)} URLs per CPU-second`,
      );
      const rate = Math.round(urls / seconds);
      rows.push({
        name: `batch of ${urls.toLocaleString('en-US')} URLs in ${WORKS.toLocaleString('en-US')} works (${ITEMS.toLocaleString('en-US')} items), end to end`,
        value: rate,
        unit: 'URLs/s',
        goal: '≥ 5,000 URLs/s',
        ok: status === 'done' && rate >= 5_000,
        note: `${seconds.toFixed(1)} s; ${status}; ${Math.round(urls / cpuSeconds).toLocaleString('en-US')} URLs per CPU-second (server ${spent.server.toFixed(0)} s, PostgreSQL ${spent.postgres.toFixed(0)} s)`,
      });

      // (2) The portal's list for a submitter with 10,000 notices.
      const cookie = await portalSession(server.url, c, LISTER);
      const check = await fetch(`${server.url}/portal`, { headers: { Cookie: cookie } });
      if (check.status !== 200 || !(await check.text()).includes('TD-9000001')) throw new Error(`portal list not shown: ${check.status}`);
      const r = await load({ url: `${server.url}/portal`, headers: { Cookie: cookie }, connections: 10, duration: 5 });
      rows.push({
        name: `GET /portal (first page, ${LIST_NOTICES.toLocaleString('en-US')} notices of the submitter), p95`,
        value: r.p95,
        unit: 'ms',
        goal: '≤ 100 ms',
        ok: r.p95 <= 100 && r.non2xx === 0,
        note: `${r.rps} req/s, p50 ${r.p50} ms${r.non2xx ? `, ${r.non2xx} non-2xx` : ''}`,
      });
    } finally {
      await c.end();
      await server.stop();
    }
    rows.push(rssRow('a 100,000-URL batch and the portal (whole suite)', server.rss.peak()));
    return rows;
  },
};
