import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config';
import { createDataSource } from '../src/db/data-source';
import { withTransaction } from '../src/db/transaction';
import { createWebhookWorker, queueWebhookEvent } from '../src/modules/webhooks';
import { systemClock } from '../src/shared/clock';
import { createLogger } from '../src/shared/logger';
import { secretBox } from '../src/shared/secret-box';
import type { BenchRow, BenchSuite } from './lib';

const NOTICES = Number(process.env.BENCH_WEBHOOK_NOTICES ?? 1_000);
const EVENTS_PER_NOTICE = 5;
const DELIVERIES = NOTICES * EVENTS_PER_NOTICE;
const GOAL_PER_SECOND = 200;
const SESSION_SECRET = 'bench-session-secret-0123456789abcdef';
const SECRET = 'whsec_bench-secret-0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A local receiver (node:http, keep-alive off as the worker's requests are): checks every
 * signature, notes the order of the events of each notice, answers 204.
 */
async function startReceiver() {
  let received = 0;
  let badSignatures = 0;
  let outOfOrder = 0;
  const lastSeq = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const sig = Object.fromEntries(
        String(req.headers['takedown-signature'] ?? '')
          .split(',')
          .map((p) => p.split('=', 2)),
      );
      if (createHmac('sha256', SECRET).update(`${sig.t}.${body}`).digest('hex') !== sig.v1) badSignatures++;
      const { data } = JSON.parse(body) as { data: { reference: string; seq: number } };
      if ((lastSeq.get(data.reference) ?? -1) !== data.seq - 1) outOfOrder++;
      lastSeq.set(data.reference, Math.max(lastSeq.get(data.reference) ?? -1, data.seq));
      received++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    stats: () => ({ received, badSignatures, outOfOrder }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Webhook throughput (issue 17, SPEC §14: ≥ 200 deliveries/s to a local receiver): 1,000 notices
 * × 5 events each, queued through `queueWebhookEvent` (100 per transaction), then drained by one
 * delivery worker with the production settings (WEBHOOK_CONCURRENCY 32, at most 16 in flight to one
 * receiver, events of one notice strictly in order): each delivery is claimed under the shared
 * lease, signed, POSTed over a new connection through the SSRF-guarded sender, and its outcome
 * written. The receiver runs in this process too and checks every signature and the order.
 */
export const webhooksSuite: BenchSuite = {
  name: 'webhooks',
  async run(ctx) {
    const rx = await startReceiver();
    const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', SESSION_SECRET, ALLOW_PRIVATE_WEBHOOKS: 'true' });
    const db = createDataSource(ctx.databaseUrl, { poolSize: 20 });
    await db.initialize();
    const rows: BenchRow[] = [];
    try {
      const [{ id: submitterId }] = await db.query(
        `INSERT INTO submitters (email, email_verified_at) VALUES ('bench-hooks@bench.test', now()) RETURNING id`,
      );
      await db.query(
        `INSERT INTO webhooks (submitter_id, url, events, secret_sealed, secret_prefix) VALUES ($1, $2, '{notice.status_changed}', $3, $4)`,
        [submitterId, rx.url, secretBox(SESSION_SECRET, 'webhook-secret').seal(SECRET), SECRET.slice(0, 10)],
      );
      const q0 = Date.now();
      // Events interleaved across notices, as changes arrive: seq 0 of every notice, then seq 1, …
      for (let b = 0; b < DELIVERIES / 100; b++) {
        await withTransaction(db, async (tx) => {
          for (let i = 0; i < 100; i++) {
            const n = b * 100 + i;
            const reference = `TD-${String(n % NOTICES).padStart(6, '0')}`;
            await queueWebhookEvent(tx, {
              type: 'notice.status_changed',
              to: { submitterId },
              orderingKey: `notice:${reference}`,
              data: { reference, seq: Math.floor(n / NOTICES), status: 'pending' },
              at: new Date(),
            });
          }
        });
      }
      const enqueueSeconds = (Date.now() - q0) / 1000;
      ctx.log(`queued ${DELIVERIES} deliveries in ${enqueueSeconds.toFixed(1)} s`);

      const worker = createWebhookWorker({ db, config, logger: createLogger('silent'), clock: systemClock, sessionSecret: SESSION_SECRET });
      const t0 = Date.now();
      let result = await worker.drain();
      // A drain ends when nothing is due; later events of a notice become due as the earlier ones land.
      while (rx.stats().received < DELIVERIES && Date.now() - t0 < 120_000) {
        const more = await worker.drain();
        result = { ...result, delivered: result.delivered + more.delivered, claimed: result.claimed + more.claimed };
        if (!more.claimed) await new Promise((r) => setTimeout(r, 50));
      }
      const seconds = (Date.now() - t0) / 1000;
      await worker.stop();
      const [{ delivered }] = await db.query(`SELECT count(*)::int AS delivered FROM webhook_deliveries WHERE status = 'delivered'`);
      const s = rx.stats();
      ctx.log(`drained in ${seconds.toFixed(1)} s: ${JSON.stringify(result)}; receiver ${JSON.stringify(s)}; rows delivered ${delivered}`);
      const complete = s.received === DELIVERIES && delivered === DELIVERIES && !s.badSignatures && !s.outOfOrder;
      const rate = DELIVERIES / seconds;
      rows.push(
        {
          name: `webhooks: signed deliveries per second (1 worker → local receiver, ${NOTICES.toLocaleString('en-US')} notices × ${EVENTS_PER_NOTICE} events in order)`,
          value: Math.round(rate),
          unit: 'deliveries/s',
          goal: `≥ ${GOAL_PER_SECOND}/s`,
          ok: complete && rate >= GOAL_PER_SECOND,
          note: complete
            ? `every signature valid, no event out of order`
            : `received ${s.received}, rows delivered ${delivered}, bad signatures ${s.badSignatures}, out of order ${s.outOfOrder}`,
        },
        {
          name: 'webhooks: queueWebhookEvent (100 events per transaction)',
          value: Math.round(DELIVERIES / enqueueSeconds),
          unit: 'events/s',
        },
      );
      await db.query('DELETE FROM webhook_deliveries');
      await db.query('DELETE FROM webhooks');
    } finally {
      await db.destroy();
      await rx.close();
    }
    return rows;
  },
};
