import { EntityManager } from 'typeorm';
import { SYSTEM, record } from '../audit';
import { staffEmails } from '../auth';
import { setSourceStatus, setStrikeCount } from '../items';
import { enqueue } from '../mail';
import type { Notice } from '../notices';
import type { ReviewDeps } from './review-support';

const YEAR_MS = 365 * 86_400_000;

/**
 * Repeat infringement (SPEC §9): one strike per affected source for an approved notice. At
 * STRIKE_LIMIT strikes in the last 12 months an active source is paused (no more imports),
 * audited as `system`, and every active admin is emailed. Runs in the approval's transaction.
 */
export async function addStrikes(
  tx: EntityManager,
  deps: ReviewDeps,
  notice: Notice,
  sourceIds: string[],
  at: Date,
): Promise<{ sourceId: string; strikes: number; paused: boolean }[]> {
  const out = [];
  const limit = deps.config.policy.strikeLimit;
  for (const sourceId of [...new Set(sourceIds)].sort()) {
    const inserted: unknown[] = await tx.query(
      `INSERT INTO source_strikes (source_id, notice_id, at) VALUES ($1, $2, $3) ON CONFLICT (source_id, notice_id) DO NOTHING RETURNING id`,
      [sourceId, notice.id, at],
    );
    const [{ n }] = await tx.query(`SELECT count(*)::int AS n FROM source_strikes WHERE source_id = $1 AND at > $2`, [
      sourceId,
      new Date(at.getTime() - YEAR_MS),
    ]);
    const source = await setStrikeCount(tx, sourceId, n, at);
    if (inserted.length) {
      await record(tx, {
        actor: SYSTEM,
        action: 'source.struck',
        subject: { type: 'source', id: sourceId },
        details: { notice: notice.reference, strikesIn12Months: n, limit },
        at,
      });
    }
    let paused = false;
    if (source && inserted.length && n >= limit && source.status === 'active') {
      const reason = `${n} approved takedown notices in 12 months (limit ${limit}); the last was ${notice.reference}.`;
      await setSourceStatus(tx, { sourceId, change: 'pause', reason, actor: SYSTEM, at });
      paused = true;
      for (const email of await staffEmails(tx, 'admin')) {
        await enqueue(
          tx,
          'source-paused',
          email,
          {
            sourceName: source.name,
            strikes: n,
            limit,
            reference: notice.reference,
            reason,
            sourcesUrl: `${deps.config.publicBaseUrl}/sources`,
          },
          { noticeId: notice.id, dedupeKey: `source-paused:${sourceId}:${notice.id}:${email}` },
        );
      }
    }
    out.push({ sourceId, strikes: n, paused });
  }
  return out;
}
