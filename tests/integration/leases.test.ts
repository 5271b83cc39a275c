import { DataSource } from 'typeorm';
import { createLeaseHolder, LeaseHolder } from '../../src/db/leases';
import { withTransaction } from '../../src/db/transaction';
import { createMailWorker, enqueue } from '../../src/modules/mail';
import { createLogger } from '../../src/shared/logger';
import { createTestDatabase, testConfig, truncateAll } from '../support/context';
import { SmtpSink, startSmtpSink } from '../support/smtp-sink';

/**
 * The shared claims (src/db/leases.ts) on a real PostgreSQL, with short leases so the test runs in
 * seconds: a live holder keeps its rows past the lease, a silent one loses them, shutdown hands them
 * back, and the mail worker built on it hands back what it did not start.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('claims with leases', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: DataSource;
  const holders: LeaseHolder[] = [];
  const holder = (leaseMs: number, heartbeatMs?: number) => {
    const h = createLeaseHolder(db, { leaseMs, heartbeatMs, name: 'test' });
    holders.push(h);
    return h;
  };
  const queue = (n: number) =>
    withTransaction(db, async (tx) => {
      for (let i = 0; i < n; i++)
        await enqueue(tx, 'staff-account-created', `r${i}@example.org`, { name: `R${i}`, role: 'moderator', email: `r${i}@example.org` });
    });
  const claimEmails = (h: LeaseHolder, limit = 100) =>
    h.claim<{ id: string }>({ table: 'outbound_emails', where: `t.status = 'queued'`, limit, returning: 't.id', orderBy: 't.created_at' });
  const claimedBy = async () =>
    (await db.query(`SELECT claimed_by, count(*)::int AS n FROM outbound_emails GROUP BY claimed_by`)) as {
      claimed_by: string | null;
      n: number;
    }[];

  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
  });
  afterAll(async () => {
    await t.drop();
  });
  beforeEach(() => truncateAll(db));
  afterEach(async () => {
    for (const h of holders.splice(0)) await h.stop();
  });

  it('when a live holder keeps heartbeating past its lease, then no one else can claim its rows; when it stops, they are free at once', async () => {
    await queue(5);
    const a = holder(600, 150);
    const b = holder(600, 150);
    const mine = await claimEmails(a);
    expect(mine).toHaveLength(5);
    expect(mine.every((r) => r.claimed_by === a.instanceId)).toBe(true);
    await sleep(1_500); // 2.5 leases
    expect(a.holds(mine[0].claimed_by)).toBe(true);
    expect(await claimEmails(b)).toEqual([]);
    expect(await claimedBy()).toEqual([{ claimed_by: a.instanceId, n: 5 }]);

    await a.stop(); // graceful: handed back and unregistered
    expect(await claimedBy()).toEqual([{ claimed_by: null, n: 5 }]);
    expect((await db.query(`SELECT id FROM worker_instances`)).map((r: { id: string }) => r.id)).not.toContain(mine[0].claimed_by);
    expect(await claimEmails(b)).toHaveLength(5);
  });

  it('when a holder stops heartbeating (a dead process), then its rows are claimed by another after the lease, and it learns it lost them', async () => {
    await queue(3);
    const silent = holder(500, 60 * 60_000); // never beats again after registering
    const other = holder(500, 100);
    const taken = await claimEmails(silent);
    expect(taken).toHaveLength(3);
    expect(await claimEmails(other)).toEqual([]); // not yet: the lease runs
    await sleep(800);
    expect(silent.holds(taken[0].claimed_by)).toBe(false); // it knows not to start work now
    const reclaimed = await claimEmails(other);
    expect(reclaimed.map((r) => r.id).sort()).toEqual(taken.map((r) => r.id).sort());
    expect(reclaimed.every((r) => r.claimed_by === other.instanceId)).toBe(true);

    // Its next heartbeat finds its registration expired: it registers anew and the old rows stay taken.
    const oldId = silent.instanceId;
    await silent.heartbeat();
    expect(silent.instanceId).toBeDefined();
    expect(silent.instanceId).not.toBe(oldId);
    expect(silent.holds(taken[0].claimed_by)).toBe(false);
    expect(await silent.release('outbound_emails')).toBe(0); // nothing of ours to hand back
    expect(await claimedBy()).toEqual([{ claimed_by: other.instanceId, n: 3 }]);
  });

  it('when a claim names something that is not a plain identifier, then it is refused before reaching SQL', async () => {
    await expect(
      holder(500).claim({ table: 'outbound_emails; DROP TABLE users', where: 'true', limit: 1, returning: 't.id' }),
    ).rejects.toThrow(/identifier/);
  });

  describe('the mail worker on it', () => {
    let sink: SmtpSink;
    beforeAll(async () => {
      sink = await startSmtpSink();
    });
    afterAll(async () => {
      await sink.stop();
    });

    it('when stopped while sending, then it finishes the emails in flight and hands back the rest untried, free for another worker at once', async () => {
      await queue(12);
      sink.clear();
      sink.setDelay(300);
      const config = testConfig({ SMTP_URL: sink.url, MAIL_FROM: 'Takedown Desk <desk@takedown.test>' });
      const w1 = createMailWorker(
        { db, config, logger: createLogger('silent'), clock: { now: () => new Date() } },
        { concurrency: 2, batchSize: 12 },
      );
      const run = w1.drain();
      await sleep(450); // two sends answered, two in flight
      w1.stop();
      const r1 = await run;
      await w1.close();
      expect(r1.claimed).toBe(12);
      expect(r1.sent).toBeGreaterThanOrEqual(2);
      expect(r1.sent).toBeLessThan(12);
      const rows: { status: string; attempts: number; claimed_by: string | null }[] = await db.query(
        `SELECT status, attempts, claimed_by FROM outbound_emails`,
      );
      expect(rows.filter((r) => r.claimed_by !== null)).toEqual([]);
      expect(rows.filter((r) => r.status === 'queued').every((r) => r.attempts === 0)).toBe(true);
      expect(rows.filter((r) => r.status === 'sent').every((r) => r.attempts === 1)).toBe(true);

      sink.setDelay(0);
      const w2 = createMailWorker({ db, config, logger: createLogger('silent'), clock: { now: () => new Date() } });
      const r2 = await w2.drain();
      await w2.close();
      expect(r1.sent + r2.sent).toBe(12);
      expect(new Set(sink.messages.map((m) => m.parsed.messageId)).size).toBe(12);
      expect(sink.messages).toHaveLength(12);
    });
  });
});
