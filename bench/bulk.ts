import 'reflect-metadata';
import { Client } from 'pg';
import { createDataSource } from '../src/db/data-source';
import { withTransaction } from '../src/db/transaction';
import { SYSTEM } from '../src/modules/audit';
import { createApiToken, createUser } from '../src/modules/auth';
import { BenchContext, BenchRow, BenchSuite, rssRow, startServer } from './lib';

/**
 * Bulk decisions (issue 16): one `POST /api/v1/notices/bulk` rejecting every pending notice of one
 * source by its filter (1,000 notices, so a durable job run by the server's bulk-jobs worker), timed
 * from the request to the job's `done` as `GET /api/v1/jobs/:id` reports it. Each notice is claimed
 * and rejected in its own transactions, with its audit events and its outbox email; the figures are
 * checked against the rows afterwards. Goal ≤ 20 s.
 */
const NOTICES = Number(process.env.BENCH_BULK_NOTICES ?? 1_000);
const PASSWORD = 'bench-password-long-enough-0123';

async function generate(ctx: BenchContext): Promise<string> {
  const c = new Client({ connectionString: ctx.databaseUrl });
  await c.connect();
  try {
    const [{ id }] = (
      await c.query(
        `INSERT INTO sources (name, domains, contact_email) VALUES ('Bulk Vendor', '{bulk.example}', 'editor@bulk.example') RETURNING id`,
      )
    ).rows;
    await c.query(
      `INSERT INTO items (source_id, slug, title, original_url, original_url_normalised, guid, first_fetched_at, last_fetched_at, listed_at, raw_sha256, content, excerpt)
       SELECT $1, 'bulk-item-' || g, 'Bulk article ' || g, 'https://bulk.example/posts/' || g, 'https://bulk.example/posts/' || g, 'bulk-guid-' || g,
              now(), now(), now(), md5(g::text) || md5(g::text), '<p>x</p>', 'x'
         FROM generate_series(1, $2::int) g`,
      [id, NOTICES],
    );
    await c.query(
      `INSERT INTO notices (reference, status, name, organization, email, address, country, role, work_description, good_faith_statement, accuracy_statement,
                            statements_at, signature, submitted_at, channel, status_token_hash, flags, queued_at, due_at, version)
       SELECT 'TD-7' || lpad(g::text, 7, '0'), 'pending', 'Complainant ' || g, 'Vendor Rights', 'c' || g || '@rights.example', 'Somewhere 1', 'US', 'owner',
              'A work', 'good faith', 'accuracy', now(), 'Complainant ' || g, now() - g * interval '1 second', 'api', md5(g::text) || md5(g::text),
              '[]'::jsonb, now(), now() + interval '48 hours' - g * interval '1 second', 1
         FROM generate_series(1, $1::int) g`,
      [NOTICES],
    );
    // References of their own ('TD-7…', as the live and dashboard suites use 'TD-8…' and 'TD-9…'): a full
    // `npm run bench` runs every suite on one database, after the review suite's 'TD-0000001'…
    await c.query(
      `INSERT INTO notice_targets (notice_id, position, url, normalised_url, item_id, outcome)
       SELECT n.id, 1, 'http://127.0.0.1/items/bulk-item-' || g, 'http://127.0.0.1/items/bulk-item-' || g, i.id, 'pending'
         FROM generate_series(1, $1::int) g
         JOIN notices n ON n.reference = 'TD-7' || lpad(g::text, 7, '0')
         JOIN items i ON i.slug = 'bulk-item-' || g`,
      [NOTICES],
    );
    await c.query('VACUUM ANALYZE notices, notice_targets, items');
    ctx.log(`${NOTICES.toLocaleString('en-US')} pending notices of one source`);
    return id;
  } finally {
    await c.end();
  }
}

export const bulkSuite: BenchSuite = {
  name: 'bulk',
  async run(ctx) {
    const sourceId = await generate(ctx);
    const db = createDataSource(ctx.databaseUrl, { poolSize: 2 });
    await db.initialize();
    const { user } = await withTransaction(db, (tx) =>
      createUser(tx, {
        at: new Date(),
        actor: SYSTEM,
        email: 'bench-bulk@desk.example',
        name: 'Bench Bulk',
        role: 'moderator',
        password: PASSWORD,
      }),
    );
    const { token } = await withTransaction(db, (tx) => createApiToken(tx, { at: new Date(), actor: SYSTEM, user, name: 'bench' }));

    const app = await startServer({ DATABASE_URL: ctx.databaseUrl, SESSION_SECRET: 'bench-session-secret-0123456789abcdef' });
    const rows: BenchRow[] = [];
    try {
      const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
      const started = Date.now();
      const res = await fetch(`${app.url}/api/v1/notices/bulk`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          action: 'reject',
          filter: { source: sourceId, status: 'pending' },
          reason: 'Benchmark: licensed by the feed.',
        }),
      });
      if (res.status !== 202) throw new Error(`POST /api/v1/notices/bulk answered ${res.status}: ${await res.text()}`);
      const { id, total } = (await res.json()) as { id: string; total: number };
      const accepted = Date.now() - started;
      let job: { status: string; done: number; results: { ok: boolean }[] };
      for (;;) {
        job = (await (await fetch(`${app.url}/api/v1/jobs/${id}`, { headers: auth })).json()) as typeof job;
        if (job.status === 'done' || job.status === 'failed') break;
        if (Date.now() - started > 300_000) throw new Error(`bulk job still ${job.status} after 300 s (${job.done}/${total})`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const seconds = (Date.now() - started) / 1000;
      const [check] = await db.query(
        // Only this suite's notices (TD-7 and seven digits): a full run shares its database with the review suite's decisions.
        `SELECT (SELECT count(*)::int FROM notices WHERE status = 'rejected' AND reference LIKE 'TD-7_______') AS rejected,
                (SELECT count(*)::int FROM audit_events WHERE action = 'notice.rejected' AND subject_id LIKE 'TD-7_______') AS events,
                (SELECT count(*)::int FROM outbound_emails e JOIN notices n ON n.id = e.notice_id
                  WHERE e.template = 'notice-rejected' AND n.reference LIKE 'TD-7_______') AS emails`,
      );
      const ok = job.results.filter((r) => r.ok).length;
      rows.push({
        name: `bulk reject of ${total.toLocaleString('en-US')} notices (filter; claim + reject each, with audit events and email), request to job done`,
        value: Number(seconds.toFixed(1)),
        unit: 's',
        goal: '≤ 20 s',
        ok: seconds <= 20 && job.status === 'done' && ok === NOTICES && check.rejected === NOTICES && check.emails === NOTICES,
        note: `${job.status}; ${ok} ok; ${Math.round(NOTICES / seconds)} notices/s; 202 after ${accepted} ms; rows: ${check.rejected} rejected, ${check.events} notice.rejected events, ${check.emails} emails queued`,
      });
    } finally {
      await app.stop();
      await db.destroy();
    }
    rows.push(rssRow('a bulk rejection of 1,000 notices (whole suite)', app.rss.peak()));
    return rows;
  },
};
