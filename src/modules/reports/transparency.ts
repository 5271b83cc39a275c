import { EntityManager } from 'typeorm';
import { publicClaimant } from './export-notices';
import { OUTCOME_LABELS, type TargetOutcome } from '../notices';

export const CLAIM_TYPES = ['copyright', 'trademark', 'defamation', 'privacy', 'other'] as const;
export const OUTCOMES = ['removed', 'partly_removed', 'restored', 'rejected', 'withdrawn', 'spam', 'open'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface MonthFigures {
  /** `YYYY-MM` (UTC). */
  month: string;
  received: Record<(typeof CLAIM_TYPES)[number], number> & { total: number };
  /** What became of the notices received that month (their current state). */
  outcomes: Record<Outcome, number>;
  /** Items (URLs) made unavailable / restored that month. */
  urlsRemoved: number;
  urlsRestored: number;
  /** SPEC §19: images removed from pages that stayed published (counted apart from the articles above), of which removed at import by the image staydown, and restored. */
  imagesRemoved: number;
  imagesRemovedAtImport: number;
  imagesRestored: number;
  counterNotices: number;
  /** Decisions made that month and how long they took from receipt, in hours. */
  decisions: number;
  medianHours: number | null;
  p90Hours: number | null;
  /** Complaints against decisions (SPEC §18): received that month; decided and reversed that month, and the median hours from complaint to its decision. */
  complaints: number;
  complaintsDecided: number;
  complaintsReversed: number;
  complaintMedianHours: number | null;
}

/**
 * The outcome of a notice in the public report, from its current status and targets:
 * removed (every matched URL), partly removed (some kept), restored (after a counter-notice),
 * rejected, withdrawn (incl. expired unconfirmed), spam, or still open.
 */
const OUTCOME_SQL = `CASE
  WHEN n.status IN ('approved', 'countered', 'upheld') THEN
    CASE WHEN EXISTS (SELECT 1 FROM notice_targets t WHERE t.notice_id = n.id AND t.outcome = 'kept') THEN 'partly_removed' ELSE 'removed' END
  WHEN n.status = 'restored' THEN 'restored'
  WHEN n.status IN ('rejected', 'withdrawn', 'spam') THEN n.status
  ELSE 'open' END`;

const MONTH = (col: string) => `to_char(date_trunc('month', ${col} AT TIME ZONE 'UTC'), 'YYYY-MM')`;

/** The figures of the last `months` months with any activity, newest first. All sums in SQL. */
export async function transparencyReport(tx: EntityManager, opts: { months?: number; now?: Date } = {}): Promise<MonthFigures[]> {
  const months = opts.months ?? 12;
  const now = opts.now ?? new Date();
  const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (months - 1), 1));
  const [received, outcomes, urls, decisions, complaintsIn, complaintsOut] = await Promise.all([
    tx.query(
      `SELECT ${MONTH('n.submitted_at')} AS month, n.claim_type AS k, count(*)::int AS c
         FROM notices n WHERE n.submitted_at >= $1 GROUP BY 1, 2`,
      [since],
    ),
    tx.query(
      `SELECT ${MONTH('n.submitted_at')} AS month, ${OUTCOME_SQL} AS k, count(*)::int AS c
         FROM notices n WHERE n.submitted_at >= $1 GROUP BY 1, 2`,
      [since],
    ),
    tx.query(
      `SELECT ${MONTH('occurred_at')} AS month,
              CASE WHEN action = 'item.image_removed' AND details ? 'match' THEN 'item.image_removed_at_import' ELSE action END AS k, count(*)::int AS c
         FROM audit_events
        WHERE action IN ('item.removed', 'item.restored', 'notice.countered', 'item.image_removed', 'item.image_restored') AND occurred_at >= $1
        GROUP BY 1, 2`,
      [since],
    ),
    tx.query(
      `SELECT ${MONTH('decided_at')} AS month, count(*)::int AS c,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - submitted_at) / 3600) AS median,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - submitted_at) / 3600) AS p90
         FROM notices WHERE decided_at IS NOT NULL AND decided_at >= $1 GROUP BY 1`,
      [since],
    ),
    tx.query(`SELECT ${MONTH('submitted_at')} AS month, count(*)::int AS c FROM complaints WHERE submitted_at >= $1 GROUP BY 1`, [since]),
    tx.query(
      `SELECT ${MONTH('decided_at')} AS month, count(*)::int AS c, count(*) FILTER (WHERE status = 'reversed')::int AS reversed,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - submitted_at) / 3600) AS median
         FROM complaints WHERE decided_at IS NOT NULL AND decided_at >= $1 GROUP BY 1`,
      [since],
    ),
  ]);
  const byMonth = new Map<string, MonthFigures>();
  const get = (month: string) => {
    let f = byMonth.get(month);
    if (!f) {
      f = {
        month,
        received: { copyright: 0, trademark: 0, defamation: 0, privacy: 0, other: 0, total: 0 },
        outcomes: { removed: 0, partly_removed: 0, restored: 0, rejected: 0, withdrawn: 0, spam: 0, open: 0 },
        urlsRemoved: 0,
        urlsRestored: 0,
        imagesRemoved: 0,
        imagesRemovedAtImport: 0,
        imagesRestored: 0,
        counterNotices: 0,
        decisions: 0,
        medianHours: null,
        p90Hours: null,
        complaints: 0,
        complaintsDecided: 0,
        complaintsReversed: 0,
        complaintMedianHours: null,
      };
      byMonth.set(month, f);
    }
    return f;
  };
  for (const r of received as { month: string; k: keyof MonthFigures['received']; c: number }[]) {
    const f = get(r.month);
    f.received[r.k] = (f.received[r.k] ?? 0) + r.c;
    f.received.total += r.c;
  }
  for (const r of outcomes as { month: string; k: Outcome; c: number }[]) get(r.month).outcomes[r.k] += r.c;
  for (const r of urls as { month: string; k: string; c: number }[]) {
    const f = get(r.month);
    if (r.k === 'item.removed') f.urlsRemoved = r.c;
    else if (r.k === 'item.restored') f.urlsRestored = r.c;
    else if (r.k === 'item.image_removed') f.imagesRemoved += r.c;
    else if (r.k === 'item.image_removed_at_import') {
      f.imagesRemoved += r.c;
      f.imagesRemovedAtImport = r.c;
    } else if (r.k === 'item.image_restored') f.imagesRestored = r.c;
    else f.counterNotices = r.c;
  }
  const round = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);
  for (const r of decisions as { month: string; c: number; median: unknown; p90: unknown }[]) {
    const f = get(r.month);
    f.decisions = r.c;
    f.medianHours = round(r.median);
    f.p90Hours = round(r.p90);
  }
  for (const r of complaintsIn as { month: string; c: number }[]) get(r.month).complaints = r.c;
  for (const r of complaintsOut as { month: string; c: number; reversed: number; median: unknown }[]) {
    const f = get(r.month);
    f.complaintsDecided = r.c;
    f.complaintsReversed = r.reversed;
    f.complaintMedianHours = round(r.median);
  }
  return [...byMonth.values()].sort((a, b) => (a.month < b.month ? 1 : -1));
}

