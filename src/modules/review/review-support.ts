import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../container';
import { AppError } from '../../shared/errors';
import type { Actor, RequestContext } from '../audit';
import { lockByReference, Notice, NoticeEvent, transition } from '../notices';

/**
 * What every review use case shares: who acts, the holder rule (a notice claimed by someone else
 * is theirs unless an admin overrides), the stale-page check, and the DSA statement of reasons.
 */

export type ReviewDeps = Pick<AppDeps, 'db' | 'clock' | 'config'> & { sessionSecret?: string };

/** The staff member acting (from the session or the API token). */
export interface StaffActor {
  id: string;
  email: string;
  name?: string;
  role: 'admin' | 'moderator';
}

export interface ReviewCmd {
  reference: string;
  actor: StaffActor;
  /** The notice version the page showed; a different one means someone acted meanwhile (409). */
  version?: number;
  context?: RequestContext;
}

export const auditActor = (a: StaffActor): Actor => ({ type: 'user', id: a.id, label: a.email, role: a.role });

/** The last change made to a notice, for a 409 that says who acted. */
async function lastChange(tx: EntityManager, reference: string): Promise<{ by: string; action: string; at: Date } | null> {
  const [row] = await tx.query(
    `SELECT actor_label, action, occurred_at FROM audit_events WHERE subject_type = 'notice' AND subject_id = $1 ORDER BY id DESC LIMIT 1`,
    [reference],
  );
  return row ? { by: row.actor_label, action: row.action, at: row.occurred_at } : null;
}

async function userLabel(tx: EntityManager, id: string | null): Promise<string> {
  if (!id) return 'nobody';
  const [u] = await tx.query(`SELECT email, name FROM users WHERE id = $1`, [id]);
  return u ? `${u.name} <${u.email}>` : 'a former staff member';
}

