import 'reflect-metadata';
import net from 'node:net';
import nodemailer from 'nodemailer';
import { Client } from 'pg';
import { freePort } from '../src/db/embedded';
import { parseNoticeEmail, readMessage } from '../src/modules/inbound/parse';
import { BenchRow, BenchSuite, rssRow, startServer } from './lib';

/**
 * The mailbox (issue 14): notices sent over real SMTP to the built-in receiver by 10 concurrent
 * senders, read into notices by the parse job (goal ≥ 100 messages/s), the time from the `250`
 * to the acknowledgement written to the outbox (p95 ≤ 2 s), and the parse time of a 1,000-URL
 * letter (≤ 100 ms).
 */
const SENDERS = 10;
const PER_SENDER = 40;
const AGENT = 'dmca@bench.example';

const letter = (urls: string[], i: number) => `Dear Copyright Agent,

I am the author and copyright owner of the article "Notes on the Engine" number ${i}, first published at https://analytical.example/notes-${i} on our website.

The following pages on your site copy my article in full without permission:
${urls.join('\n')}

I have a good faith belief that use of the material in the manner complained of is not authorized by the copyright owner, its agent, or the law.

The information in this notification is accurate, and under penalty of perjury, I am the owner of the exclusive right that is allegedly infringed.

Sincerely,

/s/ Ada Lovelace
Ada Lovelace
Analytical Press Ltd
12 Marylebone Road, London NW1 5LR, United Kingdom
Phone: +44 20 7946 0000
`;

async function slugs(databaseUrl: string, n: number): Promise<string[]> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    let rows = (await c.query(`SELECT slug FROM items WHERE status = 'published' LIMIT $1`, [n])).rows as { slug: string }[];
    if (rows.length < n) {
      const [{ id }] = (
        await c.query(`INSERT INTO sources (name, domains) VALUES ('Inbound Bench', '{inbound-bench.example}') RETURNING id`)
      ).rows;
      await c.query(
        `INSERT INTO items (source_id, slug, title, original_url, original_url_normalised, guid, first_fetched_at, last_fetched_at, listed_at, raw_sha256, content, excerpt)
         SELECT $1, 'inbound-bench-' || g, 'Inbound bench ' || g, 'https://inbound-bench.example/p/' || g, 'https://inbound-bench.example/p/' || g, 'inb-' || g,
                now(), now(), now(), md5(g::text) || md5(g::text), '<p>x</p>', 'x'
           FROM generate_series(1, ${n}) g`,
        [id],
      );
      rows = (await c.query(`SELECT slug FROM items WHERE status = 'published' LIMIT $1`, [n])).rows;
    }
    return rows.map((r) => r.slug);
  } finally {
    await c.end();
  }
}