const PUBLIC_STATUS: Record<string, string> = {
  unverified: 'received, waiting for the sender to confirm',
  pending: 'under review',
  in_review: 'under review',
  needs_info: 'under review (more information requested)',
  approved: 'content removed',
  countered: 'content removed; counter-notice received',
  rejected: 'rejected: content not removed',
  withdrawn: 'withdrawn by the sender',
  spam: 'closed without action',
  restored: 'content restored after a counter-notice',
  upheld: 'removal upheld after a court action',
};

const PUBLIC_EVENTS: Record<string, string> = {
  'notice.submitted': 'Notice received',
  'notice.approved': 'Decision: content removed',
  'notice.rejected': 'Decision: rejected',
  'notice.spam': 'Closed without action',
  'notice.withdrawn': 'Withdrawn by the sender',
  'notice.expired': 'Withdrawn (sender never confirmed)',
  'notice.countered': 'Counter-notice received',
  'notice.restored': 'Content restored',
  'notice.upheld': 'Removal upheld after a court action',
  'notice.reopened': 'Decision reversed after a complaint: under review again',
  'notice.reversed': 'Decision reversed after a complaint: content restored',
};

/** `restored` is also where a removal reversed on a complaint ends (SPEC §18): its label says which. */
const REVERSED_LABEL = 'content restored after a complaint (decision reversed)';

/**
 * The public record of one notice, read fresh on every request so it shows the current state. It
 * carries no email, phone, address, IP or private person's name: the claimant is an organisation's
 * name or "[private]". Null for an unknown (or never confirmed) notice.
 */
export async function publicNoticeRecord(tx: EntityManager, reference: string) {
  const [n] = await tx.query(
    `SELECT id, reference, status, claim_type, organization, role, original_urls, submitted_at, decided_at
       FROM notices WHERE reference = $1 AND status <> 'unverified'`,
    [reference],
  );
  if (!n) return null;
  const [targets, events] = await Promise.all([
    tx.query('SELECT url, outcome FROM notice_targets WHERE notice_id = $1 ORDER BY position', [n.id]),
    tx.query(
      `SELECT occurred_at, action FROM audit_events WHERE subject_type = 'notice' AND subject_id = $1 AND action = ANY($2) ORDER BY id`,
      [n.reference, Object.keys(PUBLIC_EVENTS)],
    ),
  ]);
  return {
    reference: n.reference as string,
    status: n.status as string,
    statusLabel:
      n.status === 'restored' && (events as { action: string }[]).some((e) => e.action === 'notice.reversed')
        ? REVERSED_LABEL
        : (PUBLIC_STATUS[n.status] ?? n.status),
    claimType: n.claim_type as string,
    claimant: publicClaimant(n),
    onBehalfOfOwner: n.role === 'agent',
    originalUrls: n.original_urls as string[],
    submittedAt: n.submitted_at as Date,
    decidedAt: n.decided_at as Date | null,
    targets: (targets as { url: string; outcome: TargetOutcome }[]).map((t) => ({
      url: t.url,
      outcome: t.outcome,
      outcomeLabel: OUTCOME_LABELS[t.outcome],
    })),
    timeline: (events as { occurred_at: Date; action: string }[]).map((e) => ({ at: e.occurred_at, text: PUBLIC_EVENTS[e.action] })),
  };
}
