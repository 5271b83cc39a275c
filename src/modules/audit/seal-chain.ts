import { DataSource } from 'typeorm';
import { CHAIN_COLUMNS, ChainRow, eventHash, GENESIS_HASH } from './hash-chain';

const SEAL_LOCK = 0x7a_75_64_31; // advisory lock key: one sealer at a time across all instances
const BATCH = 2_000;

/**
 * Seals every committed, unsealed event into the hash chain, in commit-visibility order: each gets
 * the next chain sequence, the previous event's hash and its own. Writers never wait on this: they
 * only insert. An event that committed is always visible to the next run, so none is ever missing;
 * one still in flight is simply sealed by a later run. Returns how many events were sealed.
 */
export async function sealAuditChain(db: DataSource): Promise<number> {
  let total = 0;
  for (;;) {
    const sealed = await db.transaction(async (tx) => {
      const [{ locked }] = await tx.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [SEAL_LOCK]);
      if (!locked) return -1;
      const last: { sequence: string; hash: string }[] = await tx.query(
        'SELECT sequence, hash FROM audit_events WHERE sequence IS NOT NULL ORDER BY sequence DESC LIMIT 1',
      );
      let seq = last.length ? BigInt(last[0].sequence) : 0n;
      let prev = last.length ? last[0].hash : GENESIS_HASH;
      const rows: (ChainRow & { id: string })[] = await tx.query(
        `SELECT ${CHAIN_COLUMNS} FROM audit_events WHERE hash IS NULL ORDER BY id LIMIT ${BATCH}`,
      );
      if (!rows.length) return 0;
      const ids: string[] = [];
      const seqs: string[] = [];
      const prevs: string[] = [];
      const hashes: string[] = [];
      for (const row of rows) {
        seq += 1n;
        const hash = eventHash(prev, { ...row, sequence: seq.toString() });
        ids.push(row.id);
        seqs.push(seq.toString());
        prevs.push(prev);
        hashes.push(hash);
        prev = hash;
      }
      await tx.query(
        `UPDATE audit_events a SET sequence = v.seq, prev_hash = v.prev, hash = v.hash
           FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS v(id, seq, prev, hash)
          WHERE a.id = v.id`,
        [ids, seqs, prevs, hashes],
      );
      return rows.length;
    });
    if (sealed <= 0) return total;
    total += sealed;
    if (sealed < BATCH) return total;
  }
}
