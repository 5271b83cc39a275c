import { readFileSync } from 'node:fs';
import http from 'node:http';
import { DataSource } from 'typeorm';
import { createDataSource } from '../src/db/data-source';
import { withTransaction } from '../src/db/transaction';
import { createApiToken, createUser } from '../src/modules/auth';
import { eventHash, GENESIS_HASH } from '../src/modules/audit/hash-chain';
import { BenchRow, BenchSuite, load, rssRow, startServer } from './lib';

const EVENTS = 1_000_000;
const BATCH = 10_000;
const GOAL_ROWS_PER_SECOND = 50_000;
const ACTIONS = [
  'notice.submitted',
  'notice.claimed',
  'notice.approved',
  'item.removed',
  'email.sent',
  'user.logged_in',
  'source.items_imported',
];

/**
 * Writes `n` already-sealed events quickly: the chain is computed here with the production hash
 * function and the rows are inserted as the database owner with the append-only trigger off
 * (what a restore would do). Sealing 1,000,000 rows through the sealer would take minutes and is
 * not what this suite measures.
 */
async function writeSealedEvents(db: DataSource, n: number, log: (l: string) => void) {
  const [last] = await db.query(
    'SELECT sequence::text AS sequence, hash FROM audit_events WHERE sequence IS NOT NULL ORDER BY audit_events.sequence DESC LIMIT 1',
  );
  let seq = last ? BigInt(last.sequence) : 0n;
  let prev: string = last?.hash ?? GENESIS_HASH;
  const start = Date.now() - n * 1000;
  for (let b = 0; b < n; b += BATCH) {
    const cols: unknown[][] = Array.from({ length: 12 }, () => []);
    for (let i = b; i < Math.min(n, b + BATCH); i++) {
      seq += 1n;
      const row = {
        sequence: seq.toString(),
        occurred_at: new Date(start + i * 1000),
        actor_type: i % 3 === 0 ? 'public' : 'system',
        actor_id: null,
        actor_label: i % 3 === 0 ? 'public' : 'bench-writer',
        action: ACTIONS[i % ACTIONS.length],
        subject_type: 'notice',
        subject_id: `TD-${String(i % 200_000).padStart(6, '0')}`,
        details: { i, before: { status: 'pending' }, after: { status: 'in_review' }, note: `a note, with "quotes" and a comma ${i}` },
        ip: `198.51.100.${i % 250}`,
        request_id: `bench-${i}`,
      };
      const hash = eventHash(prev, row);
      const values = [
        row.sequence,
        row.occurred_at,
        row.actor_type,
        row.actor_label,
        row.action,
        row.subject_type,
        row.subject_id,
        JSON.stringify(row.details),
        row.ip,
        row.request_id,
        prev,
        hash,
      ];
      values.forEach((v, k) => cols[k].push(v));
      prev = hash;
    }
    await db.transaction(async (tx) => {
      await tx.query('SET LOCAL session_replication_role = replica');
      await tx.query(
        `INSERT INTO audit_events (sequence, occurred_at, actor_type, actor_label, action, subject_type, subject_id, details, ip, request_id, prev_hash, hash)
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::varchar[], $8::jsonb[], $9::varchar[], $10::varchar[], $11::char(64)[], $12::char(64)[])`,
        cols,
      );
    });
    if ((b / BATCH) % 20 === 0) log(`wrote ${b + BATCH} events`);
  }
  await db.query('ANALYZE audit_events');
}

