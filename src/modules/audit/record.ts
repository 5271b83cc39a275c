import { EntityManager } from 'typeorm';
import { runAsOneStatement, type WritePart } from '../../db/one-statement';
import type { AuditAction } from './actions';
import type { ActorType } from './audit-event.entity';

/** Who did it. A user carries a readable label (their email at the time) so the record stays readable. */
export type Actor =
  { type: 'user'; id: string; label: string; role?: string } | { type: 'public'; label?: string } | { type: 'system'; label?: string };

export const SYSTEM: Actor = { type: 'system' };
export const PUBLIC: Actor = { type: 'public' };

import type { RequestContext } from '../../shared/request-context';

export type { RequestContext };

export interface AuditInput {
  actor: Actor;
  action: AuditAction;
  subject?: { type: string; id: string } | null;
  details?: Record<string, unknown>;
  context?: RequestContext;
  /** When it happened, from the caller's clock (the same instant as the change it describes). */
  at: Date;
}

/**
 * Appends one event inside the caller's transaction. Nothing else writes to `audit_events`: the
 * hash chain is sealed afterwards, in commit order, by `sealAuditChain`, so writers never queue on
 * one lock.
 */
export async function record(tx: EntityManager, e: AuditInput): Promise<void> {
  await runAsOneStatement(tx, [auditEventPart(e)]);
}

/**
 * Appends several events with ONE statement, in the order given (their ids, and so their places in
 * the chain, follow the list): a worker recording a batch of outcomes pays one round trip.
 */
export async function recordMany(tx: EntityManager, events: AuditInput[]): Promise<void> {
  if (events.length) await runAsOneStatement(tx, [auditEventsPart(events)]);
}

/**
 * The same append as a part of a larger statement (`runAsOneStatement`, issue 18: the intake
 * writes its notice, event and emails in one round trip). The event is sealed like any other: the
 * sealer orders by commit visibility, not by how the row was written.
 */
export function auditEventPart(e: AuditInput): WritePart {
  return auditEventsPart([e]);
}

/** Several events as one INSERT: VALUES rows are inserted, and take their ids, in list order. */
function auditEventsPart(events: AuditInput[]): WritePart {
  const rows = events.map((e) => {
    const actorType: ActorType = e.actor.type;
    const actorLabel = e.actor.label ?? e.actor.type;
    return [
      e.at,
      actorType,
      e.actor.type === 'user' ? e.actor.id : null,
      actorLabel.slice(0, 320),
      e.action,
      e.subject?.type ?? null,
      e.subject ? String(e.subject.id).slice(0, 200) : null,
      JSON.stringify(e.details ?? {}),
      e.context?.ip?.slice(0, 64) ?? null,
      e.context?.requestId?.slice(0, 64) ?? null,
    ];
  });
  return (p) =>
    `INSERT INTO audit_events (occurred_at, actor_type, actor_id, actor_label, action, subject_type, subject_id, details, ip, request_id)
     VALUES ${rows.map((values) => `(${values.map((v) => p(v)).join(', ')})`).join(', ')}`;
}
