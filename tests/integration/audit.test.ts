import { withTransaction } from '../../src/db/transaction';
import { record, sealAuditChain, verifyAuditChain, type AuditAction } from '../../src/modules/audit';
import { createTestDatabase, truncateAll } from '../support/context';

describe('audit trail', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.drop());
  beforeEach(() => truncateAll(t.db));

  const write = (n: number, action = 'test.happened') =>
    withTransaction(t.db, async (tx) => {
      for (let i = 0; i < n; i++)
        await record(tx, {
          actor: { type: 'system' },
          action: action as AuditAction,
          subject: { type: 'test', id: String(i) },
          details: { i, text: `event ${i}` },
          at: new Date(),
        });
    });

  it('when events are written by many concurrent transactions, then every one is sealed once and the chain verifies', async () => {
    await Promise.all(Array.from({ length: 20 }, () => write(5)));
    // Sealers racing each other (as on several instances) still produce one chain.
    await Promise.all([sealAuditChain(t.db), sealAuditChain(t.db), sealAuditChain(t.db)]);
    await sealAuditChain(t.db);
    const r = await verifyAuditChain(t.db);
    expect(r).toMatchObject({ ok: true, events: 100, firstBadSequence: null, unsealed: 0 });
    const [{ n, seqs }] = await t.db.query('SELECT count(*)::int AS n, count(DISTINCT sequence)::int AS seqs FROM audit_events');
    expect(n).toBe(100);
    expect(seqs).toBe(100);
  });

  it('when a transaction rolls back, then its events are not in the chain', async () => {
    await write(2);
    await expect(
      withTransaction(t.db, async (tx) => {
        await record(tx, { actor: { type: 'system' }, action: 'test.rolled_back' as AuditAction, at: new Date() });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await sealAuditChain(t.db);
    const rows = await t.db.query(`SELECT action FROM audit_events WHERE action = 'test.rolled_back'`);
    expect(rows).toHaveLength(0);
    expect((await verifyAuditChain(t.db)).events).toBe(2);
  });

  it('when an event is changed behind the trigger, then verify names its sequence', async () => {
    await write(10);
    await sealAuditChain(t.db);
    await t.db.transaction(async (tx) => {
      await tx.query('SET LOCAL session_replication_role = replica'); // the database owner disabling the guard
      await tx.query(`UPDATE audit_events SET details = '{"i": 6, "text": "forged"}' WHERE sequence = 7`);
    });
    const r = await verifyAuditChain(t.db);
    expect(r.ok).toBe(false);
    expect(r.firstBadSequence).toBe(7);
    expect(r.events).toBe(6);
  });

  it('when an event is deleted behind the trigger, then verify names the event after the gap', async () => {
    await write(5);
    await sealAuditChain(t.db);
    await t.db.transaction(async (tx) => {
      await tx.query('SET LOCAL session_replication_role = replica');
      await tx.query('DELETE FROM audit_events WHERE sequence = 3');
    });
    const r = await verifyAuditChain(t.db);
    expect(r).toMatchObject({ ok: false, firstBadSequence: 4, events: 2 });
  });

  it('when anyone updates, deletes or truncates audit events, then the database refuses', async () => {
    await write(3);
    await sealAuditChain(t.db);
    await expect(t.db.query(`UPDATE audit_events SET action = 'x' WHERE sequence = 1`)).rejects.toThrow(/append-only/);
    await expect(t.db.query(`UPDATE audit_events SET hash = repeat('0', 64) WHERE sequence = 1`)).rejects.toThrow(/append-only/);
    await expect(t.db.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
    await expect(t.db.query('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
    await expect(
      t.db.query(
        `INSERT INTO audit_events (occurred_at, actor_type, actor_label, action, sequence, prev_hash, hash) VALUES (now(), 'system', 'x', 'forged', 99, repeat('0',64), repeat('0',64))`,
      ),
    ).rejects.toThrow(/unsealed/);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });

  it('when a sealed event is re-sealed with a different hash, then the database refuses', async () => {
    await write(1);
    await sealAuditChain(t.db);
    await expect(t.db.query(`UPDATE audit_events SET sequence = 5 WHERE sequence = 1`)).rejects.toThrow(/append-only/);
  });
});
