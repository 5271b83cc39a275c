import type { AppDeps } from '../../deps';
import { createLeaseHolder, LeaseHolder } from '../../db/leases';
import { createRounds } from '../../db/rounds';
import { withTransaction } from '../../db/transaction';
import { record } from '../audit';
import { automaticRepliesSince } from '../mail';
import type { EmailThread } from '../mail';
import { attachEmailReply, prepareIntake, PreparedIntake, takeEmailedNotice } from '../notices';
import { poolOf } from '../../db/data-source';
import { ClaimedInbound, claimInbound, lockClaimed, rawStream, setAttemptFailed, setOutcome } from './inbound.queries';
import { emailedNotice, readInboundEmail, ReadResult } from './read-inbound-email';
import type { DnsResolver } from './sender-auth';
import { isUnauthenticated } from './sender-auth';

/**
 * The parse job: turns stored messages (`received`) into outcomes. Safe with any number of
 * instances. The same cycle as the mail outbox (mail-worker.ts):
 *  1. claim — one short statement through the shared claims (`src/db/leases.ts`): due `received`
 *     rows `FOR UPDATE SKIP LOCKED`, `claimed_by` = this process, `attempts + 1`; committed at once,
 *     so no transaction is open while the message is parsed and its sender authenticated (DNS).
 *     The process's heartbeat keeps the claim however long that takes; a message is not started
 *     once our lease may have run out (`leases.holds`): it is handed back instead;
 *  2. read — MIME, SPF/DKIM/DMARC, the parser, the registry match (reads only);
 *  3. record — ONE transaction: the row is locked and the claim checked (same `claimed_by` and
 *     `attempts`, still `received`: a worker whose lease ran out can never record a second
 *     outcome), then the notice, its audit events, the reply in the outbox and the row's outcome
 *     (which clears `claimed_by`) commit together.
 * A crash anywhere before 3 commits leaves the row `received`; it is claimed again
 * `CLAIM_LEASE_SECONDS` after the process's last heartbeat. So nothing stored is lost, and no
 * message makes two notices or two replies.
 */
export type InboundDeps = Pick<AppDeps, 'db' | 'clock' | 'config' | 'logger' | 'sessionSecret'> & {
  /** The process's claims (server.ts passes `container.leases`); default: the worker registers its own. */
  leases?: LeaseHolder;
};

export interface InboundWorkerOptions {
  resolver?: DnsResolver;
  batchSize?: number;
  concurrency?: number;
  /** With its own claims only (no `deps.leases`): their lease (default CLAIM_LEASE_SECONDS). */
  leaseMs?: number;
  /** Attempts before `failed`. Default 3. */
  maxAttempts?: number;
}

export interface InboundResult {
  claimed: number;
  done: number;
  failed: number;
  lost: number;
}

export interface InboundWorker {
  /** Processes every due message, batch after batch, until none is left (or `stop()`). */
  drain(): Promise<InboundResult>;
  /** Processes this one message now if it is due and no other worker holds it. */
  processNow(id: string): Promise<void>;
  /** Starts a drain soon (after the SMTP receiver stored a message); coalesces. */
  kick(): void;
  stop(): void;
  /** Resolves when the drains started by `kick()` have ended (after `stop()`, also its own claims are released). */
  idle(): Promise<void>;
}

const WORKER = { type: 'system' as const, label: 'inbound-worker' };

/**
 * The raw bytes of the messages read at once, at most (issue 18, memory): reading a message takes
 * a few times its size (its bytes, the parsed text and attachments), so up to `concurrency` small
 * messages are read together, but a large one (up to INBOUND_MAX_BYTES, 25 MiB) is read alone.
 */
const PARSE_BUDGET_BYTES = 4 * 1024 * 1024;

/** A byte semaphore: `take(n)` waits until n fits (a request larger than the whole budget waits until nothing else is held). */
function byteBudget(limit: number) {
  let held = 0;
  const waiting: { n: number; go: () => void }[] = [];
  const wake = () => {
    while (waiting.length && (held === 0 || held + waiting[0].n <= limit)) {
      const w = waiting.shift()!;
      held += w.n;
      w.go();
    }
  };
  return {
    take(n: number): Promise<void> {
      return new Promise((go) => {
        waiting.push({ n, go });
        wake();
      });
    },
    give(n: number) {
      held -= n;
      wake();
    },
  };
}

