import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { Config } from '../../config';
import { withTransaction } from '../../db/transaction';
import type { Clock } from '../../shared/clock';
import { record } from '../audit';
import { createEmailRenderer, EmailRenderer } from './render';
import { createMailTransport, describeSendError, isPermanentRejection, MailTransport, messageIdFor } from './transport';

/**
 * The mail worker: drains the outbox. Safe with any number of instances running it at once.
 *
 * One round:
 *  1. claim — one short statement: up to `batchSize` due rows, `FOR UPDATE SKIP LOCKED` (instances
 *     never wait for, nor take, each other's rows), `attempts + 1` and `next_attempt_at` pushed a
 *     lease ahead; it commits at once, so no transaction is open while we talk to SMTP;
 *  2. send — render and hand to the transport, `concurrency` at a time (a pooled SMTP connection set);
 *  3. record — one transaction per email: `sent` + `email.sent` audit event, or a retry time, or
 *     `failed` + `email.failed`. The UPDATE matches the claimed `attempts`, so a worker whose lease
 *     ran out can never overwrite the outcome of a newer claim.
 *
 * Delivery is at-least-once: if the process dies after the SMTP server accepted an email but before
 * step 3 commits, the row is claimed again when its lease ends and sent again, with the same
 * Message-ID (derived from the row id) so the copy is recognisable. Otherwise each email is sent once.
 */

export interface MailWorkerDeps {
  db: DataSource;
  config: Config;
  logger: Logger;
  clock: Clock;
  /** Default: from SMTP_URL (pooled SMTP), or the local store without it. */
  transport?: MailTransport;
  /** Default: the templates in views/emails. */
  renderer?: EmailRenderer;
}

export interface MailWorkerOptions {
  /** Rows claimed per round (default 100). */
  batchSize?: number;
  /** Emails in flight at once per worker (default 16). */
  concurrency?: number;
  /** How long a claimed row is left alone by other workers (default 5 minutes; longer than a send can take). */
  leaseMs?: number;
  /** First retry delay (default 1 minute), doubled each attempt, capped at `retryMaxMs` (default 4 hours). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Attempts before `failed` (default MAIL_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Source of jitter, 0 ≤ x < 1 (tests pin it). */
  random?: () => number;
}

export interface DrainResult {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  /** Outcomes not recorded because the lease was lost or the database refused (the row is retried). */
  lost: number;
}

export interface MailWorker {
  /** What the worker sends through (for the start-up log): never the SMTP credentials. */
  readonly transport: { kind: MailTransport['kind']; description: string };
  /** Sends every email due now, round after round, until none is left (or `stop()`). */
  drain(): Promise<DrainResult>;
  /** One round: claim one batch, send it, record the outcomes. */
  runOnce(): Promise<DrainResult>;
  /** Ends `drain()` after the round in progress. */
  stop(): void;
  /** Stops and closes the transport (after `drain()` has returned). */
  close(): Promise<void>;
}

interface ClaimedRow {
  id: string;
  to: string;
  template: string;
  data: Record<string, unknown>;
  attempts: number;
  reply_to: string | null;
  notice_id: string | null;
}

const WORKER_ACTOR = { type: 'system' as const, label: 'mail-worker' };

