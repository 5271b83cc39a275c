import type { EntityManager } from 'typeorm';

/**
 * The team dashboard (SPEC §15, `/dashboard`): what the desk has to do now and how it worked the
 * last 30 days. Every figure is one indexed read — the backlog from the open-queue partial index,
 * the window's decisions from `notices_decided_idx` — so the page stays fast with a million
 * notices without a precomputed table that could drift from the notices themselves.
 *
 * Definitions (also in docs/dashboard.md):
 *  - backlog: notices `pending`, `in_review` or `needs_info`, by age since they were submitted (an
 *    index-only read of `notices_queue_idx`);
 *  - overdue: open notices past their due time (`needs_info` waits on the complainant: not counted);
 *  - decisions: approve, partly approve, reject, spam by a moderator (`decided_by` set), per UTC day;
 *  - time to decision: submitted → decided, for notices decided in the window;
 *  - counter-notice rate: counter-notices received in the window ÷ removals (approvals) decided in it;
 *  - restoration rate: counter-noticed removals restored in the window ÷ removals decided in it.
 */

export const DASHBOARD_DAYS = 30;

export const AGE_BUCKETS = [
  { key: 'lt1d', label: 'under 1 day', upToHours: 24 },
  { key: '1to2d', label: '1–2 days', upToHours: 48 },
  { key: '2to7d', label: '2–7 days', upToHours: 168 },
  { key: '7to30d', label: '7–30 days', upToHours: 720 },
  { key: 'gt30d', label: 'over 30 days', upToHours: Infinity },
] as const;

const OPEN = ['pending', 'in_review', 'needs_info'] as const;

export interface TeamDashboard {
  /** When these figures were computed. */
  at: string;
  from: string;
  to: string;
  backlog: { bucket: string; label: string; pending: number; in_review: number; needs_info: number; total: number }[];
  open: number;
  overdue: number;
  days: string[];
  moderators: { id: string; name: string; perDay: number[]; total: number }[];
  decisions: number;
  timeToDecision: {
    medianHours: number | null;
    p90Hours: number | null;
    perDay: { day: string; medianHours: number | null; p90Hours: number | null; n: number }[];
  };
  removals: number;
  counterNotices: number;
  restorations: number;
  counterNoticeRate: number | null;
  restorationRate: number | null;
}

const round1 = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);
const pct = (n: number, d: number) => (d ? Math.round((n / d) * 1000) / 10 : null);
const dayOf = (d: Date) => d.toISOString().slice(0, 10);

export async function teamDashboard(tx: EntityManager, now: Date): Promise<TeamDashboard> {
  // The window: the last 30 UTC days, today included.
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const from = new Date(today.getTime() - (DASHBOARD_DAYS - 1) * 86_400_000);
  const days = Array.from({ length: DASHBOARD_DAYS }, (_, i) => dayOf(new Date(from.getTime() + i * 86_400_000)));
  const bucketSql = `CASE ${AGE_BUCKETS.filter((b) => Number.isFinite(b.upToHours))
    .map((b) => `WHEN $1::timestamptz - submitted_at < interval '${b.upToHours} hours' THEN '${b.key}'`)
    .join(' ')} ELSE 'gt30d' END`;
  const [backlogRows, [overdueRow], perModerator, [overall], perDay, [removalsRow], [cnRow]] = await Promise.all([
    tx.query(`SELECT status, ${bucketSql} AS bucket, count(*)::int AS n FROM notices WHERE status = ANY($2) GROUP BY 1, 2`, [now, OPEN]),
    tx.query(`SELECT count(*)::int AS n FROM notices WHERE status IN ('pending', 'in_review') AND due_at < $1`, [now]),
    tx.query(
      `SELECT n.decided_by AS id, coalesce(u.name, 'a former staff member') AS name, to_char(n.decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS c
         FROM notices n LEFT JOIN users u ON u.id = n.decided_by
        WHERE n.decided_at >= $1 AND n.decided_at <= $2 AND n.decided_by IS NOT NULL
        GROUP BY 1, 2, 3`,
      [from, now],
    ),
    tx.query(
      `SELECT count(*)::int AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - submitted_at) / 3600) AS median,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - submitted_at) / 3600) AS p90
         FROM notices WHERE decided_at >= $1 AND decided_at <= $2 AND decided_by IS NOT NULL`,
      [from, now],
    ),
    tx.query(
      `SELECT to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - submitted_at) / 3600) AS median,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - submitted_at) / 3600) AS p90
         FROM notices WHERE decided_at >= $1 AND decided_at <= $2 AND decided_by IS NOT NULL GROUP BY 1`,
      [from, now],
    ),
    tx.query(
      `SELECT count(*)::int AS n FROM notices WHERE decided_at >= $1 AND decided_at <= $2 AND decision IN ('approved', 'partly_approved')`,
      [from, now],
    ),
    tx.query(
      `SELECT count(*) FILTER (WHERE received_at >= $1 AND received_at <= $2)::int AS received,
              count(*) FILTER (WHERE restored_at >= $1 AND restored_at <= $2)::int AS restored
         FROM counter_notices WHERE received_at >= $1 OR restored_at >= $1`,
      [from, now],
    ),
  ]);

  const backlog = AGE_BUCKETS.map((b) => ({
    bucket: b.key as string,
    label: b.label as string,
    pending: 0,
    in_review: 0,
    needs_info: 0,
    total: 0,
  }));
  for (const r of backlogRows as { status: (typeof OPEN)[number]; bucket: string; n: number }[]) {
    const row = backlog.find((b) => b.bucket === r.bucket)!;
    row[r.status] += r.n;
    row.total += r.n;
  }
  const byMod = new Map<string, { id: string; name: string; perDay: number[]; total: number }>();
  for (const r of perModerator as { id: string; name: string; day: string; c: number }[]) {
    let m = byMod.get(r.id);
    if (!m) byMod.set(r.id, (m = { id: r.id, name: r.name, perDay: days.map(() => 0), total: 0 }));
    const i = days.indexOf(r.day);
    if (i >= 0) m.perDay[i] += r.c;
    m.total += r.c;
  }
  const dayRows = new Map((perDay as { day: string; n: number; median: unknown; p90: unknown }[]).map((r) => [r.day, r]));
  const removals = removalsRow.n as number;
  return {
    at: now.toISOString(),
    from: days[0],
    to: days[days.length - 1],
    backlog,
    open: backlog.reduce((a, b) => a + b.total, 0),
    overdue: overdueRow.n,
    days,
    moderators: [...byMod.values()].sort((a, b) => b.total - a.total || a.name.localeCompare(b.name)),
    decisions: overall.n,
    timeToDecision: {
      medianHours: round1(overall.median),
      p90Hours: round1(overall.p90),
      perDay: days.map((day) => {
        const r = dayRows.get(day);
        return { day, n: r?.n ?? 0, medianHours: r ? round1(r.median) : null, p90Hours: r ? round1(r.p90) : null };
      }),
    },
    removals,
    counterNotices: cnRow.received,
    restorations: cnRow.restored,
    counterNoticeRate: pct(cnRow.received, removals),
    restorationRate: pct(cnRow.restored, removals),
  };
}
