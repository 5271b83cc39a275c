import type { EntityManager } from 'typeorm';

/** Reads for the evidence page (joins across notices and the registry; nothing is written here). */

export interface EvidenceNotice {
  id: string;
  reference: string;
  status: string;
  email: string;
  name: string;
  organization: string | null;
  originalUrls: string[];
}

export interface EvidenceTarget {
  id: string;
  url: string;
  outcome: string;
  item: {
    id: string;
    slug: string;
    title: string;
    status: string;
    content: string;
    originalUrl: string;
    sourceId: string;
    sourceName: string;
  };
}

export async function evidenceNotice(tx: EntityManager, reference: string): Promise<EvidenceNotice | null> {
  const [n] = await tx.query(`SELECT id, reference, status, email, name, organization, original_urls FROM notices WHERE reference = $1`, [
    reference,
  ]);
  return n ? { ...n, originalUrls: n.original_urls ?? [] } : null;
}

/** The notice's targets that matched an item, with our copy of each. */
export async function matchedTargets(tx: EntityManager, noticeId: string): Promise<EvidenceTarget[]> {
  const rows = await tx.query(
    `SELECT t.id, t.url, t.outcome, i.id AS item_id, i.slug, i.title, i.status AS item_status, i.content, i.original_url, s.id AS source_id, s.name AS source_name
       FROM notice_targets t JOIN items i ON i.id = t.item_id JOIN sources s ON s.id = i.source_id
      WHERE t.notice_id = $1 ORDER BY t.position LIMIT 50`,
    [noticeId],
  );
  return rows.map((r: Record<string, string>) => ({
    id: r.id,
    url: r.url,
    outcome: r.outcome,
    item: {
      id: r.item_id,
      slug: r.slug,
      title: r.title,
      status: r.item_status,
      content: r.content,
      originalUrl: r.original_url,
      sourceId: r.source_id,
      sourceName: r.source_name,
    },
  }));
}

export interface RelatedNotice {
  reference: string;
  status: string;
  decision: string | null;
  submitted_at: Date;
  claimant: string;
  outcome?: string;
}

const LIMIT = 20;
const CLAIMANT = `coalesce(n.organization, n.name)`;

/** Other notices about the same items, the same sources, and from the same claimant (by email), newest first, with their outcomes. */
export async function relatedNotices(tx: EntityManager, notice: EvidenceNotice, itemIds: string[], sourceIds: string[]) {
  const [sameItem, sameSource, sameClaimant] = await Promise.all([
    itemIds.length
      ? tx.query(
          `SELECT DISTINCT ON (n.submitted_at, n.reference) n.reference, n.status, n.decision, n.submitted_at, ${CLAIMANT} AS claimant, t.outcome
             FROM notice_targets t JOIN notices n ON n.id = t.notice_id
            WHERE t.item_id = ANY($1::uuid[]) AND n.id <> $2 ORDER BY n.submitted_at DESC, n.reference LIMIT ${LIMIT}`,
          [itemIds, notice.id],
        )
      : [],
    sourceIds.length
      ? tx.query(
          `SELECT n.reference, n.status, n.decision, n.submitted_at, ${CLAIMANT} AS claimant
             FROM notices n
            WHERE n.id <> $2 AND EXISTS (SELECT 1 FROM notice_targets t JOIN items i ON i.id = t.item_id WHERE t.notice_id = n.id AND i.source_id = ANY($1::uuid[]))
            ORDER BY n.submitted_at DESC LIMIT ${LIMIT}`,
          [sourceIds, notice.id],
        )
      : [],
    tx.query(
      `SELECT n.reference, n.status, n.decision, n.submitted_at, ${CLAIMANT} AS claimant
         FROM notices n WHERE n.email = $1 AND n.id <> $2 ORDER BY n.submitted_at DESC LIMIT ${LIMIT}`,
      [notice.email, notice.id],
    ),
  ]);
  return {
    sameItem: sameItem as RelatedNotice[],
    sameSource: sameSource as RelatedNotice[],
    sameClaimant: sameClaimant as RelatedNotice[],
  };
}
