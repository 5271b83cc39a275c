import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { Config } from '../../config';
import { createLeaseHolder, LeaseHolder } from '../../db/leases';
import { withTransaction } from '../../db/transaction';
import type { Clock } from '../../shared/clock';
import { replyAddress } from '../../shared/reply-key';
import { recordMany } from '../audit';
import type { EmailThread } from './outbound-email.entity';
import { createEmailRenderer, EmailRenderer } from './render';
import { createMailTransport, describeSendError, isPermanentRejection, MailTransport, messageIdFor } from './transport';

/**
 * The mail worker: drains the outbox. Safe with any number of instances running it at once.
 *
 * The flow (`drain()` keeps it going until a claim comes back short; `runOnce()` does one batch):
 *  1. claim — one short statement through the shared claims (`src/db/leases.ts`): up to `batchSize`
 *     due rows, `FOR UPDATE SKIP LOCKED` (instances never wait for, nor take, each other's rows),
 *     `claimed_by` = this process, `attempts + 1`; it commits at once, so no transaction is open while
 *     we talk to SMTP. The process's heartbeat keeps the claim however long SMTP takes; if the
 *     process dies, its claims are free `CLAIM_LEASE_SECONDS` (30 s) after its last heartbeat.
 *     (`next_attempt_at` is still pushed 5 minutes ahead, so an instance of the previous version
 *     running during a rolling deploy does not take the row; this version ignores it for claimed rows.)
 *  2. send — render and hand to the transport, `concurrency` at a time (a pooled SMTP connection set);
 *     a row is not started once our lease may have run out (`leases.holds`): someone else may have it.
 *  3. record — each email's outcome with its audit event in one transaction: `sent` + `email.sent`,
 *     or a retry time, or `failed` + `email.failed`; `claimed_by` is cleared. Outcomes that finish
 *     while the previous write commits share the next transaction (group commit). The UPDATE matches
 *     the claimant and the claimed `attempts`, so a worker that lost its lease can never overwrite
 *     the outcome of a newer claim.
 *  On `stop()` (SIGTERM) the emails claimed but not started are handed back at once (attempts
 *  restored), so another instance sends them without waiting for any lease.
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
  /** The process's claims (server.ts passes `container.leases`); default: the worker registers its own. */
  leases?: LeaseHolder;
  /**
   * The key of reply addresses (SPEC §12): with it, an email about a notice that names no other
   * Reply-To gets `reply+<key>@<INBOUND_REPLY_DOMAIN>`, so the answer reaches the notice.
   */
  sessionSecret?: string;
}

export interface MailWorkerOptions {
  /** Rows claimed per round (default 100). */
  batchSize?: number;
  /** Emails in flight at once per worker (default 16). */
  concurrency?: number;
  /** With its own claims only (no `deps.leases`): their lease (default CLAIM_LEASE_SECONDS). */
  leaseMs?: number;
  /** How long recording an outcome is retried while the database is away (default 5 minutes). */
  outcomeRetryMs?: number;
  /** First retry delay (default MAIL_RETRY_BASE_SECONDS, 1 minute), doubled each attempt, capped at `retryMaxMs` (default 4 hours). */
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
  /** Ends `drain()` once the emails already claimed are sent; nothing more is claimed. */
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
  /** The registration of this process that claimed it (the fence of the outcome write). */
  claimed_by: string;
  thread: EmailThread | null;
}

/** A row still claimed in the old way (before claimed_by) stays untouched this long. */
const LEGACY_LEASE_MS = 5 * 60_000;

const WORKER_ACTOR = { type: 'system' as const, label: 'mail-worker' };