/** Exponential back-off with "equal jitter": between half and all of base·2^(attempt−1), capped. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

const empty = (): DrainResult => ({ claimed: 0, sent: 0, retried: 0, failed: 0, lost: 0 });
const add = (a: DrainResult, b: DrainResult): DrainResult => ({
  claimed: a.claimed + b.claimed,
  sent: a.sent + b.sent,
  retried: a.retried + b.retried,
  failed: a.failed + b.failed,
  lost: a.lost + b.lost,
});

export function createMailWorker(deps: MailWorkerDeps, opts: MailWorkerOptions = {}): MailWorker {
  const { db, logger, clock } = deps;
  const transport = deps.transport ?? createMailTransport(deps.config);
  const renderer = deps.renderer ?? createEmailRenderer({ baseUrl: deps.config.publicBaseUrl, cache: true });
  const batchSize = opts.batchSize ?? 100;
  const concurrency = opts.concurrency ?? 16;
  const leaseMs = opts.leaseMs ?? 5 * 60_000;
  const retryBaseMs = opts.retryBaseMs ?? 60_000;
  const retryMaxMs = opts.retryMaxMs ?? 4 * 60 * 60_000;
  const maxAttempts = opts.maxAttempts ?? deps.config.policy.mailMaxAttempts;
  const random = opts.random ?? Math.random;
  const mailFrom = deps.config.mailFrom;
  let stopping = false;

  async function claim(now: Date): Promise<ClaimedRow[]> {
    // TypeORM answers an UPDATE with [rows, rowCount].
    const [rows] = (await db.query(
      `WITH due AS (
         SELECT id FROM outbound_emails
          WHERE status = 'queued' AND next_attempt_at <= $1
          ORDER BY next_attempt_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED
       )
       UPDATE outbound_emails o
          SET attempts = o.attempts + 1, next_attempt_at = $3
         FROM due
        WHERE o.id = due.id
      RETURNING o.id, o."to", o.template, o.data, o.attempts, o.reply_to, o.notice_id`,
      [now, batchSize, new Date(now.getTime() + leaseMs)],
    )) as [ClaimedRow[], number];
    return rows;
  }

  const subject = (row: ClaimedRow) => ({ type: 'email', id: row.id });
  const summary = (row: ClaimedRow) => ({
    template: row.template,
    to: row.to,
    noticeId: row.notice_id,
    messageId: messageIdFor(row.id, mailFrom),
    attempts: row.attempts,
  });

  /** Runs one state change on the claimed row; false when the claim is no longer ours. */
  async function settle(row: ClaimedRow, sql: string, params: unknown[], audit?: { action: string; details: Record<string, unknown> }) {
    return withTransaction(db, async (tx) => {
      const [, count] = (await tx.query(`${sql} WHERE id = $1 AND status = 'queued' AND attempts = $2`, [row.id, row.attempts, ...params])) as [
        unknown,
        number,
      ];
      if (count !== 1) return false;
      if (audit) await record(tx, { actor: WORKER_ACTOR, action: audit.action, subject: subject(row), details: audit.details });
      return true;
    });
  }

  async function deliver(row: ClaimedRow): Promise<DrainResult> {
    const out = empty();
    let outcome: { kind: 'sent'; providerMessageId: string } | { kind: 'retry' | 'failed'; error: string; permanent: boolean };
    try {
      const rendered = renderer.render(row.template, row.data ?? {});
      const receipt = await transport.send({
        to: row.to,
        replyTo: row.reply_to,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        messageId: messageIdFor(row.id, mailFrom),
      });
      outcome = { kind: 'sent', providerMessageId: receipt.providerMessageId };
    } catch (err) {
      const isTemplateError = (err as { code?: string }).code?.startsWith('MAIL.TEMPLATE_') ?? false;
      const permanent = isTemplateError || isPermanentRejection(err);
      const error = isTemplateError ? (err as Error).message : describeSendError(err);
      outcome = { kind: permanent || row.attempts >= maxAttempts ? 'failed' : 'retry', error, permanent };
    }

    const now = clock.now();
    try {
      let ok: boolean;
      if (outcome.kind === 'sent') {
        ok = await settle(
          row,
          `UPDATE outbound_emails SET status = 'sent', sent_at = $3, next_attempt_at = $3, provider_message_id = $4, last_error = NULL`,
          [now, outcome.providerMessageId],
          { action: 'email.sent', details: { ...summary(row), providerMessageId: outcome.providerMessageId, transport: transport.kind } },
        );
        if (ok) out.sent++;
      } else if (outcome.kind === 'failed') {
        ok = await settle(row, `UPDATE outbound_emails SET status = 'failed', last_error = $3`, [outcome.error], {
          action: 'email.failed',
          details: { ...summary(row), error: outcome.error, permanent: outcome.permanent },
        });
        if (ok) out.failed++;
        logger.warn({ emailId: row.id, template: row.template, attempts: row.attempts, error: outcome.error }, 'email failed');
      } else {
        const next = new Date(now.getTime() + retryDelayMs(row.attempts, retryBaseMs, retryMaxMs, random));
        ok = await settle(row, `UPDATE outbound_emails SET next_attempt_at = $3, last_error = $4`, [next, outcome.error]);
        if (ok) out.retried++;
        logger.info({ emailId: row.id, attempts: row.attempts, next, error: outcome.error }, 'email delivery failed; will retry');
      }
      if (!ok) {
        out.lost++;
        logger.warn({ emailId: row.id, outcome: outcome.kind }, 'email outcome not recorded: another worker holds the row now');
      }
    } catch (err) {
      // The database is unreachable: the row stays claimed and is picked up again when its lease ends.
      out.lost++;
      logger.error({ err, emailId: row.id, outcome: outcome.kind }, 'could not record the outcome of an email');
    }
    return out;
  }

  async function runOnce(): Promise<DrainResult> {
    const rows = await claim(clock.now());
    let total = { ...empty(), claimed: rows.length };
    let next = 0;
    const lane = async () => {
      while (next < rows.length) {
        const row = rows[next++];
        const outcome = await deliver(row);
        total = add(total, outcome); // after the await: lanes must not read `total` before it

      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, lane));
    return total;
  }

  return {
    transport: { kind: transport.kind, description: transport.description },
    runOnce,
    async drain() {
      let total = empty();
      for (;;) {
        const r = await runOnce();
        total = add(total, r);
        if (r.claimed < batchSize || stopping) return total;
      }
    },
    stop() {
      stopping = true;
    },
    async close() {
      stopping = true;
      await transport.close();
    },
  };
}
