import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

/** The columns of an event that its hash covers, as read back from the database. */
export interface ChainRow {
  sequence: string;
  occurred_at: Date;
  actor_type: string;
  actor_id: string | null;
  actor_label: string;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  details: unknown;
  ip: string | null;
  request_id: string | null;
}

/** JSON with object keys sorted at every depth, so the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .filter((k) => obj[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

export function eventHash(prevHash: string, row: ChainRow): string {
  const content = canonicalJson({
    sequence: String(row.sequence),
    occurredAt: new Date(row.occurred_at).toISOString(),
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorLabel: row.actor_label,
    action: row.action,
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    details: row.details,
    ip: row.ip,
    requestId: row.request_id,
  });
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

export const CHAIN_COLUMNS =
  'id, sequence, occurred_at, actor_type, actor_id, actor_label, action, subject_type, subject_id, details, ip, request_id, prev_hash, hash';