/** Exponential back-off with "equal jitter": between half and all of base·2^(attempt−1), capped. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

/** "ESOCKET/ECONNREFUSED", "EENVELOPE 550": what kind of failure, without the server's text. */
function errorKind(err: unknown): string {
  const e = err as { code?: string; originalCode?: string; responseCode?: number };
  return [e?.code, e?.originalCode, e?.responseCode].filter((x) => x !== undefined && x !== null).join(' ') || 'error';
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
  const ownLeases = !deps.leases;
  const leases =
    deps.leases ?? createLeaseHolder(db, { leaseMs: opts.leaseMs ?? deps.config.claimLeaseSeconds * 1000, logger, name: 'mail-worker' });
  const outcomeRetryMs = opts.outcomeRetryMs ?? 5 * 60_000;
  /** Claimed rows this worker will not send (not started at shutdown, lease lost, outcome unwritable): handed back. */
  const toRelease = new Map<string, boolean>(); // id → restore the attempt (true: never tried)
  const retryBaseMs = opts.retryBaseMs ?? deps.config.policy.mailRetryBaseSeconds * 1000;
  const retryMaxMs = opts.retryMaxMs ?? 4 * 60 * 60_000;
  const maxAttempts = opts.maxAttempts ?? deps.config.policy.mailMaxAttempts;
  const random = opts.random ?? Math.random;
  const mailFrom = deps.config.mailFrom;
  const replySecret = deps.sessionSecret;
  let stopping = false;

  function claim(now: Date): Promise<ClaimedRow[]> {
    // Due: its time has come, or a claimant (now dead: leases.ts checks) holds it whatever its time.
    return leases.claim<ClaimedRow>({
      table: 'outbound_emails',
      where: `t.status = 'queued' AND (t.next_attempt_at <= $1 OR t.claimed_by IS NOT NULL)`,
      params: [now, new Date(now.getTime() + LEGACY_LEASE_MS)],
      orderBy: 't.next_attempt_at',
      limit: batchSize,
      set: 'attempts = t.attempts + 1, next_attempt_at = $2',
      returning: 't.id, t."to", t.template, t.data, t.attempts, t.reply_to, t.notice_id, t.thread',
    });
  }

  /** Hands back the rows in `toRelease` (if the database refuses, the next run tries again; shutdown releases all anyway). */
  async function releasePending(): Promise<void> {
    if (!toRelease.size) return;
    const untried = [...toRelease].filter(([, restore]) => restore).map(([id]) => id);
    const tried = [...toRelease].filter(([, restore]) => !restore).map(([id]) => id);
    try {
      // Untried: the claim's attempt is given back and the row is due at once.
      if (untried.length)
        await leases.release('outbound_emails', { ids: untried, set: 'attempts = t.attempts - 1, next_attempt_at = now()' });
      if (tried.length) await leases.release('outbound_emails', { ids: tried, set: 'next_attempt_at = now()' });
      for (const id of [...untried, ...tried]) toRelease.delete(id);
      logger.info({ untried: untried.length, tried: tried.length }, 'claimed emails handed back');
    } catch (err) {
      logger.warn({ err: String(err) }, 'handing claimed emails back failed; trying again later');
    }
  }

  const subject = (row: ClaimedRow) => ({ type: 'email', id: row.id });
  const summary = (row: ClaimedRow) => ({
    template: row.template,
    to: row.to,
    noticeId: row.notice_id,
    messageId: messageIdFor(row.id, mailFrom),
    attempts: row.attempts,
  });

  type Outcome =
    | { row: ClaimedRow; kind: 'sent'; at: Date; providerMessageId: string }
    | { row: ClaimedRow; kind: 'retry'; at: Date; next: Date; error: string }
    | { row: ClaimedRow; kind: 'failed'; at: Date; error: string; permanent: boolean };

  /**
   * Writes outcomes, each row's state change with its audit event in the same transaction. While one
   * write commits, the outcomes that finish meanwhile wait and go together in the next one (group
   * commit): one commit per email would cap the worker at the database's commit rate. Resolves with
   * the ids whose change was applied (the others were no longer ours).
   */
  async function writeOutcomes(batch: Outcome[]): Promise<Set<string>> {
    return withTransaction(db, async (tx) => {
      const applied = new Set<string>();
      const sent = batch.filter((o): o is Extract<Outcome, { kind: 'sent' }> => o.kind === 'sent');
      if (sent.length) {
        // Each row must still be as we claimed it (queued, same attempt, ours). The expected status
        // comes with the row (v.status), not as the constant 'queued': with the constant the planner
        // could walk the partial index of ALL queued emails (outbound_emails_due_idx) and join, which
        // under a backlog made this statement O(backlog) per batch (measured on the intake bench:
        // 3 to 10 ms per batch with a few thousand queued). By id it is one primary-key probe a row.
        const [rows] = (await tx.query(
          `UPDATE outbound_emails o
              SET status = 'sent', sent_at = v.at, next_attempt_at = v.at, provider_message_id = v.pid, last_error = NULL,
                  claimed_by = NULL, claimed_at = NULL
             FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::text[], $5::uuid[], $6::text[]) AS v(id, attempts, at, pid, claimed_by, status)
            WHERE o.id = v.id AND o.status = v.status AND o.attempts = v.attempts AND o.claimed_by = v.claimed_by
          RETURNING o.id`,
          [
            sent.map((o) => o.row.id),
            sent.map((o) => o.row.attempts),
            sent.map((o) => o.at),
            sent.map((o) => o.providerMessageId),
            sent.map((o) => o.row.claimed_by),
            sent.map(() => 'queued'),
          ],
        )) as [{ id: string }[], number];
        for (const r of rows) applied.add(r.id);
      }
      for (const o of batch) {
        if (o.kind === 'sent') continue;
        const [, count] = (await tx.query(
          o.kind === 'failed'
            ? `UPDATE outbound_emails SET status = 'failed', last_error = $3, claimed_by = NULL, claimed_at = NULL
                WHERE id = $1 AND status = 'queued' AND attempts = $2 AND claimed_by = $4`
            : `UPDATE outbound_emails SET next_attempt_at = $5, last_error = $3, claimed_by = NULL, claimed_at = NULL
                WHERE id = $1 AND status = 'queued' AND attempts = $2 AND claimed_by = $4`,
          o.kind === 'failed'
            ? [o.row.id, o.row.attempts, o.error, o.row.claimed_by]
            : [o.row.id, o.row.attempts, o.error, o.row.claimed_by, o.next],
        )) as [unknown, number];
        if (count === 1) applied.add(o.row.id);
      }
      // The batch's audit events in one statement, in the batch's order.
      await recordMany(
        tx,
        batch
          .filter((o): o is Exclude<Outcome, { kind: 'retry' }> => applied.has(o.row.id) && o.kind !== 'retry')
          .map((o) => ({
            actor: WORKER_ACTOR,
            action: o.kind === 'sent' ? 'email.sent' : 'email.failed',
            subject: subject(o.row),
            details:
              o.kind === 'sent'
                ? { ...summary(o.row), providerMessageId: o.providerMessageId, transport: transport.kind }
                : { ...summary(o.row), error: o.error, permanent: o.permanent },
            at: o.at,
          })),
      );
      return applied;
    });
  }

  /**
   * The database going away (a restart, a failover) must not make us send these emails again: if
   * the outcome is not written, the row is claimed anew and sent a second time. So the write is
   * retried, with back-off, for up to `outcomeRetryMs` (5 minutes); when shutting down, for a few
   * seconds only. It is always safe to try: the claimant and attempts fence match nothing once
   * another worker has taken the row, and nothing the second time after a write whose reply was lost.
   */
  async function writeWithRetries(batch: Outcome[]): Promise<Set<string>> {
    const startedAt = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await writeOutcomes(batch);
      } catch (err) {
        const wait = Math.min(500 * attempt, 5_000);
        const outOfLease = Date.now() - startedAt + wait > outcomeRetryMs;
        const outOfTime = stopping && Date.now() - startedAt + wait > 10_000;
        if (outOfLease || outOfTime) throw err;
        logger.warn({ err: String(err), attempt }, 'recording email outcomes failed; trying again');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  const waiting: { outcome: Outcome; done: (applied: boolean | Error) => void }[] = [];
  let writing = false;
  function settle(outcome: Outcome): Promise<boolean | Error> {
    return new Promise((done) => {
      waiting.push({ outcome, done });
      if (writing) return;
      writing = true;
      void (async () => {
        try {
          while (waiting.length) {
            const group = waiting.splice(0, 500);
            try {
              const applied = await writeWithRetries(group.map((g) => g.outcome));
              for (const g of group) g.done(applied.has(g.outcome.row.id));
            } catch (err) {
              for (const g of group) g.done(err instanceof Error ? err : new Error(String(err)));
            }
          }
        } finally {
          writing = false; // synchronously after the last check: a new outcome starts a new writer
        }
      })();
    });
  }

  async function deliver(row: ClaimedRow): Promise<DrainResult> {
    const out = empty();
    if (!leases.holds(row.claimed_by)) {
      // Our heartbeat has not been confirmed for a lease's length: another instance may hold the row.
      out.lost++;
      toRelease.set(row.id, true);
      logger.warn({ emailId: row.id }, 'email not sent: this instance could not renew its claims; handing it back');
      return out;
    }
    let outcome: Outcome;
    try {
      const rendered = renderer.render(row.template, row.data ?? {});
      const thread = row.thread;
      const receipt = await transport.send({
        to: row.to,
        replyTo:
          row.reply_to ?? (row.notice_id && replySecret ? replyAddress(replySecret, row.notice_id, deps.config.inbound.replyDomain) : null),
        subject: thread?.subject
          ? `Re: ${thread.subject
              .replace(/^\s*(re|aw|sv)\s*:\s*/i, '')
              .replace(/[\r\n]+/g, ' ')
              .slice(0, 400)}`
          : rendered.subject,
        inReplyTo: thread?.inReplyTo ?? null,
        references: thread?.references ?? null,
        html: rendered.html,
        text: rendered.text,
        messageId: messageIdFor(row.id, mailFrom),
      });
      outcome = { row, kind: 'sent', at: clock.now(), providerMessageId: receipt.providerMessageId };
    } catch (err) {
      const isTemplateError = (err as { code?: string }).code?.startsWith('MAIL.TEMPLATE_') ?? false;
      const permanent = isTemplateError || isPermanentRejection(err);
      const error = isTemplateError ? (err as Error).message : describeSendError(err);
      const at = clock.now();
      // Logs get the kind of failure only: SMTP replies often quote the recipient's address (personal
      // data stays out of logs); the full text is in last_error, shown to admins at /outbox.
      const reason = isTemplateError ? (err as { code: string }).code : errorKind(err);
      if (permanent || row.attempts >= maxAttempts) {
        outcome = { row, kind: 'failed', at, error, permanent };
        logger.warn({ emailId: row.id, template: row.template, attempts: row.attempts, reason }, 'email failed');
      } else {
        const next = new Date(at.getTime() + retryDelayMs(row.attempts, retryBaseMs, retryMaxMs, random));
        outcome = { row, kind: 'retry', at, next, error };
        logger.info({ emailId: row.id, attempts: row.attempts, next, reason }, 'email delivery failed; will retry');
      }
    }

    const applied = await settle(outcome);
    if (applied === true) {
      out[outcome.kind === 'sent' ? 'sent' : outcome.kind === 'failed' ? 'failed' : 'retried']++;
    } else if (applied === false) {
      out.lost++;
      logger.warn({ emailId: row.id, outcome: outcome.kind }, 'email outcome not recorded: another worker holds the row now');
    } else {
      // The database refused or is unreachable: the row is handed back later and sent again (same Message-ID).
      out.lost++;
      toRelease.set(row.id, false);
      logger.error({ err: applied, emailId: row.id, outcome: outcome.kind }, 'could not record the outcome of an email');
    }
    return out;
  }

  /**
   * Sends claimed rows `concurrency` at a time. With `continuous`, the next batch is claimed while
   * the current one is still being sent (when fewer than `concurrency` rows are left), so the SMTP
   * connections never idle between rounds; it ends when a claim comes back short, or on `stop()`.
   */
  async function run(continuous: boolean): Promise<DrainResult> {
    let total = empty();
    const queue: ClaimedRow[] = [];
    let exhausted = false;
    let claiming: Promise<void> | undefined;
    let claimError: unknown;
    const refill = () => {
      if (claiming || exhausted) return;
      if (stopping) {
        exhausted = true; // shutting down: finish what is claimed, claim nothing more
        return;
      }
      claiming = claim(clock.now())
        .then(
          (rows) => {
            queue.push(...rows);
            total.claimed += rows.length;
            if (rows.length < batchSize || !continuous) exhausted = true;
          },
          (err) => {
            // Never an unhandled rejection: the emails already claimed are still sent and recorded.
            claimError = err;
            exhausted = true;
          },
        )
        .finally(() => {
          claiming = undefined;
        });
    };
    const lane = async () => {
      for (;;) {
        if (stopping) return; // the rest of the queue is handed back below
        if (queue.length < concurrency) refill();
        if (!queue.length) {
          if (!claiming) return;
          await claiming;
          continue;
        }
        const row = queue.shift()!;
        const outcome = await deliver(row);
        total = add(total, outcome); // after the await: lanes must not read `total` before it
      }
    };
    await releasePending();
    refill();
    await claiming;
    await Promise.all(Array.from({ length: concurrency }, lane));
    await claiming;
    if (queue.length) {
      for (const row of queue.splice(0)) toRelease.set(row.id, true);
      await releasePending();
    }
    if (claimError !== undefined) {
      if (total.claimed === 0) throw claimError; // the job runner logs it and tries again next tick
      logger.error({ err: claimError }, 'claiming more emails failed; the next run tries again');
    }
    return total;
  }

  return {
    transport: { kind: transport.kind, description: transport.description },
    runOnce: () => run(false),
    drain: () => run(true),
    stop() {
      stopping = true;
    },
    async close() {
      stopping = true;
      await releasePending();
      if (ownLeases) await leases.stop();
      await transport.close();
    },
  };
}
