import { EntityManager } from 'typeorm';
import type { AppDeps } from '../../deps';
import { AppError } from '../../shared/errors';
import type { Actor, RequestContext } from '../audit';
import { lockByReference, Notice, NoticeEvent, transition } from '../notices';
import { announceNoticeChange } from './live-events';
export { outcomesOf } from '../notices';

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
    throw AppError.conflict(
      'NOTICE.STALE',
      `This notice changed since you opened it: ${last ? describe(last) : 'someone acted on it'}. Reload it and decide again.`,
      {
        status: notice.status,
        actedBy: last?.by ?? null,
        lastAction: last?.action ?? null,
      },
    );
  }
  let next;
  try {
    next = transition(notice.status, event);
  } catch (e) {
    const last = await lastChange(tx, notice.reference);
    if (e instanceof AppError && last && last.action !== 'notice.submitted') {
      throw AppError.conflict('NOTICE.INVALID_TRANSITION', `${e.message} Last change: ${describe(last)}.`, {
        ...e.details,
        status: notice.status,
        actedBy: last.by,
        lastAction: last.action,
      });
    }
    throw e;
  }
  let override = false;
  if (opts.needsHolder && notice.status === 'in_review' && notice.assigneeId && notice.assigneeId !== cmd.actor.id) {
    if (cmd.actor.role !== 'admin') {
      const holder = await userLabel(tx, notice.assigneeId);
      throw AppError.conflict(
        'NOTICE.CLAIMED_BY_OTHER',
        `${notice.reference} is being reviewed by ${holder}. Ask them, or an admin, to release it.`,
        {
          status: notice.status,
          heldBy: holder,
        },
      );
    }
    override = true;
  }
  return { notice, next, override };
}

/** Saves a reviewed notice and announces the change on the live channel (delivered at commit). */
export async function saveNotice(tx: EntityManager, notice: Notice): Promise<Notice> {
  const saved = await tx.getRepository(Notice).save(notice);
  await announceNoticeChange(tx, saved);
  return saved;
}

/** The complainant's status page (the token is only in their acknowledgement email's link). */
export const statusPageUrl = (deps: Pick<AppDeps, 'config'>, notice: Notice) => `${deps.config.publicBaseUrl}/takedown/${notice.reference}`;

export function requireText(field: string, value: unknown, what: string, max = 5000): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (!text || text.length > max)
    throw AppError.validation([{ field, message: `Write ${what} (at most ${max.toLocaleString('en-US')} characters).` }]);
  return text;
}
