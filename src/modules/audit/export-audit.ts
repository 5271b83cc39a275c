import type { Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import { poolOf } from '../../db/data-source';
import { withTransaction } from '../../db/transaction';
import { AuditFilter, filterSql } from './audit.queries';
import { csvRow } from '../../shared/csv';
import { CsvLineEndings, inlineParams, streamCopy } from '../../db/copy-stream';
import { Actor, record, RequestContext } from './record';

export type AuditExportFormat = 'csv' | 'jsonl';

export const AUDIT_CSV_COLUMNS = [
  'id',
  'sequence',
  'occurred_at',
  'actor_type',
  'actor_id',
  'actor_label',
  'action',
  'subject_type',
  'subject_id',
  'details',
  'ip',
  'request_id',
  'prev_hash',
  'hash',
] as const;

/** A filter as it is written into the `audit.exported` event (dates as ISO text). */
export function describeFilter(f: AuditFilter): Record<string, unknown> {
  return {
    actor: f.actor,
    action: f.action,
    subject: f.subject?.given,
    q: f.q,
    from: f.from?.toISOString(),
    to: f.to?.toISOString(),
  };
}

/** Records that an export was made, by whom, of what: committed before the first byte is sent. */
export async function recordExport(
  db: DataSource,
  e: { actor: Actor; what: string; format: string; filter: Record<string, unknown>; full?: boolean; context?: RequestContext; at: Date },
) {
  await withTransaction(db, (tx) =>
    record(tx, {
      actor: e.actor,
      action: 'audit.exported',
      subject: null,
      details: { what: e.what, format: e.format, filter: e.filter, ...(e.full !== undefined ? { fullRecord: e.full } : {}) },
      context: e.context,
      at: e.at,
    }),
  );
}

/** `col` with a `'` before a value a spreadsheet would run as a formula (as csv.ts does in code). */
const safe = (col: string) => `CASE WHEN left(${col}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || ${col} ELSE ${col} END`;

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/**
 * Streams the events matching `filter`, oldest first, as CSV (header always, so an empty range is
 * a file with its header) or JSON Lines. PostgreSQL formats every row itself through
 * `COPY … TO STDOUT` (see copy-stream.ts): the process forwards buffers and holds none.
 */
export async function exportAuditEvents(db: DataSource, filter: AuditFilter, format: AuditExportFormat, out: Writable) {
  const { where, params } = filterSql(filter);
  const rows = inlineParams(`FROM audit_events WHERE ${where} ORDER BY audit_events.id`, params);
  if (format === 'csv') {
    out.write(csvRow(AUDIT_CSV_COLUMNS));
    return streamCopy(
      poolOf(db),
      `COPY (SELECT id, sequence, to_char(occurred_at AT TIME ZONE 'UTC', ${ISO}),
                    ${safe('actor_type')}, actor_id, ${safe('actor_label')}, ${safe('action')}, ${safe('subject_type')}, ${safe('subject_id')},
                    details::text, ${safe('ip')}, ${safe('request_id')}, prev_hash, hash
               ${rows}) TO STDOUT WITH (FORMAT csv)`,
      out,
      new CsvLineEndings(),
    );
  }
  // One JSON object per line. CSV format with a delimiter and a quote character that JSON text
  // never holds raw (PostgreSQL escapes every control character in JSON) writes each line as it
  // is; text format would double its backslashes.
  return streamCopy(
    poolOf(db),
    `COPY (SELECT json_build_object(
              'id', id::text, 'sequence', sequence::text, 'occurredAt', to_char(occurred_at AT TIME ZONE 'UTC', ${ISO}),
              'actorType', actor_type, 'actorId', actor_id, 'actorLabel', actor_label, 'action', action,
              'subjectType', subject_type, 'subjectId', subject_id, 'details', details, 'ip', ip,
              'requestId', request_id, 'prevHash', prev_hash, 'hash', hash)
           ${rows}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')`,
    out,
  );
}