const describe = (c: { by: string; action: string; at: Date }) =>
  `${c.by} ${c.action.replace(/^notice\./, '').replace('_', ' ')} it at ${new Date(c.at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * Locks the notice, then checks (in this order, all after the lock so a concurrent winner is
 * seen): the page was not stale, the event is legal from the current status, and the actor holds
 * the claim (or is an admin: then `override` is true and audited). Returns the next status.
 */
export async function lockForReview(
  tx: EntityManager,
  cmd: ReviewCmd,
  event: NoticeEvent,
  opts: { needsHolder: boolean },
): Promise<{ notice: Notice; next: ReturnType<typeof transition>; override: boolean }> {
  const notice = await lockByReference(tx, cmd.reference);
  if (cmd.version !== undefined && cmd.version !== notice.version) {
    const last = await lastChange(tx, notice.reference);
    throw AppError.conflict('NOTICE.STALE', `This notice changed since you opened it: ${last ? describe(last) : 'someone acted on it'}. Reload it and decide again.`, {
      status: notice.status, actedBy: last?.by ?? null, lastAction: last?.action ?? null,
    });
  }
  let next;
  try {
    next = transition(notice.status, event);
  } catch (e) {
    const last = await lastChange(tx, notice.reference);
    if (e instanceof AppError && last && last.action !== 'notice.submitted') {
      throw AppError.conflict('NOTICE.INVALID_TRANSITION', `${e.message} Last change: ${describe(last)}.`, {
        ...e.details, status: notice.status, actedBy: last.by, lastAction: last.action,
      });
    }
    throw e;
  }
  let override = false;
  if (opts.needsHolder && notice.status === 'in_review' && notice.assigneeId && notice.assigneeId !== cmd.actor.id) {
    if (cmd.actor.role !== 'admin') {
      const holder = await userLabel(tx, notice.assigneeId);
      throw AppError.conflict('NOTICE.CLAIMED_BY_OTHER', `${notice.reference} is being reviewed by ${holder}. Ask them, or an admin, to release it.`, {
        status: notice.status, heldBy: holder,
      });
    }
    override = true;
  }
  return { notice, next, override };
}

export function saveNotice(tx: EntityManager, notice: Notice): Promise<Notice> {
  return tx.getRepository(Notice).save(notice);
}

const LEGAL_BASIS: Record<string, string> = {
  copyright: '17 U.S.C. § 512(c) (copyright)',
  trademark: 'Trademark law (15 U.S.C. § 1114)',
  defamation: 'Defamation law',
  privacy: 'Privacy law',
  other: 'Applicable law named in the notice',
};

/** The legal basis shown on the 451 page and in the statement of reasons. */
export const legalBasisOf = (notice: Notice) => LEGAL_BASIS[notice.claimType] ?? LEGAL_BASIS.other;

/** The public name of the claimant: the organisation, or "[private]" for a person. */
export const claimantOf = (notice: Notice) => notice.organization?.trim() || null;

/**
 * The EU DSA Art. 17 statement of reasons, recorded with every decision. Field names follow the
 * DSA Transparency Database API so an export is a mapping, not a translation.
 */
export function statementOfReasons(
  deps: Pick<AppDeps, 'config'>,
  notice: Notice,
  d: { decision: 'approved' | 'rejected' | 'spam'; facts: string; explanation: string; removedUrls?: string[]; automated?: boolean; at: Date },
): Record<string, unknown> {
  const restricted = d.decision === 'approved';
  return {
    decision_visibility: restricted ? ['DECISION_VISIBILITY_CONTENT_DISABLED'] : [],
    kind_of_restriction: restricted ? 'Access to the republished item disabled; the page answers 451 Unavailable For Legal Reasons.' : 'None: the content stays available.',
    territorial_scope: restricted ? 'worldwide' : null,
    content_urls: d.removedUrls ?? [],
    facts_relied_on: d.facts,
    source_type: 'SOURCE_ARTICLE_16',
    from_notice: true,
    notice_reference: notice.reference,
    automated_detection: false,
    automated_decision: d.automated ? 'AUTOMATED_DECISION_PARTIALLY' : 'AUTOMATED_DECISION_NOT_AUTOMATED',
    decision_ground: restricted ? 'DECISION_GROUND_ILLEGAL_CONTENT' : null,
    illegal_content_legal_ground: legalBasisOf(notice),
    illegal_content_explanation: d.explanation,
    category: notice.claimType === 'copyright' || notice.claimType === 'trademark' ? 'STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS' : 'STATEMENT_CATEGORY_OTHER',
    redress: restricted
      ? `The publisher may send a counter-notice under 17 U.S.C. § 512(g) at ${deps.config.publicBaseUrl}/counter-notice?notice=${notice.reference}; the decision can also be challenged in court.`
      : 'The complainant may send a new notice with more information, or go to court.',
    decided_at: d.at.toISOString(),
  };
}

/** The complainant's status page (the token is only in their acknowledgement email's link). */
export const statusPageUrl = (deps: Pick<AppDeps, 'config'>, notice: Notice) => `${deps.config.publicBaseUrl}/takedown/${notice.reference}`;

/** Every target URL with its outcome, for the complainant's email. */
export async function outcomesOf(tx: EntityManager, noticeId: string): Promise<{ url: string; outcome: string; label: string }[]> {
  const LABEL: Record<string, string> = { pending: 'waiting', removed: 'removed', kept: 'not removed', not_found: 'not on this site', restored: 'restored' };
  const rows: { url: string; outcome: string }[] = await tx.query(`SELECT url, outcome FROM notice_targets WHERE notice_id = $1 ORDER BY position`, [noticeId]);
  return rows.map((r) => ({ ...r, label: LABEL[r.outcome] ?? r.outcome }));
}

export function requireText(field: string, value: unknown, what: string, max = 5000): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (!text || text.length > max) throw AppError.validation([{ field, message: `Write ${what} (at most ${max.toLocaleString('en-US')} characters).` }]);
  return text;
}
