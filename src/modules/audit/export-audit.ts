import type { Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import { poolOf } from '../../db/data-source';
import { withTransaction } from '../../db/transaction';
import { AuditFilter, filterSql } from './audit.queries';
import { csvRow } from './csv';
import { streamCursor } from './cursor-stream';
import { Actor, record, RequestContext } from './record';

export type AuditExportFormat = 'csv' | 'jsonl';

export const AUDIT_CSV_COLUMNS = [
  'id', 'sequence', 'occurred_at', 'actor_type', 'actor_id', 'actor_label', 'action',
  'subject_type', 'subject_id', 'details', 'ip', 'request_id', 'prev_hash', 'hash',
] as const;

/** A filter as it is written into the `audit.exported` event (dates as ISO text). */
export function describeFilter(f: AuditFilter): Record<string, unknown> {
  return {
    actor: f.actor, action: f.action, subject: f.subject?.given, q: f.q,
    from: f.from?.toISOString(), to: f.to?.toISOString(),
  };
}

/** Records that an export was made, by whom, of what: committed before the first byte is sent. */
export async function recordExport(db: DataSource, e: { actor: Actor; what: string; format: string; filter: Record<string, unknown>; full?: boolean; context?: RequestContext }) {
  await withTransaction(db, (tx) =>
    record(tx, {
      actor: e.actor,
      action: 'audit.exported',
      subject: null,
      details: { what: e.what, format: e.format, filter: e.filter, ...(e.full !== undefined ? { fullRecord: e.full } : {}) },
      context: e.context,
    }),
  );
}

/**
 * Streams the events matching `filter`, oldest first, as CSV (header always, so an empty range is
 * a file with its header) or JSON Lines. PostgreSQL renders timestamps and JSON to text so the
 * process only concatenates strings.
 */
export async function exportAuditEvents(db: DataSource, filter: AuditFilter, format: AuditExportFormat, out: Writable) {
  const { where, params } = filterSql(filter);
  if (format === 'csv') {
    out.write(csvRow(AUDIT_CSV_COLUMNS));
    return streamCursor<(string | null)[]>(
      poolOf(db),
      `SELECT id::text, sequence::text, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
              actor_type, actor_id::text, actor_label, action, subject_type, subject_id, details::text, ip, request_id, prev_hash::text, hash::text
         FROM audit_events WHERE ${where} ORDER BY audit_events.id`,
      params,
      out,
      (rows) => {
        let s = '';
        for (const r of rows) s += csvRow(r);
        return s;
      },
      { rowMode: 'array' },
    );
  }
  return streamCursor<{ j: string }>(
    poolOf(db),
    `SELECT json_build_object(
              'id', id::text, 'sequence', sequence::text,
              'occurredAt', to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
              'actorType', actor_type, 'actorId', actor_id, 'actorLabel', actor_label, 'action', action,
              'subjectType', subject_type, 'subjectId', subject_id, 'details', details, 'ip', ip,
              'requestId', request_id, 'prevHash', prev_hash, 'hash', hash)::text AS j
       FROM audit_events WHERE ${where} ORDER BY audit_events.id`,
    params,
    out,
    (rows) => {
      let s = '';
      for (const r of rows) s += `${r.j}\n`;
      return s;
    },
  );
}
