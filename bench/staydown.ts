import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../src/config';
import { createDataSource } from '../src/db/data-source';
import { importFeedNow } from '../src/modules/feeds';
import { bankStats, Candidate, findMatches, insertBands, signatureOf } from '../src/modules/staydown';
import { normaliseText, shingles } from '../src/modules/staydown/signature';
import { systemClock } from '../src/shared/clock';
import { createLogger } from '../src/shared/logger';
import type { BenchContext, BenchRow, BenchSuite } from './lib';

/**
 * Staydown (issue 15): a generated corpus of news-like articles (a shared vocabulary with a Zipf
 * distribution, common function words and stock phrases, so unrelated articles share many short
 * phrases as real ones do).
 *  (1) feed import of 8,000 new, unrelated entries with an empty bank and with 100,000
 *      fingerprints in it (goal ≥ 2,000 items/s, ≤ 10% slower);
 *  (2) the bank lookup for one item alone: p99 (goal ≤ 2 ms);
 *  (3) bytes per fingerprint (fingerprint rows + band rows + their indexes);
 *  (4) recall on 10,000 copies (the six kinds, 1/6 each) of banked articles and false holds on
 *      10,000 unrelated articles (goals ≥ 98%, ≤ 0.1%);
 *  (5) for the choice of signature: SimHash (64 bits over the same shingles) on the same copies.
 */
const BANK = Number(process.env.BENCH_STAYDOWN_BANK ?? 100_000);
const VARIANTS = 10_000;
const UNRELATED = 10_000;
/** Entries per import: as many as fit under the fetcher's 20 MiB feed limit. */
const FEED_ENTRIES = 8_000;
const THRESHOLD = 0.8;

function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FUNCTION_WORDS =
  'the a of to and in that is was for on with as by at from it said he she they his her their its be has have had not but this which will would an after before more than about who over also when new two one three its were are been last year people'.split(
    ' ',
  );
const STOCK = [
  'the council said in a statement on monday',
  'according to figures published by the office',
  'a spokesperson declined to comment',
  'the plans will be put to a vote next month',
  'police said the investigation was continuing',
  'it was not immediately clear why',
  'residents were asked to avoid the area',
  'the company said it would appeal the decision',
  'more than a thousand people signed the petition',
  'the minister told reporters on tuesday',
  'the report is due to be published later this year',
  'officials said there was no danger to the public',
];
const syllables = [
  'ka',
  'lo',
  'mi',
  'ten',
  'ra',
  'vo',
  'sel',
  'dun',
  'pri',
  'ash',
  'bo',
  'ne',
  'tor',
  'qui',
  'fa',
  'lem',
  'gor',
  'ist',
  'ur',
  'ven',
];
const VOCAB: string[] = [];
{
  const r = prng(7);
  const seen = new Set<string>();
  while (VOCAB.length < 5000) {
    const n = 2 + Math.floor(r() * 3);
    let w = '';
    for (let i = 0; i < n; i++) w += syllables[Math.floor(r() * syllables.length)];
    if (!seen.has(w)) {
      seen.add(w);
      VOCAB.push(w);
    }
  }
}

interface Article {
  title: string;
  paragraphs: string[][]; // paragraphs of sentences
}

function article(seed: number): Article {
  const r = prng(seed * 2654435761);
  const zipf = () => VOCAB[Math.min(VOCAB.length - 1, Math.floor(Math.pow(r(), 2.2) * VOCAB.length))];
  const sentence = () => {
    if (r() < 0.12) return `${STOCK[Math.floor(r() * STOCK.length)]}.`;
    const n = 8 + Math.floor(r() * 18);
    const w: string[] = [];
    for (let i = 0; i < n; i++) w.push(r() < 0.4 ? FUNCTION_WORDS[Math.floor(r() * FUNCTION_WORDS.length)] : zipf());
    return `${w.join(' ')}.`;
  };
  const paragraphs: string[][] = [];
  const np = 4 + Math.floor(r() * 5);
  for (let p = 0; p < np; p++) paragraphs.push(Array.from({ length: 2 + Math.floor(r() * 3) }, sentence));
  const title = Array.from({ length: 5 + Math.floor(r() * 6) }, zipf).join(' ');
  return { title, paragraphs };
}