export function createInboundWorker(deps: InboundDeps, opts: InboundWorkerOptions = {}): InboundWorker {
  const { db, clock, logger, config } = deps;
  const batchSize = opts.batchSize ?? 20;
  const concurrency = opts.concurrency ?? 4;
  const ownLeases = !deps.leases;
  const leases =
    deps.leases ?? createLeaseHolder(db, { leaseMs: opts.leaseMs ?? config.claimLeaseSeconds * 1000, logger, name: 'inbound-worker' });
  const maxAttempts = opts.maxAttempts ?? 3;
  const readDeps = { ...deps, resolver: opts.resolver };
  let stopping = false;
  const budget = byteBudget(PARSE_BUDGET_BYTES);

  async function prepare(row: ClaimedInbound, r: ReadResult): Promise<PreparedIntake | null> {
    if (r.verdict.kind !== 'notice') return null;
    const ex = r.verdict.ex;
    const unauth = isUnauthenticated(r.auth);
    return prepareIntake(deps, {
      email: r.verdict.from.address,
      infringingUrls: ex.infringingUrls.slice(0, 1000),
      originalUrls: ex.originalUrls.slice(0, 100),
      claimType: 'copyright',
      withModerators: ex.complete && config.policy.moderatorDigestMinutes <= 0,
      extraFlags: unauth
        ? [
            {
              code: 'sender_unauthenticated',
              reason: `The sender's address is not authenticated (SPF ${r.auth.spf}, DKIM ${r.auth.dkim}, DMARC ${r.auth.dmarc}): it may be forged.`,
            },
          ]
        : [],
    });
  }

  /** Step 3: the outcome, in one transaction. Returns false when the claim was no longer ours. */
  async function recordOutcome(row: ClaimedInbound, r: ReadResult, prepared: PreparedIntake | null): Promise<boolean> {
    return withTransaction(db, async (tx) => {
      if (!(await lockClaimed(tx, row))) return false;
      const now = clock.now();
      const v = r.verdict;
      const subject = { type: 'inbound_email', id: row.id };
      // A suspended submitter's emailed notice is refused like on every other channel (DSA Art. 23).
      const refused = prepared?.refusal ? `notice refused: ${prepared.refusal.message}` : null;
      if (v.kind === 'ignore' || refused) {
        const reason = v.kind === 'ignore' ? v.reason : refused!;
        await setOutcome(tx, row.id, {
          status: 'ignored',
          reason,
          noticeId: null,
          extracted: r.extracted,
          auth: r.auth,
          at: now,
        });
        await record(tx, { actor: WORKER, action: 'inbound_email.ignored', subject, details: { reason }, at: now });
        return true;
      }
      if (v.kind === 'reply') {
        const attached = await attachEmailReply(tx, deps, { noticeId: v.noticeId, text: v.text, from: v.from, inboundEmailId: row.id });
        const reason = !attached
          ? 'a reply to a notice that does not exist'
          : attached.answered
            ? 'the answer to the question: the notice is back in the queue'
            : 'attached to the notice';
        await setOutcome(tx, row.id, {
          status: attached ? 'reply_attached' : 'ignored',
          reason,
          noticeId: attached?.notice.id ?? null,
          extracted: r.extracted,
          auth: r.auth,
          at: now,
        });
        await record(tx, {
          actor: WORKER,
          action: attached ? 'inbound_email.attached' : 'inbound_email.ignored',
          subject,
          details: { reason, notice: attached?.notice.reference ?? null },
          at: now,
        });
        return true;
      }
      // Loop safety: at most INBOUND_REPLIES_PER_HOUR automatic replies to one address. The lock
      // makes two messages from one sender, read at once, count each other.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('inbound-replies:' || $1))`, [v.from.address]);
      const sent = await automaticRepliesSince(tx, v.from.address, new Date(now.getTime() - 3_600_000));
      const replies = sent < config.inbound.repliesPerHour;
      const thread: EmailThread | null = replies
        ? { inReplyTo: r.msg.messageId, references: r.msg.references, subject: r.msg.subject }
        : null;
      const notice = await takeEmailedNotice(tx, deps, emailedNotice(v.ex, v.from, row.id, thread), prepared!);
      const status = notice.status === 'pending' ? 'notice_created' : 'incomplete';
      const reason = replies
        ? null
        : `no automatic reply: ${config.inbound.repliesPerHour} already sent to this address in the last hour (INBOUND_REPLIES_PER_HOUR)`;
      await setOutcome(tx, row.id, { status, reason, noticeId: notice.id, extracted: r.extracted, auth: r.auth, at: now });
      await record(tx, {
        actor: WORKER,
        action: 'inbound_email.read',
        subject,
        details: {
          status,
          notice: notice.reference,
          missing: v.ex.missing.map((m) => m.element),
          replied: replies,
          auth: { spf: r.auth.spf, dkim: r.auth.dkim, dmarc: r.auth.dmarc },
        },
        at: now,
      });
      return true;
    });
  }

  /** Hands a claimed row back (it is claimed again once `next_attempt_at` passes). */
  async function handBack(row: ClaimedInbound): Promise<void> {
    await leases
      .release('inbound_emails', { ids: [row.id] })
      .catch((err) =>
        logger.warn(
          { err: String(err), inboundEmailId: row.id },
          'handing an inbound email back failed; it is free once the lease runs out',
        ),
      );
  }

  async function handle(row: ClaimedInbound): Promise<'done' | 'failed' | 'lost'> {
    if (!leases.holds(row.claimed_by)) {
      // Our heartbeat has not been confirmed for a lease's length: another instance may hold the row.
      logger.warn({ inboundEmailId: row.id }, 'inbound email not read: this instance could not renew its claims; handing it back');
      await handBack(row);
      return 'lost';
    }
    try {
      // The stored bytes stream from PostgreSQL as mailparser (and mailauth) take them, never joined.
      const r = await readInboundEmail(readDeps, () => rawStream(poolOf(db), row.id, row.size), row.envelope ?? {}, row.size);
      const prepared = await prepare(row, r);
      return (await recordOutcome(row, r, prepared)) ? 'done' : 'lost';
    } catch (err) {
      const error = String((err as Error)?.stack ?? err).slice(0, 2000);
      const last = row.attempts >= maxAttempts;
      const now = clock.now();
      logger.error(
        { err: String((err as Error)?.message ?? err), inboundEmailId: row.id, attempts: row.attempts },
        'reading an inbound email failed',
      );
      try {
        return await withTransaction(db, async (tx) => {
          const retryAt = last ? null : new Date(now.getTime() + 30_000 * 2 ** (row.attempts - 1));
          const applied = await setAttemptFailed(tx, row, error, retryAt, now);
          if (applied && last) {
            await record(tx, {
              actor: WORKER,
              action: 'inbound_email.failed',
              subject: { type: 'inbound_email', id: row.id },
              details: { attempts: row.attempts, error: error.split('\n')[0] },
              at: now,
            });
          }
          return last ? 'failed' : 'lost';
        });
      } catch {
        await handBack(row); // claimed again once its next_attempt_at passes
        return 'lost';
      }
    }
  }

  async function run(onlyId?: string): Promise<InboundResult> {
    const total: InboundResult = { claimed: 0, done: 0, failed: 0, lost: 0 };
    for (;;) {
      if (stopping) break;
      const rows = await claimInbound(leases, { now: clock.now(), limit: onlyId ? 1 : batchSize, onlyId });
      total.claimed += rows.length;
      const queue = [...rows];
      await Promise.all(
        Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
          for (let row = queue.shift(); row; row = queue.shift()) {
            const size = row.size;
            await budget.take(size);
            try {
              total[await handle(row)]++;
            } finally {
              budget.give(size);
            }
          }
        }),
      );
      if (onlyId || rows.length < batchSize) break;
    }
    return total;
  }

  // A kick never waits behind a drain in progress (src/db/rounds.ts): a message that is slow to read
  // must not hold back the next one; the claims keep concurrent rounds' rows apart.
  const rounds = createRounds(() => run(), {
    parallel: 2,
    onError: (err) => logger.error({ err: String(err) }, 'inbound parse job failed'),
    whenStopped: () => ({ claimed: 0, done: 0, failed: 0, lost: 0 }),
  });
  const worker: InboundWorker = {
    drain: () => run(),
    async processNow(id) {
      await run(id);
    },
    kick() {
      if (!stopping) rounds.wake();
    },
    stop() {
      stopping = true;
      rounds.stop();
    },
    async idle() {
      await rounds.idle();
      if (stopping && ownLeases) await leases.stop(); // its own claims: handed back, registration removed
    },
  };
  return worker;
}
