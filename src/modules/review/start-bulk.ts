import { withTransaction } from '../../db/transaction';
import { AppError, FieldError } from '../../shared/errors';
import { record, type RequestContext } from '../audit';
import { BulkJob } from './bulk-job.entity';
import { BULK_MAX, BulkDto } from './bulk.dto';
import { insertBulkItems } from './bulk.queries';
import { CANNED_REJECT_REASONS } from './canned-reasons';
import { matchingNotices, noticesByReference, type QueueFilter } from './queue.queries';
import { auditActor, type ReviewDeps, type StaffActor } from './review-support';

const FILTER_KEYS = ['status', 'assignee', 'source', 'claimType', 'flag'] as const;

/** What a bulk action will do, before it is done: the set, the reason, the assignee, and whether approve is offered. */
export interface BulkPlan {
  action: BulkDto['action'];
  references: string[];
  filter: Record<string, string> | null;
  reason?: string;
  assignee?: { id: string; email: string; name: string };
  /** The first notices of the set, for the confirmation's preview. */
  preview: { reference: string; status: string; complainant: string; allMatched: boolean }[];
  /** Every notice of the set has every URL matched: only then is approve offered. */
  approvable: boolean;
}

/** The filter as the queue knows it: known keys with string values only (422 otherwise). */
export function bulkFilter(raw: Record<string, unknown>): Record<string, string> {
  const errors: FieldError[] = [];
  const f: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(FILTER_KEYS as readonly string[]).includes(k))
      errors.push({ field: `filter.${k}`, message: `Not a queue filter; use ${FILTER_KEYS.join(', ')}.` });
    else if (typeof v !== 'string') errors.push({ field: `filter.${k}`, message: 'Must be a string.' });
    else if (v.trim()) f[k] = v.trim();
  }
  if (errors.length) throw AppError.validation(errors);
  return f;
}

/**
 * Resolves a bulk request into its plan: the set (the references given, or every notice the filter
 * matches now), the reason (written, or a canned one for reject), the assignee, checked with errors
 * beside their fields. The form asks the reason on its confirmation page, so its first step plans
 * without one (`requireReason: false`). Nothing is written.
 */
export async function planBulk(
  deps: ReviewDeps,
  actor: StaffActor,
  dto: BulkDto,
  opts: { requireReason?: boolean } = {},
): Promise<BulkPlan> {
  const errors: FieldError[] = [];
  if (!!dto.references === !!dto.filter)
    errors.push({ field: 'references', message: 'Give the notices (references) or a filter, not both.' });
  const canned = CANNED_REJECT_REASONS.find((c) => c.id === dto.canned);
  const reason = dto.reason?.trim() || (dto.action === 'reject' ? canned?.text : undefined);
  if (dto.action === 'reject' && !reason && opts.requireReason !== false)
    errors.push({ field: 'reason', message: 'Choose or write the reason for the complainants.' });
  let assignee: BulkPlan['assignee'];
  if (dto.action === 'assign') {
    const id = dto.assignee && /^[0-9a-f-]{36}$/i.test(dto.assignee) ? dto.assignee : null;
    [assignee] = id ? await deps.db.query(`SELECT id, email, name FROM users WHERE id = $1 AND active`, [id]) : [];
    if (!assignee) errors.push({ field: 'assignee', message: 'Choose an active staff member.' });
  }
  if (errors.length) throw AppError.validation(errors, 'The bulk action needs a few more details.');
  const filter = dto.filter ? bulkFilter(dto.filter) : null;
  const found = filter
    ? await matchingNotices(deps.db.manager, filter as QueueFilter, actor.id, BULK_MAX + 1)
    : await noticesByReference(deps.db.manager, [...new Set(dto.references!.map((r) => r.trim().toUpperCase()))]);
  if (found.length > BULK_MAX)
    throw AppError.validation([{ field: 'filter', message: `More than ${BULK_MAX} notices match: narrow the filter.` }]);
  if (!found.length) throw AppError.validation([{ field: 'references', message: 'No notice matches: choose at least one.' }]);
  const approvable = found.every((n) => n.allMatched);
  if (dto.action === 'approve' && !approvable) {
    const n = found.filter((x) => !x.allMatched).length;
    throw AppError.validation([
      {
        field: 'action',
        message: `Approve is offered only when every URL of every notice matched; ${n} of these have URLs not on this site.`,
      },
    ]);
  }
  return {
    action: dto.action,
    references: found.map((n) => n.reference),
    filter,
    reason,
    assignee,
    preview: found.slice(0, 20),
    approvable,
  };
}

/** Creates the job from a confirmed plan: the job, its items and `bulk_job.created`, in one transaction. */
export async function createBulkJob(deps: ReviewDeps, actor: StaffActor, plan: BulkPlan, context?: RequestContext): Promise<BulkJob> {
  return withTransaction(deps.db, async (tx) => {
    const job = await tx.getRepository(BulkJob).save(
      tx.getRepository(BulkJob).create({
        action: plan.action,
        actorId: actor.id,
        actor: { id: actor.id, email: actor.email, name: actor.name, role: actor.role },
        params: { ...(plan.reason ? { reason: plan.reason } : {}), ...(plan.assignee ? { assigneeId: plan.assignee.id } : {}) },
        filter: plan.filter,
        total: plan.references.length,
        ip: context?.ip ?? null,
      }),
    );
    await insertBulkItems(tx, job.id, plan.references);
    await record(tx, {
      actor: auditActor(actor),
      action: 'bulk_job.created',
      subject: { type: 'bulk_job', id: job.id },
      details: { action: plan.action, total: job.total, filter: plan.filter, reason: plan.reason, assignee: plan.assignee?.email },
      context,
      at: deps.clock.now(),
    });
    return job;
  });
}