const toHtml = (paras: string[][]) => paras.map((p) => `<p>${p.join(' ')}</p>`).join('\n');

export const KINDS = [
  'new guid',
  'second source',
  'markup/whitespace',
  'new title + boilerplate',
  'truncated to 70%',
  'swapped + sentence changed',
] as const;

function variant(a: Article, kind: number, seed: number): { title: string; html: string } {
  switch (kind) {
    case 0:
    case 1:
      return { title: a.title, html: toHtml(a.paragraphs) };
    case 2:
      return {
        title: `  ${a.title.toUpperCase()} `,
        html: a.paragraphs
          .map(
            (p) =>
              `<div class="c">\n <span>${p
                .join('  \n')
                .replace(/ a /g, ' <em>a</em> ')
                .replace(/e/g, (c, i: number) => (i % 7 ? c : '&#101;'))}</span></div>`,
          )
          .join('<br><br>'),
      };
    case 3:
      return {
        title: `${article(seed + 99_999).title}`,
        html: `${toHtml(a.paragraphs)}\n<p>This article originally appeared on ${VOCAB[seed % VOCAB.length]} News. Subscribe to our newsletter.</p>`,
      };
    case 4: {
      const words = a.paragraphs
        .map((p) => p.join(' '))
        .join(' ')
        .split(' ');
      return { title: a.title, html: `<p>${words.slice(0, Math.floor(words.length * 0.7)).join(' ')}</p>` };
    }
    default: {
      const p = a.paragraphs.map((x) => [...x]);
      [p[0], p[1]] = [p[1], p[0]];
      p[2][0] = article(seed + 55_555).paragraphs[0][0];
      return { title: a.title, html: toHtml(p) };
    }
  }
}

/** 64-bit SimHash (two 32-bit halves) over the same shingle hashes, for the comparison only. */
function simhash(set: Int32Array): [number, number] {
  const v = new Int32Array(64);
  for (let j = 0; j < set.length; j++) {
    let h1 = Math.imul(set[j] ^ 0x9e3779b9, 0x85ebca6b);
    h1 ^= h1 >>> 13;
    let h2 = Math.imul(set[j] ^ 0x7f4a7c15, 0xc2b2ae35);
    h2 ^= h2 >>> 16;
    for (let b = 0; b < 32; b++) {
      v[b] += (h1 >>> b) & 1 ? 1 : -1;
      v[32 + b] += (h2 >>> b) & 1 ? 1 : -1;
    }
  }
  let a = 0;
  let c = 0;
  for (let b = 0; b < 32; b++) {
    if (v[b] > 0) a |= 1 << b;
    if (v[32 + b] > 0) c |= 1 << b;
  }
  return [a >>> 0, c >>> 0];
}
const popcount = (x: number) => {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
};
const hamming = (a: [number, number], b: [number, number]) => popcount((a[0] ^ b[0]) >>> 0) + popcount((a[1] ^ b[1]) >>> 0);

