import { EntityManager } from 'typeorm';

export interface ComplaintRow {
  id: string;
  reference: string;
  kind: string;
  name: string;
  email: string;
  grounds: string;
  status: string;
  decisionComplained: string;
  decisionDecidedBy: string | null;
  deciderEmail: string | null;
  submittedAt: Date;
  decidedAt: Date | null;
  decidedByEmail: string | null;
  outcomeReason: string | null;
  sourceName: string | null;
}

const SELECT = `
  SELECT c.id, n.reference, c.complainant_kind AS kind, c.name, c.email, c.grounds, c.status,
         c.decision_complained AS "decisionComplained", c.decision_decided_by AS "decisionDecidedBy",
         du.email AS "deciderEmail", c.submitted_at AS "submittedAt", c.decided_at AS "decidedAt",
         cu.email AS "decidedByEmail", c.outcome_reason AS "outcomeReason", s.name AS "sourceName"
    FROM complaints c
    JOIN notices n ON n.id = c.notice_id
    LEFT JOIN users du ON du.id = c.decision_decided_by
    LEFT JOIN users cu ON cu.id = c.decided_by
    LEFT JOIN sources s ON s.id = c.source_id`;

/** The staff queue: open complaints oldest first, then the last 50 decided. */
export async function complaintQueue(tx: EntityManager): Promise<{ open: ComplaintRow[]; decided: ComplaintRow[] }> {
  const open: ComplaintRow[] = await tx.query(`${SELECT} WHERE c.status = 'open' ORDER BY c.submitted_at, c.id LIMIT 500`);
  const decided: ComplaintRow[] = await tx.query(`${SELECT} WHERE c.status <> 'open' ORDER BY c.decided_at DESC, c.id LIMIT 50`);
  return { open, decided };
}

export async function complaintById(tx: EntityManager, id: string): Promise<ComplaintRow | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const [row] = await tx.query(`${SELECT} WHERE c.id = $1`, [id]);
  return row ?? null;
}

/**
 * Complaint figures for the transparency report and the DSA export (SPEC §18): per month of
 * submission, complaints received, decided, reversed, and the median handling time in hours.
 */
export async function complaintFigures(
  tx: EntityManager,
  from: Date,
  to: Date,
): Promise<{ month: string; received: number; decided: number; reversed: number; medianHandlingHours: number | null }[]> {
  const rows = await tx.query(
    `SELECT to_char(date_trunc('month', submitted_at AT TIME ZONE 'UTC'), 'YYYY-MM') AS month,
            count(*)::int AS received,
            count(*) FILTER (WHERE status <> 'open')::int AS decided,
            count(*) FILTER (WHERE status = 'reversed')::int AS reversed,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - submitted_at) / 3600)
              FILTER (WHERE decided_at IS NOT NULL) AS median
       FROM complaints WHERE submitted_at >= $1 AND submitted_at < $2
      GROUP BY 1 ORDER BY 1`,
    [from, to],
  );
  return rows.map((r: { month: string; received: number; decided: number; reversed: number; median: number | null }) => ({
    month: r.month,
    received: r.received,
    decided: r.decided,
    reversed: r.reversed,
    medianHandlingHours: r.median === null ? null : Math.round(Number(r.median) * 10) / 10,
  }));
}

/** Whether this party already has an open complaint on the notice. */
export async function hasOpenComplaint(tx: EntityManager, noticeId: string, kind: string, sourceId: string | null): Promise<boolean> {
  const rows: unknown[] = await tx.query(
    `SELECT 1 FROM complaints WHERE notice_id = $1 AND complainant_kind = $2 AND source_id IS NOT DISTINCT FROM $3 AND status = 'open'`,
    [noticeId, kind, sourceId],
  );
  return rows.length > 0;
}

/** Active staff to tell about a new complaint, the notice's decider marked (a read across modules for an email list). */
export async function complaintStaff(tx: EntityManager, deciderId: string | null): Promise<{ email: string; isDecider: boolean }[]> {
  const rows: { email: string; is_decider: boolean }[] = await tx.query(
    `SELECT email, id = $1 AS is_decider FROM users WHERE active ORDER BY email`,
    [deciderId],
  );
  return rows.map((r) => ({ email: r.email, isDecider: r.is_decider === true }));
}
