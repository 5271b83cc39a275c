import { EntityManager } from 'typeorm';
import { Actor, record, RequestContext } from '../audit';
import { transition } from './notice-state';
import { Notice } from './notice.entity';
import { queueNoticeEvents } from '../webhooks';
import type { AppDeps } from '../../deps';

/**
 * The notices side of a complaint decided for the complainant (SPEC §18). The complaints module
 * calls these; it never writes `notices` or `notice_targets` itself.
 */

/** A rejection reversed: the notice goes back to the queue (`rejected` → `pending`) for a fresh decision. */
export async function reopenNotice(
  tx: EntityManager,
  notice: Notice,
  cmd: { actor: Actor; complaintId: string; slaHours: number; at: Date; context?: RequestContext; deps: Pick<AppDeps, 'config'> },
): Promise<Notice> {
  const before = { status: notice.status, decision: notice.decision, decidedBy: notice.decidedBy };
  notice.status = transition(notice.status, 'reopen');
  notice.decision = null;
  notice.decisionReason = null;
  notice.decidedAt = null;
  notice.decidedBy = null;
  notice.assigneeId = null;
  notice.queuedAt = cmd.at;
  notice.dueAt = new Date(cmd.at.getTime() + cmd.slaHours * 3_600_000);
  await tx.getRepository(Notice).save(notice);
  await queueNoticeEvents(tx, cmd.deps, notice, { from: before.status, at: cmd.at });
  await record(tx, {
    actor: cmd.actor,
    action: 'notice.reopened',
    subject: { type: 'notice', id: notice.reference },
    details: { before, after: { status: notice.status }, complaintId: cmd.complaintId },
    context: cmd.context,
    at: cmd.at,
  });
  return notice;
}

/**
 * A removal reversed for one source: the targets whose items the caller restored (through the items
 * module's restoration path) are marked `restored`, and the notice moves `approved` → `restored` once
 * none of its targets is still removed. A notice that also removed other sources' items stays
 * `approved` for them (their removal stands, and they may still complain about it).
 */
export async function reverseRemoval(
  tx: EntityManager,
  notice: Notice,
  cmd: { actor: Actor; complaintId: string; restoredItemIds: string[]; at: Date; context?: RequestContext; deps: Pick<AppDeps, 'config'> },
): Promise<Notice> {
  const before = notice.status;
  const next = transition(notice.status, 'reverse'); // refused (409) unless the removal stands
  if (cmd.restoredItemIds.length) {
    await tx.query(
      `UPDATE notice_targets SET outcome = 'restored' WHERE notice_id = $1 AND outcome = 'removed' AND item_id = ANY($2::uuid[])`,
      [notice.id, cmd.restoredItemIds],
    );
  }
  const [{ stillRemoved }] = await tx.query(
    `SELECT EXISTS (SELECT 1 FROM notice_targets WHERE notice_id = $1 AND outcome = 'removed') AS "stillRemoved"`,
    [notice.id],
  );
  if (!stillRemoved) {
    notice.status = next;
    await tx.getRepository(Notice).save(notice);
  }
  await queueNoticeEvents(tx, cmd.deps, notice, { from: before, at: cmd.at });
  await record(tx, {
    actor: cmd.actor,
    action: 'notice.reversed',
    subject: { type: 'notice', id: notice.reference },
    details: { before, after: notice.status, complaintId: cmd.complaintId, restored: cmd.restoredItemIds },
    context: cmd.context,
    at: cmd.at,
  });
  return notice;
}