async function fillBank(ctx: BenchContext, db: DataSource): Promise<Map<number, string>> {
  const idOf = new Map<number, string>();
  const started = Date.now();
  const noticeId = randomUUID();
  const removal = JSON.stringify({ noticeId, reference: 'TD-000001', claimant: 'Bench Rights Ltd', legalBasis: 'bench' });
  for (let from = 0; from < BANK; from += 1000) {
    const rows: Record<string, unknown>[] = [];
    const bands: { id: string; bands: number[] }[] = [];
    for (let i = from; i < Math.min(BANK, from + 1000); i++) {
      const a = article(i);
      const sig = signatureOf(a.title, toHtml(a.paragraphs));
      const id = randomUUID();
      idOf.set(i, id);
      rows.push({
        id,
        item_id: randomUUID(),
        raw_sha256: i.toString(16).padStart(64, '0'),
        url: `https://bank.example/${i}`,
        shingles: Array.from(sig.shingles),
      });
      bands.push({ id, bands: sig.bands });
    }
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO content_fingerprints (id, item_id, notice_id, removal, raw_sha256, original_url_normalised, shingles)
         SELECT v.id, v.item_id, $2, $3::jsonb, v.raw_sha256, v.url, v.shingles
           FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, item_id uuid, raw_sha256 text, url text, shingles int[])`,
        [JSON.stringify(rows), noticeId, removal],
      );
      await insertBands(tx, bands);
    });
    if ((from + 1000) % 20_000 === 0)
      ctx.log(`bank: ${(from + 1000).toLocaleString('en-US')} fingerprints (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  await db.query('VACUUM ANALYZE content_fingerprints');
  await db.query('VACUUM ANALYZE content_fingerprint_bands');
  return idOf;
}

async function importRate(ctx: BenchContext, db: DataSource, seedBase: number, label: string): Promise<number> {
  const parts = [
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Bench feed</title><link>https://feed.example/</link>',
  ];
  for (let i = 0; i < FEED_ENTRIES; i++) {
    const a = article(seedBase + i);
    parts.push(
      `<item><title>${a.title}</title><link>https://feed${seedBase}.example/${i}</link><guid isPermaLink="false">f-${seedBase}-${i}</guid>` +
        `<pubDate>${new Date(Date.UTC(2026, 0, 1) + i * 60_000).toUTCString()}</pubDate><content:encoded><![CDATA[${toHtml(a.paragraphs)}]]></content:encoded></item>\n`,
    );
  }
  parts.push('</channel></rss>');
  const xml = parts.join('');
  const server = http.createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/rss+xml');
    res.end(xml);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const feedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.xml`;
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: ctx.databaseUrl,
      SESSION_SECRET: 'x'.repeat(40),
      ALLOW_PRIVATE_FEEDS: 'true',
      LOG_LEVEL: 'silent',
    });
    const [{ id }] = await db.query(`INSERT INTO sources (name, domains, feed_url) VALUES ($1, $2, $3) RETURNING id`, [
      `Feed ${seedBase}`,
      [`feed${seedBase}.example`],
      feedUrl,
    ]);
    const started = process.hrtime.bigint();
    const r = await importFeedNow({ db, config, clock: systemClock, logger: createLogger('silent') }, id);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (!r.ok || r.created !== FEED_ENTRIES) throw new Error(`the import did not create every entry: ${JSON.stringify(r)}`);
    ctx.log(`${label}: ${FEED_ENTRIES} entries (${(xml.length / 2 ** 20).toFixed(1)} MiB) in ${seconds.toFixed(2)} s, ${r.held ?? 0} held`);
    return Math.round(FEED_ENTRIES / seconds);
  } finally {
    server.close();
  }
}

export const staydownSuite: BenchSuite = {
  name: 'staydown',
  async run(ctx) {
    const rows: BenchRow[] = [];
    const db = createDataSource(ctx.databaseUrl, { poolSize: 4 });
    await db.initialize();
    try {
      // Warm-up import (JIT, connections). The machine is shared, so the two conditions are measured
      // interleaved after the bank is filled (full, empty, full, empty): the empty bank is the same
      // tables swapped for empty copies (RENAME + CREATE … LIKE … INCLUDING ALL), then swapped back.
      await importRate(ctx, db, 5_000_000, 'warm-up');
      const idOf = await fillBank(ctx, db);
      const swap = async (empty: boolean) => {
        if (empty) {
          await db.query(`ALTER TABLE content_fingerprint_bands RENAME TO bench_saved_bands`);
          await db.query(`ALTER TABLE content_fingerprints RENAME TO bench_saved_fingerprints`);
          await db.query(`CREATE TABLE content_fingerprints (LIKE bench_saved_fingerprints INCLUDING ALL)`);
          await db.query(`CREATE TABLE content_fingerprint_bands (LIKE bench_saved_bands INCLUDING ALL)`);
        } else {
          await db.query(`DROP TABLE content_fingerprint_bands; DROP TABLE content_fingerprints`);
          await db.query(`ALTER TABLE bench_saved_fingerprints RENAME TO content_fingerprints`);
          await db.query(`ALTER TABLE bench_saved_bands RENAME TO content_fingerprint_bands`);
        }
      };
      const full: number[] = [];
      const empty: number[] = [];
      for (let round = 0; round < 2; round++) {
        full.push(await importRate(ctx, db, 7_000_000 + round * 100_000, `${BANK.toLocaleString('en-US')} fingerprints`));
        await swap(true);
        try {
          empty.push(await importRate(ctx, db, 6_000_000 + round * 100_000, 'empty bank'));
        } finally {
          await swap(false);
        }
      }
      const withBank = Math.max(...full);
      const without = Math.max(...empty);
      rows.push({
        name: `feed import, ${FEED_ENTRIES.toLocaleString('en-US')} new unrelated entries, ${BANK.toLocaleString('en-US')} fingerprints in the bank (best of 2, interleaved; runs ${full.join(', ')} vs ${empty.join(', ')})`,
        value: withBank,
        unit: 'items/s',
        baseline: { name: 'same import, empty bank', value: without },
        goal: '≥ 2,000 items/s and ≤ 10% slower',
        ok: withBank >= 2000 && withBank >= 0.9 * without,
      });
      const plan: { 'QUERY PLAN': string }[] = await db.query(
        `EXPLAIN (ANALYZE, BUFFERS) SELECT fingerprint_id, array_agg(band::text) FROM content_fingerprint_bands WHERE band = ANY($1::bigint[]) GROUP BY fingerprint_id`,
        [signatureOf(article(1).title, toHtml(article(1).paragraphs)).bands],
      );
      ctx.log(
        `EXPLAIN of the band lookup with ${BANK.toLocaleString('en-US')} fingerprints:\n${plan.map((r) => `     ${r['QUERY PLAN']}`).join('\n')}`,
      );

      // Signature cost alone (the part of the import that does not depend on the bank).
      const sample = Array.from({ length: 2000 }, (_, i) => article(8_000_000 + i)).map((a) => ({
        title: a.title,
        html: toHtml(a.paragraphs),
      }));
      let t0 = process.hrtime.bigint();
      for (const s of sample) signatureOf(s.title, s.html);
      const sigUs = Number(process.hrtime.bigint() - t0) / 1e3 / sample.length;
      rows.push({
        name: 'signature per item (normalise + shingles + 60 MinHash + 20 bands, ~300-word article)',
        value: Math.round(sigUs),
        unit: 'µs',
        note: 'CPU, in both imports',
      });

      // Lookup of one item alone, against the full bank.
      const times: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const k = i % 2 ? 9_000_000 + i : Math.floor(Math.random() * 10_000);
        const a = article(k);
        const v = i % 2 ? { title: a.title, html: toHtml(a.paragraphs) } : variant(a, i % 6, k);
        const c: Candidate = {
          key: 0,
          rawSha256: 'f'.repeat(64),
          originalUrlNormalised: `https://lookup.example/${i}`,
          signature: signatureOf(v.title, v.html),
        };
        t0 = process.hrtime.bigint();
        await findMatches(db.manager, [c], THRESHOLD);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      times.sort((a, b) => a - b);
      const p99 = times[Math.floor(times.length * 0.99)];
      rows.push({
        name: `bank lookup for one item, ${BANK.toLocaleString('en-US')} fingerprints (half copies, half unrelated; p50 ${times[Math.floor(times.length / 2)].toFixed(2)} ms)`,
        value: Math.round(p99 * 100) / 100,
        unit: 'ms p99',
        goal: '≤ 2 ms',
        ok: p99 <= 2,
      });

      const stats = await bankStats(db.manager);
      rows.push({
        name: `bank size per fingerprint (${stats.live.toLocaleString('en-US')} live; rows + bands + indexes)`,
        value: Math.round(stats.bytes / stats.live),
        unit: 'bytes',
      });

      // Recall and false holds, through the same batch lookup the import uses (chunks of 500).
      const hitsByKind = new Array(KINDS.length).fill(0);
      const perKind = new Array(KINDS.length).fill(0);
      const simByKind: number[][] = KINDS.map(() => []);
      const simBank: [number, number][] = [];
      let falseHolds = 0;
      let batchMs = 0;
      let batches = 0;
      for (let from = 0; from < VARIANTS; from += 500) {
        const batch: Candidate[] = [];
        const want: { kind: number; id: string }[] = [];
        for (let i = from; i < from + 500; i++) {
          const orig = i; // the first 10,000 bank articles
          const kind = i % KINDS.length;
          const v = variant(article(orig), kind, i);
          const sig = signatureOf(v.title, v.html);
          batch.push({ key: i - from, rawSha256: 'e'.repeat(64), originalUrlNormalised: `https://copies.example/${i}`, signature: sig });
          want.push({ kind, id: idOf.get(orig)! });
          if (i < 3000) {
            const a = article(orig);
            simByKind[kind].push(hamming(simhash(sig.shingles), simhash(shingles(normaliseText(a.title, toHtml(a.paragraphs))))));
          }
        }
        const tb = process.hrtime.bigint();
        const m = await findMatches(db.manager, batch, THRESHOLD);
        batchMs += Number(process.hrtime.bigint() - tb) / 1e6;
        batches++;
        want.forEach((w, k) => {
          perKind[w.kind]++;
          if (m.get(k)?.fingerprintId === w.id) hitsByKind[w.kind]++;
        });
      }
      for (let from = 0; from < UNRELATED; from += 500) {
        const batch: Candidate[] = [];
        for (let i = from; i < from + 500; i++) {
          const a = article(10_000_000 + i);
          const sig = signatureOf(a.title, toHtml(a.paragraphs));
          batch.push({ key: i - from, rawSha256: 'd'.repeat(64), originalUrlNormalised: `https://unrelated.example/${i}`, signature: sig });
          if (i < 3000) {
            const b = article(i);
            simBank.push([hamming(simhash(sig.shingles), simhash(shingles(normaliseText(b.title, toHtml(b.paragraphs))))), 0]);
          }
        }
        const tb = process.hrtime.bigint();
        falseHolds += (await findMatches(db.manager, batch, THRESHOLD)).size;
        batchMs += Number(process.hrtime.bigint() - tb) / 1e6;
        batches++;
      }
      rows.push({
        name: `bank lookup as the import does it: chunks of 500 entries, one query each (${batches} chunks, ${(batchMs / batches).toFixed(0)} ms per chunk)`,
        value: Math.round((1000 * batchMs) / (batches * 500)) / 1000,
        unit: 'ms per item',
      });
      const hits = hitsByKind.reduce((a, b) => a + b, 0);
      const recall = (100 * hits) / VARIANTS;
      rows.push({
        name: `recall on ${VARIANTS.toLocaleString('en-US')} copies, six kinds (${KINDS.map((k, i) => `${k} ${((100 * hitsByKind[i]) / perKind[i]).toFixed(1)}%`).join(', ')})`,
        value: Math.round(recall * 100) / 100,
        unit: '%',
        goal: '≥ 98%',
        ok: recall >= 98,
      });
      const falseRate = (100 * falseHolds) / UNRELATED;
      rows.push({
        name: `false holds on ${UNRELATED.toLocaleString('en-US')} unrelated articles (${falseHolds} held)`,
        value: falseRate,
        unit: '%',
        goal: '≤ 0.1%',
        ok: falseRate <= 0.1,
      });

      // The alternative considered: SimHash. Its recall at a Hamming radius that keeps unrelated pairs out.
      const unrelatedMin = Math.min(...simBank.map((x) => x[0]));
      for (const k of [3, 6]) {
        const rec = simByKind.map((d) => (100 * d.filter((x) => x <= k).length) / d.length);
        rows.push({
          name: `for the choice: SimHash-64 recall at Hamming ≤ ${k} (${KINDS.map((kk, i) => `${kk} ${rec[i].toFixed(0)}%`).join(', ')}; closest unrelated pair: ${unrelatedMin} bits)`,
          value: Math.round(rec.reduce((a, b) => a + b, 0) / rec.length),
          unit: '%',
          note: 'not used',
        });
      }
    } finally {
      await db.destroy();
    }
    return rows;
  },
};
