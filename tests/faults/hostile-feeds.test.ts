import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { withTransaction } from '../../src/db/transaction';
import { SYSTEM } from '../../src/modules/audit';
import { createSource } from '../../src/modules/items';
import { createTestDatabase } from '../support/context';
import { rss, rssItem, startFeedServer, xmlRoute } from '../support/feed-server';
import { AppProcess, startApp, waitFor } from './support/app-process';

/**
 * Scenario 4: the scheduled feed import meets hostile feed servers — one that never answers, one
 * that stops half-way through the body, one that sends random bytes, one that sends 100 MB — next
 * to two ordinary feeds. Each hostile import fails cleanly (its reason recorded on the source and
 * audited, within the download deadline, without reading the 100 MB into memory) and the ordinary
 * feeds are imported by the same job run.
 */
const MB = 1024 * 1024;
const HUGE_BYTES = 100 * MB;

/** Resident-set high-water mark of a process, in bytes. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Writes `total` bytes of one endless feed, respecting back-pressure, until done or the client leaves. */
async function streamHuge(res: ServerResponse, total: number) {
  res.setHeader('Content-Type', 'application/rss+xml; charset=utf-8');
  const entry = Buffer.from(rssItem({ guid: 'same', link: 'https://huge.example/a', title: 'Again', description: 'x'.repeat(900) }));
  let sent = 0;
  res.write('<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>');
  while (sent < total && !res.destroyed) {
    sent += entry.length;
    if (!res.write(entry)) {
      await new Promise<void>((resolve) => {
        const go = () => {
          res.off('drain', go);
          res.off('close', go);
          resolve();
        };
        res.on('drain', go);
        res.on('close', go);
      });
    }
  }
  if (!res.destroyed) res.end('</channel></rss>');
}

describe('when some feeds hang, send garbage or send 100 MB', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let feeds: Awaited<ReturnType<typeof startFeedServer>>;
  let app: AppProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    feeds = await startFeedServer();
  });

  afterAll(async () => {
    await app?.stop();
    await feeds?.close();
    await database?.drop();
  });

  it('then those imports fail cleanly, in bounded time and memory, and the others are imported', async () => {
    let resolvePid: (pid: number) => void = () => undefined;
    const pid = new Promise<number>((r) => (resolvePid = r));
    let peakBeforeHuge = NaN;
    const good = (n: number, prefix: string) =>
      rss(
        Array.from({ length: n }, (_, i) =>
          rssItem({ guid: `${prefix}-${i}`, link: `https://${prefix}.example/a/${i}`, title: `${prefix} ${i}`, description: 'Text.' }),
        ),
      );

    feeds.routes.set('/good-1.xml', xmlRoute(good(3, 'goodone')));
    feeds.routes.set('/good-2.xml', xmlRoute(good(2, 'goodtwo')));
    feeds.routes.set('/hang.xml', () => undefined); // accepts the request, never answers
    feeds.routes.set('/stall.xml', (_req, res) => {
      res.setHeader('Content-Type', 'application/rss+xml');
      res.write('<?xml version="1.0"?><rss version="2.0"><channel><title>Stalls</title>'); // …and nothing more
    });
    feeds.routes.set('/garbage.xml', (_req, res) => {
      res.setHeader('Content-Type', 'application/rss+xml');
      res.end(randomBytes(64 * 1024));
    });
    feeds.routes.set('/huge.xml', (_req, res) => {
      void pid.then((p) => {
        peakBeforeHuge = peakRss(p);
        return streamHuge(res, HUGE_BYTES);
      });
    });

    const names = ['good-1', 'hang', 'stall', 'garbage', 'huge', 'good-2'];
    const ids = new Map<string, string>();
    for (const name of names) {
      const s = await withTransaction(database.db, (tx) =>
        createSource(tx, {
          name: `Feed ${name}`,
          domains: [`${name}.example`],
          feedUrl: `${feeds.url}/${name}.xml`,
          at: new Date(),
          actor: SYSTEM,
        }),
      );
      ids.set(name, s.id);
    }

    const started = Date.now();
    app = await startApp({ DATABASE_URL: database.url });
    resolvePid(app.pid);

    // The import job runs at start, one source after the other.
    type Row = { name: string; status: string; result: { ok: boolean; reason?: string; created?: number; ms?: number } | null };
    const rows = await waitFor(
      'every source to have an import result',
      async () => {
        const r: Row[] = await database.db.query(`SELECT name, status, last_fetch_result AS result FROM sources`);
        return r.length === names.length && r.every((x) => x.result) ? r : undefined;
      },
      150_000,
      250,
    );
    const elapsed = Date.now() - started;
    const peakAfter = peakRss(app.pid);
    const byName = new Map(rows.map((r) => [r.name.replace('Feed ', ''), r]));
    const outcome = (n: string) => ({
      ok: byName.get(n)!.result!.ok,
      reason: byName.get(n)!.result!.reason,
      status: byName.get(n)!.status,
    });

    expect(outcome('good-1')).toEqual({ ok: true, reason: undefined, status: 'active' });
    expect(outcome('good-2')).toEqual({ ok: true, reason: undefined, status: 'active' });
    expect(byName.get('good-1')!.result!.created).toBe(3);
    expect(byName.get('good-2')!.result!.created).toBe(2);
    expect(outcome('hang')).toEqual({ ok: false, reason: expect.stringMatching(/timed out/), status: 'active' });
    expect(outcome('stall')).toEqual({ ok: false, reason: expect.stringMatching(/timed out/), status: 'active' });
    expect(outcome('garbage')).toEqual({ ok: false, reason: expect.any(String), status: 'active' });
    expect(outcome('garbage').reason).not.toMatch(/internal error/);
    expect(outcome('huge')).toEqual({ ok: false, reason: expect.stringMatching(/too large/), status: 'active' });

    // Each import is audited once, failed or not.
    const events: { action: string; subject_id: string }[] = await database.db.query(
      `SELECT action, subject_id FROM audit_events WHERE action IN ('source.fetched', 'source.fetch_failed')`,
    );
    const actionOf = (n: string) => events.filter((e) => e.subject_id === ids.get(n)).map((e) => e.action);
    for (const n of ['good-1', 'good-2']) expect(actionOf(n)).toEqual(['source.fetched']);
    for (const n of ['hang', 'stall', 'garbage', 'huge']) expect(actionOf(n)).toEqual(['source.fetch_failed']);

    // Memory: the 100 MB body was not held (the cap is 20 MB); the process's peak grew far less than 100 MB.
    expect(Number.isFinite(peakBeforeHuge)).toBe(true);
    const growth = peakAfter - peakBeforeHuge;
    expect(growth).toBeLessThan(64 * MB);
    expect(app.running).toBe(true);
    process.stdout.write(
      `hostile-feeds: all six imports done in ${elapsed} ms after start; peak RSS ${(peakBeforeHuge / MB).toFixed(0)} MB before the 100 MB feed, ` +
        `${(peakAfter / MB).toFixed(0)} MB after (growth ${(growth / MB).toFixed(1)} MB); ` +
        `import times ${JSON.stringify(Object.fromEntries(rows.map((r) => [r.name, r.result!.ms])))}\n`,
    );
  });
});