/** The resident set of a process, from /proc (Linux). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Downloads an export, discarding it; the server's RSS is sampled every 50 ms meanwhile. */
function download(
  url: string,
  token: string,
  pid: number,
): Promise<{ lines: number; bytes: number; seconds: number; rssBefore: number; rssPeak: number }> {
  const rssBefore = rssOf(pid);
  let rssPeak = rssBefore;
  const timer = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssOf(pid));
  }, 50);
  const t0 = process.hrtime.bigint();
  let lines = 0;
  let bytes = 0;
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { Authorization: `Bearer ${token}` } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`export answered ${res.statusCode}`));
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lines++;
        });
        res.on('end', () => {
          clearInterval(timer);
          resolve({ lines, bytes, seconds: Number(process.hrtime.bigint() - t0) / 1e9, rssBefore, rssPeak: Math.max(rssPeak, rssOf(pid)) });
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

const MB = 1024 * 1024;

/**
 * Audit (issue 8): CSV and JSON Lines export of 1,000,000 events through the built server (rows/s,
 * and the server's peak RSS over its RSS before the export: flat means independent of the row
 * count), and `GET /api/v1/audit` (the same query as the `/audit` page) p95 over 1,000,000 events.
 */
export const auditSuite: BenchSuite = {
  name: 'audit',
  async run(ctx) {
    const db = createDataSource(ctx.databaseUrl, { poolSize: 4 });
    await db.initialize();
    const rows: BenchRow[] = [];
    let token: string;
    try {
      const [{ n }] = await db.query('SELECT count(*)::int AS n FROM audit_events');
      const t0 = Date.now();
      if (n < EVENTS) await writeSealedEvents(db, EVENTS - n, ctx.log);
      ctx.log(`${EVENTS.toLocaleString('en-US')} events ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      ({ token } = await withTransaction(db, async (tx) => {
        const { user } = await createUser(tx, {
          at: new Date(),
          actor: { type: 'system' },
          email: `bench-admin-${Date.now()}@bench.test`,
          name: 'Bench admin',
          role: 'admin',
          password: 'bench-password-0123456789',
        });
        return createApiToken(tx, { at: new Date(), actor: { type: 'system' }, user, name: 'bench' });
      }));
    } finally {
      await db.destroy();
    }

    const app = await startServer({ DATABASE_URL: ctx.databaseUrl, SESSION_SECRET: 'bench-session-secret-0123456789abcdef' });
    try {
      const pid = app.proc.pid!;
      for (const format of ['csv', 'jsonl'] as const) {
        const r = await download(`${app.url}/api/v1/audit/export?format=${format}`, token, pid);
        const events = r.lines - (format === 'csv' ? 1 : 0);
        const rate = Math.round(events / r.seconds);
        const growth = (r.rssPeak - r.rssBefore) / MB;
        ctx.log(
          `${format}: ${events} events, ${(r.bytes / MB).toFixed(0)} MB in ${r.seconds.toFixed(1)} s; RSS ${(r.rssBefore / MB).toFixed(0)} → peak ${(r.rssPeak / MB).toFixed(0)} MB`,
        );
        rows.push(
          {
            name: `audit: ${format.toUpperCase()} export of ${EVENTS.toLocaleString('en-US')} events`,
            value: rate,
            unit: 'rows/s',
            goal: `≥ ${GOAL_ROWS_PER_SECOND.toLocaleString('en-US')} rows/s`,
            ok: events >= EVENTS && rate >= GOAL_ROWS_PER_SECOND,
            note: `${(r.bytes / MB).toFixed(0)} MB in ${r.seconds.toFixed(1)} s`,
          },
          {
            name: `audit: server RSS growth during the ${format.toUpperCase()} export`,
            value: Number(growth.toFixed(1)),
            unit: 'MB',
            goal: '≤ 64 MB (flat: one 2,000-row batch at a time)',
            ok: growth <= 64,
            note: `peak ${(r.rssPeak / MB).toFixed(0)} MB`,
          },
        );
      }

      const headers = { Authorization: `Bearer ${token}` };
      const [mid] = await (async () => {
        const d = createDataSource(ctx.databaseUrl, { poolSize: 1 });
        await d.initialize();
        try {
          return await d.query('SELECT (max(id) / 2)::text AS id FROM audit_events');
        } finally {
          await d.destroy();
        }
      })();
      const cases: [string, string][] = [
        ['newest page', '/api/v1/audit'],
        ['by action', '/api/v1/audit?action=notice.approved'],
        ['by subject (notice)', '/api/v1/audit?subject=TD-012345'],
        ['deep page (cursor mid-table)', `/api/v1/audit?after=${mid.id}`],
        ['date range', '/api/v1/audit?from=2000-01-01&to=2100-01-01&action=item.*'],
      ];
      for (const [label, path] of cases) {
        const r = await load({ url: `${app.url}${path}`, headers, connections: 10, duration: 5 });
        ctx.log(`GET ${path}: ${r.rps} req/s, p95 ${r.p95} ms, non-2xx ${r.non2xx}, errors ${r.errors}`);
        rows.push({
          name: `audit: GET /api/v1/audit p95, ${label}, 1M events (10 connections)`,
          value: r.p95,
          unit: 'ms',
          goal: '≤ 100 ms',
          ok: r.p95 <= 100 && r.non2xx === 0 && r.errors === 0,
          note: `${r.rps} req/s`,
        });
      }
    } finally {
      await app.stop();
    }
    rows.push(rssRow('audit exports and search (whole suite)', app.rss.peak()));
    return rows;
  },
};
