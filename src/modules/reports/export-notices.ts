import type { Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import { poolOf } from '../../db/data-source';
import { streamCursor } from '../../db/cursor-stream';

/** Shown instead of a private person's name on every public view and redacted export. */
export const PRIVATE = '[private]';

export interface NoticeRange {
  from?: Date;
  to?: Date;
}

/** The columns both exports read: one row per notice, targets aggregated in SQL. */
const NOTICE_ROW = `
  n.id, n.reference, n.status, n.claim_type, n.name, n.organization, n.email, n.phone, n.address, n.country,
  n.role, n.rights_owner, n.work_description, n.original_urls, n.submitted_at, n.decided_at, n.decision,
  n.decision_reason, n.statement_of_reasons, n.channel, n.source_type,
  coalesce((SELECT json_agg(json_build_object('url', t.url, 'outcome', t.outcome, 'itemId', t.item_id) ORDER BY t.position)
              FROM notice_targets t WHERE t.notice_id = n.id), '[]'::json) AS targets,
  (SELECT json_build_object('received', count(*), 'reversed', count(*) FILTER (WHERE c.status = 'reversed'),
          'median_handling_hours', round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.decided_at - c.submitted_at) / 3600)
                                          FILTER (WHERE c.decided_at IS NOT NULL))::numeric, 1))
     FROM complaints c WHERE c.notice_id = n.id) AS complaints`;

interface NoticeRow {
  /** `notice` or `trusted_flagger` (SPEC §14). */
  source_type: string;
  /** Complaints against the decision (SPEC §18). */
  complaints: { received: number; reversed: number; median_handling_hours: number | null };
  id: string;
  reference: string;
  status: string;
  claim_type: string;
  name: string;
  organization: string | null;
  email: string;
  phone: string | null;
  address: string;
  country: string;
  role: string;
  rights_owner: string | null;
  work_description: string;
  original_urls: string[];
  submitted_at: Date;
  decided_at: Date | null;
  decision: string | null;
  decision_reason: string | null;
  statement_of_reasons: Record<string, unknown> | null;
  channel: string;
  targets: { url: string; outcome: string; itemId: string | null }[];
}

/** The complainant as the public may see them: an organisation by name, a person as "[private]". */
export function publicClaimant(n: { organization: string | null }): string {
  return n.organization?.trim() ? n.organization.trim() : PRIVATE;
}

function rangeSql(column: string, r: NoticeRange, extra: string[] = []): { where: string; params: unknown[] } {
  const clauses = [...extra];
  const params: unknown[] = [];
  if (r.from) {
    params.push(r.from);
    clauses.push(`${column} >= $${params.length}`);
  }
  if (r.to) {
    params.push(r.to);
    clauses.push(`${column} < $${params.length}`);
  }
  return { where: clauses.length ? clauses.join(' AND ') : 'TRUE', params };
}

function actionTaken(targets: NoticeRow['targets']): 'Yes' | 'Partial' | 'No' {
  const onSite = targets.filter((t) => t.outcome !== 'not_found');
  const removed = onSite.filter((t) => t.outcome === 'removed' || t.outcome === 'restored').length;
  if (!removed) return 'No';
  return removed === onSite.length ? 'Yes' : 'Partial';
}

const LUMEN_TYPE: Record<string, string> = {
  copyright: 'DMCA',
  trademark: 'Trademark',
  defamation: 'Defamation',
  privacy: 'Privacy',
  other: 'Other',
};

/** One notice in the shape Lumen (lumendatabase.org) publishes: works, URLs, parties, action taken. */
export function lumenNotice(n: NoticeRow, full: boolean, recipient: string) {
  const sender: Record<string, unknown> = { name: full ? n.name : publicClaimant(n), country_code: n.country };
  if (full) Object.assign(sender, { organization: n.organization, email: n.email, phone: n.phone, address: n.address });
  // The rights owner an agent acts for may be a private person too: named only in the full record.
  const principal = n.role === 'agent' ? (full ? n.rights_owner : PRIVATE) : sender.name;
  return {
    id: n.reference,
    type: LUMEN_TYPE[n.claim_type] ?? 'Other',
    title: `${LUMEN_TYPE[n.claim_type] ?? 'Takedown'} notice ${n.reference}`,
    date_received: n.submitted_at.toISOString(),
    date_decided: n.decided_at?.toISOString() ?? null,
    status: n.status,
    source: n.channel === 'api' ? 'API' : n.channel === 'email' ? 'Email' : 'Online form',
    action_taken: actionTaken(n.targets),
    works: [
      {
        description: n.work_description,
        copyrighted_urls: n.original_urls.map((url) => ({ url })),
        infringing_urls: n.targets.map((t) => ({ url: t.url, outcome: t.outcome })),
      },
    ],
    parties: [
      { role: 'sender', ...sender },
      { role: 'principal', name: principal ?? PRIVATE },
      { role: 'recipient', name: recipient },
    ],
    redacted: !full,
  };
}

/**
 * A decision as an EU DSA Transparency Database statement of reasons (Art. 17/24(5)). Fields the
 * decision recorded in `statement_of_reasons` win; the rest follow from the notice.
 */
export function dsaStatement(n: NoticeRow, full: boolean, platform: string) {
  const sor = (n.statement_of_reasons ?? {}) as Record<string, unknown>;
  const pick = (...keys: string[]) => {
    for (const k of keys) if (sor[k] !== undefined && sor[k] !== null && sor[k] !== '') return sor[k];
    return undefined;
  };
  const taken = actionTaken(n.targets);
  const removedUrls = n.targets.filter((t) => t.outcome === 'removed' || t.outcome === 'restored').map((t) => t.url);
  return {
    puid: n.reference,
    platform_name: platform,
    decision_visibility:
      pick('decision_visibility', 'decisionVisibility') ?? (taken === 'No' ? [] : ['DECISION_VISIBILITY_CONTENT_DISABLED']),
    decision_visibility_other: null,
    decision_monetary: null,
    decision_provision: null,
    decision_account: null,
    decision_ground: pick('decision_ground', 'decisionGround') ?? 'DECISION_GROUND_ILLEGAL_CONTENT',
    illegal_content_legal_ground:
      pick('legal_ground', 'legalGround', 'illegal_content_legal_ground') ??
      (n.claim_type === 'copyright' ? '17 U.S.C. § 512(c); Directive 2001/29/EC (copyright)' : `${n.claim_type} claim`),
    illegal_content_explanation: pick('explanation', 'illegal_content_explanation') ?? n.decision_reason ?? null,
    category:
      n.claim_type === 'copyright' || n.claim_type === 'trademark'
        ? 'STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS'
        : n.claim_type === 'privacy'
          ? 'STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS'
          : 'STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH',
    territorial_scope: pick('territorial_scope', 'territorialScope') ?? ['WORLDWIDE'],
    content_type: ['CONTENT_TYPE_TEXT'],
    content_date: n.submitted_at.toISOString().slice(0, 10),
    application_date: (n.decided_at ?? n.submitted_at).toISOString().slice(0, 10),
    decision_facts:
      pick('facts', 'decision_facts') ??
      `Notice ${n.reference} named ${n.targets.length} URL(s); ${removedUrls.length} on this site were made unavailable.`,
    // SPEC §14: a trusted flagger's decision says so (DSA Art. 22); everyone else's notice is Art. 16.
    source_type: n.source_type === 'trusted_flagger' ? 'trusted_flagger' : 'SOURCE_ARTICLE_16',
    source_identity: full ? n.name : publicClaimant(n),
    automated_detection: 'No',
    automated_decision: 'AUTOMATED_DECISION_NOT_AUTOMATED',
    redress: pick('redress') ?? [
      'counter-notice under 17 U.S.C. § 512(g)',
      'internal complaint',
      'out-of-court dispute settlement',
      'judicial redress',
    ],
    urls: removedUrls,
    status: n.status,
    // DSA Art. 20: complaints through the internal complaint-handling system about this decision.
    internal_complaints: n.complaints,
  };
}

/** A statement of reasons is owed where content was restricted: decisions that removed something. */
const DECIDED = `n.decided_at IS NOT NULL AND n.status IN ('approved', 'countered', 'restored', 'upheld')`;

/** Notices (by time received) as Lumen-style JSON: one array, streamed. */
export async function exportLumenNotices(db: DataSource, range: NoticeRange, full: boolean, recipient: string, out: Writable) {
  const { where, params } = rangeSql('n.submitted_at', range);
  out.write('[');
  let first = true;
  const r = await streamCursor<NoticeRow>(
    poolOf(db),
    `SELECT ${NOTICE_ROW} FROM notices n WHERE ${where} ORDER BY n.submitted_at, n.id`,
    params,
    out,
    (rows) => {
      let s = '';
      for (const n of rows) {
        s += `${first ? '\n' : ',\n'}${JSON.stringify(lumenNotice(n, full, recipient))}`;
        first = false;
      }
      return s;
    },
  );
  out.write(first ? ']\n' : '\n]\n');
  return r;
}

/** Decisions (by time decided) as DSA statements of reasons, one JSON object per line. */
export async function exportDsaStatements(db: DataSource, range: NoticeRange, full: boolean, platform: string, out: Writable) {
  const { where, params } = rangeSql('n.decided_at', range, [DECIDED]);
  return streamCursor<NoticeRow>(
    poolOf(db),
    `SELECT ${NOTICE_ROW} FROM notices n WHERE ${where} ORDER BY n.decided_at, n.id`,
    params,
    out,
    (rows) => {
      let s = '';
      for (const n of rows) s += `${JSON.stringify(dsaStatement(n, full, platform))}\n`;
      return s;
    },
  );
}
