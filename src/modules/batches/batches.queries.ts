import { EntityManager } from 'typeorm';
import { Batch } from './batch.entity';

/** The batch if it belongs to the submitter; another's is as unknown as none. */
export async function batchOf(tx: EntityManager, id: string, submitterId: string): Promise<Batch | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
  return tx.getRepository(Batch).findOneBy({ id, submitterId });
}

/** What `GET /api/v1/batches/:id` answers (SPEC §14). */
export async function batchJson(tx: EntityManager, b: Batch, baseUrl: string) {
  const refs: { notice_reference: string }[] = await tx.query(
    `SELECT notice_reference FROM batch_works WHERE batch_id = $1 AND notice_reference IS NOT NULL ORDER BY position`,
    [b.id],
  );
  return {
    id: b.id,
    status: b.status,
    works: b.works,
    urls: b.urls,
    processed: b.processed,
    notices: refs.map((r) => r.notice_reference),
    errors: b.errors,
    createdAt: b.createdAt,
    startedAt: b.startedAt,
    finishedAt: b.finishedAt,
    statusUrl: `${baseUrl}/api/v1/batches/${b.id}`,
  };
}

export const URL_PAGE = 1000;

/**
 * Per-URL results, in upload order, keyset on (work position, URL position): a URL of a work not
 * processed yet has no notice and outcome `queued`; a refused work's URLs have outcome `refused`.
 */
export async function batchUrls(tx: EntityManager, batchId: string, cursor: string | undefined) {
  const m = /^(\d{1,9})\.(\d{1,9})$/.exec(cursor ?? '');
  const [afterWork, afterUrl] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  const rows: {
    wp: number;
    up: number;
    url: string;
    item_id: string | null;
    notice_reference: string | null;
    outcome: string | null;
    error: string | null;
  }[] = await tx.query(
    `SELECT w.position AS wp, u.pos AS up, u.url, t.item_id, w.notice_reference, t.outcome, w.error
       FROM batch_works w
       CROSS JOIN LATERAL unnest(w.infringing_urls) WITH ORDINALITY AS u(url, pos)
       LEFT JOIN notice_targets t ON t.notice_id = w.notice_id AND t.url = u.url
      WHERE w.batch_id = $1 AND (w.position, u.pos) > ($2, $3)
      ORDER BY w.position, u.pos
      LIMIT $4`,
    [batchId, afterWork, afterUrl, URL_PAGE + 1],
  );
  const page = rows.slice(0, URL_PAGE);
  const last = page[page.length - 1];
  return {
    urls: page.map((r) => ({
      url: r.url,
      matched: !!r.item_id,
      noticeReference: r.notice_reference,
      outcome: r.error ? 'refused' : r.notice_reference ? (r.outcome ?? 'pending') : 'queued',
    })),
    nextCursor: rows.length > URL_PAGE ? `${last.wp}.${last.up}` : null,
  };
}

/** The submitter's batches, newest first, for the portal. */
export function batchesOf(tx: EntityManager, submitterId: string): Promise<Batch[]> {
  return tx.getRepository(Batch).find({ where: { submitterId }, order: { createdAt: 'DESC' }, take: 50 });
}
