import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDataSource } from '../src/db/data-source';
import { withTransaction } from '../src/db/transaction';
import { SYSTEM } from '../src/modules/audit';
import { createApiToken, createUser } from '../src/modules/auth';
import { BenchRow, BenchSuite, rssRow, startServer } from './lib';

/**
 * The server's memory while it imports feeds (issue 18: RSS ≤ 250 MB "during imports"), measured
 * from outside as an operator would: the built server imports through its API
 * (`POST /api/v1/sources/:id/fetch`) from a local feed server, and the bench samples its RSS.
 *  (1) one 50,000-entry feed (short entries, under the 20 MiB download limit);
 *  (2) four 12,500-entry feeds (full articles) imported at the same time.
 * Also the import speed of each, for the record.
 */
const PARAGRAPH =
  '<p>The harbour office says the change follows two winters in which the first crossing ran almost empty while the later boat left people standing on the quay.</p>';

function rssFeed(prefix: string, n: number, paragraphs: number): Buffer {
  const body = PARAGRAPH.repeat(paragraphs);
  const parts = [
    `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>${prefix}</title><link>https://${prefix}.example/</link><copyright>© ${prefix}</copyright>`,
  ];
  for (let i = 0; i < n; i++) {
    parts.push(
      `<item><title>${prefix} entry ${i}: a headline</title><link>https://${prefix}.example/${i}</link><guid isPermaLink="false">${prefix}-${i}</guid>` +
        (paragraphs > 1
          ? `<pubDate>${new Date(Date.UTC(2026, 0, 1) + i * 60_000).toUTCString()}</pubDate><dc:creator>Writer ${i % 50}</dc:creator>`
          : '') +
        `<content:encoded><![CDATA[${body}<p><a href="/related/${i}">Related</a></p>]]></content:encoded></item>\n`,
    );
  }
  parts.push('</channel></rss>');
  return Buffer.from(parts.join(''));
}

export const importsSuite: BenchSuite = {
  name: 'imports',
  async run(ctx) {
    const feeds = new Map<string, Buffer>([['/big.xml', rssFeed('big', 50_000, 1)]]);
    for (let f = 0; f < 4; f++) feeds.set(`/part-${f}.xml`, rssFeed(`part${f}`, 12_500, 7));
    for (const [p, b] of feeds) ctx.log(`${p}: ${(b.length / 2 ** 20).toFixed(1)} MiB`);
    const server = http.createServer((req, res) => {
      const body = feeds.get(req.url ?? '');
      res.statusCode = body ? 200 : 404;
      res.setHeader('Content-Type', 'application/rss+xml');
      res.end(body ?? '');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const feedBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const db = createDataSource(ctx.databaseUrl, { poolSize: 2 });
    await db.initialize();
    const { user } = await withTransaction(db, (tx) =>
      createUser(tx, {
        at: new Date(),
        actor: SYSTEM,
        email: 'bench-imports@desk.example',
        name: 'Bench',
        role: 'admin',
        password: 'x'.repeat(16),
      }),
    );
    const { token } = await withTransaction(db, (tx) => createApiToken(tx, { at: new Date(), actor: SYSTEM, user, name: 'bench-imports' }));
    const sourceOf = new Map<string, string>();
    for (const p of feeds.keys()) {
      const name = p.slice(1, -4);
      // Far in the future: the server's own schedule leaves them alone, the API imports them now.
      const [{ id }] = await db.query(
        `INSERT INTO sources (name, domains, feed_url, next_fetch_at) VALUES ($1, $2, $3, now() + interval '1 day') RETURNING id`,
        [`Imports ${name}`, `{${name.replace(/-/g, '')}.example}`, feedBase + p],
      );
      sourceOf.set(p, id);
    }
    await db.destroy();

    const app = await startServer({
      DATABASE_URL: ctx.databaseUrl,
      SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
      ALLOW_PRIVATE_FEEDS: 'true',
    });
    const importNow = async (p: string) => {
      const res = await fetch(`${app.url}/api/v1/sources/${sourceOf.get(p)}/fetch`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: '{}',
      });
      const r = (await res.json()) as { ok?: boolean; created?: number; reason?: string };
      if (res.status !== 200 || !r.ok) throw new Error(`import of ${p}: HTTP ${res.status} ${JSON.stringify(r).slice(0, 300)}`);
      return r.created ?? 0;
    };
    const rows: BenchRow[] = [];
    try {
      const idle = app.rss.peak();
      ctx.log(`server RSS before the imports: ${idle} MiB`);
      app.rss.reset();
      let started = Date.now();
      const big = await importNow('/big.xml');
      let seconds = (Date.now() - started) / 1000;
      rows.push(rssRow('importing one 50,000-entry feed through the API', app.rss.peak()));
      rows.push({ name: 'import of one 50,000-entry feed through the server', value: Math.round(big / seconds), unit: 'items/s' });
      ctx.log(`50,000-entry feed: ${big} created in ${seconds.toFixed(1)} s`);

      app.rss.reset();
      started = Date.now();
      const parts = await Promise.all([...feeds.keys()].filter((p) => p.startsWith('/part-')).map(importNow));
      seconds = (Date.now() - started) / 1000;
      const created = parts.reduce((a, b) => a + b, 0);
      rows.push(rssRow('importing four 12,500-entry feeds at once through the API', app.rss.peak()));
      rows.push({
        name: 'four 12,500-entry feeds imported at once through the server',
        value: Math.round(created / seconds),
        unit: 'items/s',
      });
      ctx.log(`four 12,500-entry feeds: ${created} created in ${seconds.toFixed(1)} s`);
    } finally {
      await app.stop();
      server.close();
    }
    return rows;
  },
};
