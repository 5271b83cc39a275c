import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { AddressInfo } from 'node:net';
import { sealAuditChain, verifyAuditChain } from '../../src/modules/audit';
import { createTestContext, TestContext, truncateAll } from '../support/context';
import { createStaff, tokenFor } from '../support/staff';

const EVENTS = 200_000;

// Live memory, not garbage not yet collected: a full GC before each heap sample.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Inserts `n` realistic events in one statement (the chain is sealed afterwards, as in production). */
async function insertEvents(t: TestContext, n: number) {
  await t.db.query(
    `INSERT INTO audit_events (occurred_at, actor_type, actor_label, action, subject_type, subject_id, details, ip, request_id)
     SELECT now() - (g || ' seconds')::interval, 'system', 'bulk-writer', 'test.bulk', 'notice', 'TD-' || lpad(g::text, 6, '0'),
            jsonb_build_object('i', g, 'before', jsonb_build_object('status', 'pending'), 'after', jsonb_build_object('status', 'in_review'),
                               'note', 'a note, with "quotes" and a comma ' || md5(g::text)),
            '198.51.100.' || (g % 250), md5(g::text)
       FROM generate_series(1, $1) AS g`,
    [n],
  );
}

describe('audit export at scale', () => {
  let t: TestContext;
  let server: http.Server;
  let token: string;

  beforeAll(async () => {
    t = await createTestContext();
    await truncateAll(t.db);
    token = await tokenFor(t.db, await createStaff(t.db, { role: 'admin' }));
    await insertEvents(t, EVENTS);
    await sealAuditChain(t.db);
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
  }, 400_000);
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await t.close();
  });

  /**
   * Streams an export through real HTTP (server and client both in this process), discarding the
   * bytes, and samples the heap after a full GC every 64 chunks: what the export holds on to.
   */
  function consume(path: string): Promise<{ status: number; bytes: number; lines: number; before: number; peak: number; after: number }> {
    const { port } = server.address() as AddressInfo;
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let bytes = 0;
    let lines = 0;
    let chunks = 0;
    return new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, agent: false, headers: { Authorization: `Bearer ${token}` } }, (res) => {
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
            if (++chunks % 64 !== 0) return;
            gc();
            const used = process.memoryUsage().heapUsed;
            if (used > peak) peak = used;
          });
          res.on('end', () => {
            gc();
            resolve({ status: res.statusCode ?? 0, bytes, lines, before, peak, after: process.memoryUsage().heapUsed });
          });
          res.on('error', reject);
        })
        .on('error', reject);
    });
  }

  it.each(['csv', 'jsonl'])(
    'when %s-exporting 200,000 events, then every event arrives and the heap stays flat rather than growing with the export',
    async (format) => {
      const r = await consume(`/api/v1/audit/export?format=${format}`);
      expect(r.status).toBe(200);
      // Every event, the export's own audit event included (committed before the snapshot), plus the CSV header.
      const [{ n }] = await t.db.query('SELECT count(*)::int AS n FROM audit_events');
      expect(r.lines).toBe(n + (format === 'csv' ? 1 : 0));
      expect(r.bytes).toBeGreaterThan(EVENTS * 200); // the export is far larger than the bound below…
      expect(r.peak - r.before).toBeLessThan(50 * 1024 * 1024); // …yet live memory grows by less than 50 MB
      expect(r.after - r.before).toBeLessThan(20 * 1024 * 1024); // and nothing stays behind
    },
    180_000,
  );

  it('when 200,000 bulk-written events are sealed, then the chain verifies', async () => {
    await sealAuditChain(t.db);
    const v = await verifyAuditChain(t.db);
    expect(v.ok).toBe(true);
    expect(v.events).toBeGreaterThan(EVENTS);
  }, 180_000);
});
