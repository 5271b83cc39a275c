import { performance } from 'node:perf_hooks';
import { parseNoticeEmail, readMessage } from '../src/modules/inbound/parse';
import type { BenchRow, BenchSuite } from './lib';

const URLS = 1_000;
const RUNS = 200;
const GOAL_MS = 100;

/** A prose letter naming 1,000 item URLs (bare, bracketed, in sentences), with statements, signature and contact. */
export function thousandUrlLetter(run = 0): Buffer {
  const lines = Array.from({ length: URLS }, (_, i) =>
    i % 3 === 0
      ? `${i + 1}. https://desk.example/items/copy-${i}`
      : i % 3 === 1
        ? `- <https://desk.example/items/copy-${i}?utm_source=x>`
        : `- desk.example/items/copy-${i}, an exact copy`,
  );
  const body = `Dear DMCA agent, (our reference ${run})

I write on behalf of Example Pictures LLC, owner of the copyrighted film "Night Train" (https://pictures.example/night-train).
The following pages on your site copy it without permission:

${lines.join('\n')}

I have a good faith belief that use of the copyrighted materials described above is not authorized by the copyright owner, its agent, or the law.
I swear, under penalty of perjury, that the information in this notification is accurate and that I am authorized to act on behalf of the owner.

Sincerely,
/s/ Jane Doe
Enforcement Vendor Ltd
1 Main Street, Springfield, IL 62701
Phone: +1 555 010 0000
`;
  const head = [
    'From: Jane Doe <jane@vendor.example>',
    'To: dmca@desk.example',
    'Subject: DMCA notice: 1,000 URLs',
    `Message-ID: <bench-${run}@vendor.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
  ];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body.replace(/\n/g, '\r\n')}`, 'utf8');
}

/**
 * Parse time of a 1,000-URL letter (issue 14: ≤ 100 ms): raw bytes → `readMessage` (mailparser) →
 * `parseNoticeEmail`, in this process, no database. Median and p95 of 200 runs after 20 warm-up runs.
 */
export const inboundParseSuite: BenchSuite = {
  name: 'inbound-parse',
  async run(ctx) {
    const parseCtx = { publicBaseUrl: 'https://desk.example', isItemOriginalUrl: () => false };
    let run = 0;
    // Each run reads a different letter (its reference differs), so no cached answer is reused.
    const once = async () => {
      const raw = thousandUrlLetter(++run);
      const t0 = performance.now();
      const msg = await readMessage(raw);
      const t1 = performance.now();
      const r = parseNoticeEmail(msg, parseCtx);
      const t2 = performance.now();
      if (r.infringingUrls.length !== URLS || !r.complete)
        throw new Error(`bench letter misread: ${r.infringingUrls.length} URLs, complete ${r.complete}`);
      return { read: t1 - t0, parse: t2 - t1, total: t2 - t0 };
    };
    for (let i = 0; i < 20; i++) await once();
    const runs: { read: number; parse: number; total: number }[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await once());
    const pick = (k: 'read' | 'parse' | 'total', q: number) => {
      const v = runs.map((r) => r[k]).sort((a, b) => a - b);
      return Math.round(v[Math.min(v.length - 1, Math.floor(q * v.length))]! * 10) / 10;
    };
    ctx.log(`${thousandUrlLetter().length} bytes; median read ${pick('read', 0.5)} ms + parse ${pick('parse', 0.5)} ms`);
    const p50 = pick('total', 0.5);
    const p95 = pick('total', 0.95);
    return [
      {
        name: 'parse a 1,000-URL letter (readMessage + parseNoticeEmail), median',
        value: p50,
        unit: 'ms',
        goal: `≤ ${GOAL_MS} ms`,
        ok: p50 <= GOAL_MS,
      },
      { name: 'parse a 1,000-URL letter, p95', value: p95, unit: 'ms', goal: `≤ ${GOAL_MS} ms`, ok: p95 <= GOAL_MS, note: `${RUNS} runs` },
    ] satisfies BenchRow[];
  },
};
