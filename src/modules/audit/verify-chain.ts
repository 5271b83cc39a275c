import { DataSource } from 'typeorm';
import { CHAIN_COLUMNS, ChainRow, eventHash, GENESIS_HASH } from './hash-chain';

export interface VerifyResult {
  ok: boolean;
  /** Sealed events checked. */
  events: number;
  /** The first chain sequence whose hash or link does not match, or null. */
  firstBadSequence: number | null;
  /** Why that event failed. */
  problem: string | null;
  /** Committed events not yet sealed (the sealer runs every few hundred milliseconds). */
  unsealed: number;
}

const BATCH = 5_000;

/** Walks the whole chain in batches (constant memory) and names the first event that does not match. */
export async function verifyAuditChain(db: DataSource): Promise<VerifyResult> {
  let expectedSeq = 1n;
  let prev = GENESIS_HASH;
  let events = 0;
  const bad = (seq: bigint, problem: string): VerifyResult => ({
    ok: false,
    events,
    firstBadSequence: Number(seq),
    problem,
    unsealed: 0,
  });
  for (;;) {
    const rows: (ChainRow & { prev_hash: string | null; hash: string | null })[] = await db.query(
      `SELECT ${CHAIN_COLUMNS} FROM audit_events WHERE sequence >= $1 ORDER BY sequence LIMIT ${BATCH}`,
      [expectedSeq.toString()],
    );
    for (const row of rows) {
      const seq = BigInt(row.sequence);
      if (seq !== expectedSeq) return bad(seq, `event ${expectedSeq} is missing`);
      if (row.prev_hash !== prev) return bad(seq, 'its link to the previous event does not match');
      if (row.hash !== eventHash(prev, row)) return bad(seq, 'its content does not match its hash');
      prev = row.hash;
      expectedSeq += 1n;
      events += 1;
    }
    if (rows.length < BATCH) break;
  }
  const [{ unsealed, orphans }] = await db.query(
    `SELECT count(*) FILTER (WHERE sequence IS NULL AND hash IS NULL)::int AS unsealed,
            count(*) FILTER (WHERE (sequence IS NULL) <> (hash IS NULL))::int AS orphans
       FROM audit_events WHERE sequence IS NULL OR hash IS NULL`,
  );
  if (orphans > 0) return { ...bad(expectedSeq, 'an event carries a hash without a place in the chain'), unsealed };
  return { ok: true, events, firstBadSequence: null, problem: null, unsealed };
}