export const inboundSuite: BenchSuite = {
  name: 'inbound',
  async run(ctx) {
    const rows: BenchRow[] = [];
    const pages = await slugs(ctx.databaseUrl, 1000);
    const smtpPort = await freePort();
    const app = await startServer({
      DATABASE_URL: ctx.databaseUrl,
      SESSION_SECRET: 'bench-session-secret-0123456789-0123456789',
      DMCA_AGENT_EMAIL: AGENT,
      INBOUND_SMTP_PORT: String(smtpPort),
      INBOUND_SMTP_HOST: '127.0.0.1',
      INBOUND_AUTH_DNS: 'off',
      INBOUND_SMTP_PER_MINUTE: '1000000',
      INBOUND_REPLIES_PER_HOUR: '10000',
      SENDER_BURST: '10000',
    });
    // The server answers /healthz once HTTP listens; its SMTP receiver starts a moment later.
    await waitForPort(smtpPort, 30_000);
    const db = new Client({ connectionString: ctx.databaseUrl });
    await db.connect();
    try {
      const run = Date.now().toString(36);
      const accepted = new Map<string, number>();
      const started = Date.now();
      await Promise.all(
        Array.from({ length: SENDERS }, async (_, s) => {
          const t = nodemailer.createTransport({
            host: '127.0.0.1',
            port: smtpPort,
            secure: false,
            ignoreTLS: true,
            pool: true,
            maxConnections: 1,
            maxMessages: Infinity,
          });
          for (let i = 0; i < PER_SENDER; i++) {
            const messageId = `<bench-${run}-${s}-${i}@analytical.example>`;
            await t.sendMail({
              from: `Ada Lovelace <ada${s}@analytical.example>`,
              to: AGENT,
              subject: `Notice ${s}-${i}`,
              messageId,
              text: letter([`${app.url}/items/${pages[(s * PER_SENDER + i) % pages.length]}`], i),
            });
            accepted.set(messageId, Date.now());
          }
          t.close();
        }),
      );
      const sentAt = Date.now();
      const total = SENDERS * PER_SENDER;
      let done = 0;
      for (let i = 0; i < 1200 && done < total; i++) {
        done = (
          await db.query(`SELECT count(*)::int AS n FROM inbound_emails WHERE message_id LIKE $1 AND status <> 'received'`, [
            `<bench-${run}-%`,
          ])
        ).rows[0].n;
        if (done < total) await new Promise((r) => setTimeout(r, 100));
      }
      const elapsed = (Date.now() - started) / 1000;
      const outcomes = (
        await db.query(`SELECT status, count(*)::int AS n FROM inbound_emails WHERE message_id LIKE $1 GROUP BY status`, [
          `<bench-${run}-%`,
        ])
      ).rows;
      ctx.log(
        `${total} messages over SMTP from ${SENDERS} senders: all 250 after ${((sentAt - started) / 1000).toFixed(1)} s, all read after ${elapsed.toFixed(1)} s; ${JSON.stringify(outcomes)}`,
      );
      const created = outcomes.find((o: { status: string }) => o.status === 'notice_created')?.n ?? 0;
      if (created < total) throw new Error(`only ${created} of ${total} messages became notices`);
      rows.push({
        name: `SMTP → stored → read into pending notices, ${SENDERS} concurrent senders, ${total} messages`,
        value: Math.round(total / elapsed),
        unit: 'messages/s',
        goal: '≥ 100 messages/s',
        ok: total / elapsed >= 100,
      });

      const acks = (
        await db.query(
          `SELECT thread->>'inReplyTo' AS mid, created_at FROM outbound_emails WHERE template = 'notice-received' AND thread->>'inReplyTo' LIKE $1`,
          [`<bench-${run}-%`],
        )
      ).rows as { mid: string; created_at: Date }[];
      const delays = acks.map((a) => new Date(a.created_at).getTime() - accepted.get(a.mid)!).sort((a, b) => a - b);
      const p95 = delays[Math.floor(delays.length * 0.95)] ?? NaN;
      ctx.log(
        `${acks.length} acknowledgements queued; from 250 to queued: p50 ${delays[Math.floor(delays.length / 2)]} ms, p95 ${p95} ms, max ${delays[delays.length - 1]} ms`,
      );
      rows.push({
        name: 'From the 250 to the threaded acknowledgement queued, p95',
        value: p95,
        unit: 'ms',
        goal: '≤ 2,000 ms',
        ok: p95 <= 2000,
      });

      // The parser alone on a 1,000-URL letter.
      const raw = Buffer.from(
        `From: Ada <ada@analytical.example>\r\nTo: ${AGENT}\r\nSubject: many\r\nMessage-ID: <many@analytical.example>\r\n\r\n${letter(
          pages.slice(0, 1000).map((p) => `${app.url}/items/${p}`),
          0,
        ).replace(/\n/g, '\r\n')}`,
      );
      const times: number[] = [];
      let found = 0;
      for (let i = 0; i < 7; i++) {
        const t0 = process.hrtime.bigint();
        const msg = await readMessage(raw);
        const ex = parseNoticeEmail(msg, { publicBaseUrl: app.url, isItemOriginalUrl: () => false });
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        found = ex.infringingUrls.length;
      }
      times.sort((a, b) => a - b);
      ctx.log(`1,000-URL letter: ${found} targets found`);
      rows.push({
        name: `Read + parse a 1,000-URL letter (median of 7; ${found} targets found)`,
        value: Math.round(times[3] * 10) / 10,
        unit: 'ms',
        goal: '≤ 100 ms',
        ok: times[3] <= 100,
      });
    } finally {
      await db.end();
      await app.stop();
    }
    rows.push(rssRow('the mailbox: SMTP intake and the parse job (whole suite)', app.rss.peak()));
    return rows;
  },
};

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; throws after `ms`. */
async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
