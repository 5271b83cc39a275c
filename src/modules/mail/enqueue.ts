import { isEmail } from 'class-validator';
import { EntityManager } from 'typeorm';
import { composeParts, type WritePart } from '../../db/one-statement';
import { AppError } from '../../shared/errors';
import type { EmailThread } from './outbound-email.entity';
import { isTemplateName } from './render';

export interface EnqueueOptions {
  /** The notice the email is about (shown with the notice, filtered on at /outbox). */
  noticeId?: string | null;
  /** Makes the email idempotent: a second enqueue with the same key does nothing. */
  dedupeKey?: string | null;
  /** Where a reply should reach (the other party). From is always MAIL_FROM. */
  replyTo?: string | null;
  /** An automatic reply to an inbound email: sent in its thread (In-Reply-To, References, Re:). */
  thread?: EmailThread | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_DATA_BYTES = 256 * 1024;

/**
 * A single recipient address and nothing else: no display name, no list, no CR/LF (a line break
 * in an address is a header injection: `victim@x\r\nBcc: everyone@y`).
 */
export function isDeliverableAddress(s: unknown): s is string {
  return (
    typeof s === 'string' &&
    s.length <= 254 &&
    !/[\u0000-\u001f\u007f\s,;<>"()\\]/.test(s) &&
    isEmail(s, { require_tld: false, allow_display_name: false, allow_ip_domain: false, allow_utf8_local_part: true })
  );
}

/** One email to queue: what `enqueue` takes, as a value (for `enqueueMany`). */
export interface QueuedEmail {
  template: string;
  to: string;
  data?: Record<string, unknown>;
  opts?: EnqueueOptions;
}

/**
 * Queues one email inside the caller's transaction; it is sent by the mail worker after the
 * transaction commits (and never if it rolls back). Nothing is sent or rendered here.
 *
 * Returns the new row's id, or `null` when `dedupeKey` was already used (nothing inserted).
 * Throws AppError `MAIL.INVALID` for a bad template name, recipient, reply-to or data.
 */
export async function enqueue(
  tx: EntityManager,
  template: string,
  to: string,
  data: Record<string, unknown> = {},
  opts: EnqueueOptions = {},
): Promise<string | null> {
  const [id] = await insertEmails(tx, [{ template, to, data, opts }]);
  return id ?? null;
}

/**
 * Queues several emails in the caller's transaction with ONE statement (a hot path such as the
 * intake sends the acknowledgement and every moderator's notification at once). Each email is
 * checked as `enqueue` checks it, all before anything is written. Returns the ids inserted; an
 * email whose `dedupeKey` was already used is skipped.
 */
export async function enqueueMany(tx: EntityManager, emails: QueuedEmail[]): Promise<string[]> {
  return emails.length ? insertEmails(tx, emails) : [];
}

async function insertEmails(tx: EntityManager, emails: QueuedEmail[]): Promise<string[]> {
  const { sql, params } = composeParts([emailsPart(emails)]);
  const rowsOut: { id: string }[] = await tx.query(`${sql} RETURNING id`, params);
  return rowsOut.map((r) => r.id);
}

/**
 * The same INSERT as a part of a larger statement (`runAsOneStatement`, issue 18: the intake's
 * acknowledgement and moderators' emails go with the notice in one round trip). Every email is
 * checked here, when the part is made, so a bad one throws before anything is written.
 */
export function emailsPart(emails: QueuedEmail[]): WritePart {
  const rows = emails.map(checked);
  const columns = [0, 1, 2, 3, 4, 5, 6].map((col) => rows.map((r) => r[col]));
  return (p) =>
    `INSERT INTO outbound_emails ("to", template, data, notice_id, dedupe_key, reply_to, thread)
     SELECT * FROM unnest(${p(columns[0])}::text[], ${p(columns[1])}::text[], ${p(columns[2])}::jsonb[], ${p(columns[3])}::uuid[], ${p(columns[4])}::text[], ${p(columns[5])}::text[], ${p(columns[6])}::jsonb[])
     ON CONFLICT (dedupe_key) DO NOTHING`;
}

/** The email as the row's values, or AppError `MAIL.INVALID` naming what is wrong. */
function checked({ template, to, data = {}, opts = {} }: QueuedEmail): (string | null)[] {
  if (!isTemplateName(template)) throw invalid('template', 'The email template name must be kebab-case, e.g. "notice-received".');
  if (!isDeliverableAddress(to)) throw invalid('to', 'The recipient is not a single valid email address.');
  if (opts.replyTo != null && !isDeliverableAddress(opts.replyTo))
    throw invalid('replyTo', 'Reply-To is not a single valid email address.');
  if (opts.noticeId != null && !UUID.test(opts.noticeId)) throw invalid('noticeId', 'The notice id must be a uuid.');
  if (opts.dedupeKey != null && (opts.dedupeKey.length === 0 || opts.dedupeKey.length > 200)) {
    throw invalid('dedupeKey', 'The dedupe key must be 1 to 200 characters.');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw invalid('data', 'The email data must be an object.');
  const json = JSON.stringify(data);
  if (Buffer.byteLength(json) > MAX_DATA_BYTES) throw invalid('data', 'The email data is too large (at most 256 KB).');
  const thread = opts.thread ? JSON.stringify(threadOf(opts.thread)) : null;
  return [to, template, json, opts.noticeId ?? null, opts.dedupeKey ?? null, opts.replyTo ?? null, thread];
}

const MESSAGE_ID = /^<[^<>\s]{1,900}>$/;

/** Only well-formed Message-IDs go into In-Reply-To/References (nothing that could break a header). */
function threadOf(t: EmailThread): EmailThread {
  const inReplyTo = t.inReplyTo && MESSAGE_ID.test(t.inReplyTo) ? t.inReplyTo : null;
  const references = (t.references ?? []).filter((r) => MESSAGE_ID.test(r)).slice(-20);
  const subject = String(t.subject ?? '')
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, 400);
  if (!inReplyTo) return { inReplyTo: null, references: [], subject };
  return { inReplyTo, references: references.includes(inReplyTo) ? references : [...references, inReplyTo], subject };
}

function invalid(field: string, message: string) {
  return new AppError('MAIL.INVALID', message, 422, { errors: [{ field, message }] });
}

/**
 * How many automatic replies (threaded answers to inbound mail) were queued to this address since
 * `since`: the INBOUND_REPLIES_PER_HOUR cap that keeps two robots from mailing each other forever.
 */
export async function automaticRepliesSince(tx: EntityManager, to: string, since: Date): Promise<number> {
  const [row] = await tx.query(
    `SELECT count(*)::int AS n FROM outbound_emails WHERE "to" = $1 AND created_at > $2 AND thread IS NOT NULL`,
    [to.toLowerCase(), since],
  );
  return row.n;
}
