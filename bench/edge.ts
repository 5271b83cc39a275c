import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDataSource } from '../src/db/data-source';
import { withTransaction } from '../src/db/transaction';
import { removeItems } from '../src/modules/items';
import { BenchContext, BenchRow, BenchSuite, rssRow, startServer } from './lib';

/**
 * Edge purge latency (issue 18, SPEC §16: "a removal reaches every purge endpoint within 1 s"):
 * the built server runs with three purge targets — a Varnish-style PURGE endpoint, Fastly's and
 * Cloudflare's APIs — all local stand-ins that note when each key arrives. This process removes
 * items one by one (each in its own transaction, as a decision does) and measures, per removal,
 * the start of its transaction → the item's key received by the last of the three endpoints.
 */
const REMOVALS = Number(process.env.BENCH_PURGES ?? 300);
const ZONE = '0123456789abcdef0123456789abcdef';

async function standIn() {
  const waiting = new Map<string, { left: Set<string>; done: (at: number) => void }>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const target = (req.url ?? '').split('/')[1];
      const body = Buffer.concat(chunks).toString();
      const keys = target === 'cf' ? (JSON.parse(body).tags as string[]) : String(req.headers['surrogate-key'] ?? '').split(' ');
      for (const k of keys) {
        const w = waiting.get(k);
        if (!w) continue;
        w.left.delete(target);
        if (!w.left.size) {
          waiting.delete(k);
          w.done(at);
        }
      }
      res.setHeader('Content-Type', 'application/json');
      res.end('{"success":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    /** Resolves (performance.now()) when every target has received the key. */
    expect: (key: string) => new Promise<number>((done) => waiting.set(key, { left: new Set(['varnish', 'fastly', 'cf']), done })),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

export const edgeSuite: BenchSuite = {
  name: 'edge',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const sink = await standIn();
    const db = createDataSource(ctx.databaseUrl, { poolSize: 2 });
    await db.initialize();
    const [{ id: sourceId }] = await db.query(`INSERT INTO sources (name, domains) VALUES ('Edge Bench', '{edge.example}') RETURNING id`);
    const ids: { id: string }[] = await db.query(
      `INSERT INTO items (source_id, slug, title, original_url, original_url_normalised, guid, first_fetched_at, last_fetched_at, listed_at, raw_sha256, content, excerpt)
       SELECT $1, 'edge-item-' || g, 'Edge item ' || g, 'https://edge.example/' || g, 'https://edge.example/' || g, 'edge-' || g, now(), now(), now(), md5(g::text) || md5(g::text), '<p>x</p>', 'x'
       FROM generate_series(1, $2::int) g RETURNING id`,
      [sourceId, REMOVALS],
    );
    const app = await startServer({
      DATABASE_URL: ctx.databaseUrl,
      SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
      PURGE_URLS: `${sink.url}/varnish/`,
      FASTLY_SERVICE_ID: 'benchservice',
      FASTLY_API_TOKEN: 'bench-fastly-token',
      FASTLY_API_URL: `${sink.url}/fastly`,
      CLOUDFLARE_ZONE_ID: ZONE,
      CLOUDFLARE_API_TOKEN: 'bench-cloudflare-token',
      CLOUDFLARE_API_URL: `${sink.url}/cf`,
    });
    const latencies: number[] = [];
    let rssPeak: number;
    try {
      // Let the server's worker connect its LISTEN client before the first removal.
      await new Promise((r) => setTimeout(r, 500));
      for (const [n, { id }] of ids.entries()) {
        const arrived = sink.expect(`item-${id}`);
        // From the start of the removal's transaction (an upper bound of commit → received).
        const started = performance.now();
        await withTransaction(db, (tx) =>
          removeItems(tx, {
            itemIds: [id],
            noticeId: '00000000-0000-4000-8000-000000000001',
            reference: `TD-${String(n).padStart(6, '0')}`,
            claimant: null,
            legalBasis: 'bench',
            actor: { type: 'system' },
            at: new Date(),
          }),
        );
        const timeout = new Promise<number>((r) => setTimeout(() => r(Number.NaN), 10_000));
        const at = await Promise.race([arrived, timeout]);
        latencies.push(Number.isNaN(at) ? 10_000 : at - started);
      }
      rssPeak = app.rss.peak();
    } finally {
      await app.stop();
      await db.destroy();
      await sink.close();
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const p99 = pct(sorted, 99);
    ctx.log(
      `${REMOVALS} removals: p50 ${pct(sorted, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`,
    );
    return [
      {
        name: `edge purge: removal transaction start → its key received by all 3 endpoints (PURGE, Fastly, Cloudflare stand-ins), p99 of ${REMOVALS}`,
        value: Math.round(p99 * 10) / 10,
        unit: 'ms',
        goal: '≤ 1,000 ms (p99)',
        ok: p99 <= 1000,
        note: `p50 ${pct(sorted, 50).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`,
      },
      rssRow(`${REMOVALS} removals purged at 3 endpoints`, rssPeak),
    ];
  },
};
