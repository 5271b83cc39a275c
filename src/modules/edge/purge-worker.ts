import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from '../../config';
import { createLeaseHolder, LeaseHolder } from '../../db/leases';
import { createListener } from '../../db/listen';
import { createRounds } from '../../db/rounds';
import { withTransaction } from '../../db/transaction';
import type { Clock } from '../../shared/clock';
import { record } from '../audit';
import { PURGE_CHANNEL } from './queue-purge';
import { PurgeTarget, purgeTargets, sendPurge } from './purge-targets';

/**
 * The purge worker: drains the edge purge outbox. Safe with any number of instances running it.
 * The mail worker's cycle (claim → send → record; see mail-worker.ts), for purges:
 *  1. claim — one short statement through the shared claims (`src/db/leases.ts`): up to `batchSize`
 *     due rows, `FOR UPDATE SKIP LOCKED`, `claimed_by` = this process, `attempts + 1`; it commits at
 *     once, so no transaction is open while we talk to the edges. The process's heartbeat keeps the
 *     claim however long the edges take; if the process dies, its claims are free
 *     `CLAIM_LEASE_SECONDS` after its last heartbeat. (`next_attempt_at` is still pushed a lease
 *     ahead, so an instance of the previous version running during a rolling deploy does not take
 *     the row; this version ignores it for claimed rows.)
 *  2. send — per target, the keys of every claimed row that target has not acknowledged yet, merged
 *     into as few requests as its limit allows, all targets in parallel; not started once our lease
 *     may have run out (`leases.holds`): the rows are handed back instead;
 *  3. record — one transaction: a row every configured target acknowledged becomes `sent` with its
 *     `cache.purged` audit event; a row with a failed target keeps the targets that succeeded in
 *     `done_targets` and waits (exponential back-off, jittered), or becomes `failed` with
 *     `cache.purge_failed` after PURGE_MAX_ATTEMPTS; `claimed_by` is cleared. The UPDATE matches the
 *     claimant and the claimed `attempts`, so a worker whose lease ran out can never overwrite a
 *     newer claim's outcome. If the outcome cannot be written, the rows are handed back.
 * Delivery is at-least-once: a purge repeated after a crash is harmless.
 *
 * Latency: `queuePurge` NOTIFYs at commit; `listen()` wakes the worker at once, so a removal reaches
 * every endpoint in one round trip per target. A wake-up starts a new round even while another is
 * waiting on a slow or silent edge (src/db/rounds.ts: the claims keep the two rounds' rows apart);
 * before that, a removal waited for the round in progress, up to its 5 s timeout (issue 18).
 * Polling (the job runner, every second) is the fallback while the LISTEN connection is down, and
 * the clock for retries.
 */

export interface PurgeWorkerDeps {
  db: DataSource;
  config: Config;
  logger: Logger;
  clock: Clock;
  /** The process's claims (server.ts passes `container.leases`); default: the worker registers its own. */
  leases?: LeaseHolder;
}

export interface PurgeWorkerOptions {
  batchSize?: number;
  /** With its own claims only (no `deps.leases`): their lease (default CLAIM_LEASE_SECONDS). */
  leaseMs?: number;
  timeoutMs?: number;
  /** First retry delay (default 1 s), doubled each attempt, capped at `retryMaxMs` (default 5 min). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  random?: () => number;
  /** Default: from the configuration. */
  targets?: PurgeTarget[];
  /** Rounds at once in this process (default 4): a wake-up starts one while another waits on a slow edge. */
  parallelRounds?: number;
}

export interface PurgeResult {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  lost: number;
}

export interface PurgeWorker {
  readonly targets: string[];
  /** Sends everything due, batch after batch, until a claim comes back short; never waits for a round in progress. */
  drain(): Promise<PurgeResult>;
  /** Wakes `drain()` on every committed `queuePurge` (a dedicated LISTEN connection, reconnecting). */
  listen(): Promise<void>;
  stop(): Promise<void>;
}

interface ClaimedRow {
  id: string;
  keys: string[];
  attempts: number;
  done_targets: string[];
  created_at: Date;
  /** The registration of this process that claimed it (the fence of the outcome write). */
  claimed_by: string;
}

/** A row still claimed in the old way (before claimed_by) stays untouched this long. */
const LEGACY_LEASE_MS = 30_000;

const WORKER_ACTOR = { type: 'system' as const, label: 'purge-worker' };

export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

export function createPurgeWorker(deps: PurgeWorkerDeps, opts: PurgeWorkerOptions = {}): PurgeWorker {
  const { db, logger, clock } = deps;
  const targets = opts.targets ?? purgeTargets(deps.config);
  const batchSize = opts.batchSize ?? 200;
  const ownLeases = !deps.leases;
  const leases =
    deps.leases ?? createLeaseHolder(db, { leaseMs: opts.leaseMs ?? deps.config.claimLeaseSeconds * 1000, logger, name: 'purge-worker' });
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const retryBaseMs = opts.retryBaseMs ?? 1_000;
  const retryMaxMs = opts.retryMaxMs ?? 5 * 60_000;
  const maxAttempts = deps.config.edge.maxAttempts;
  const random = opts.random ?? Math.random;
  let stopped = false;

  function claim(now: Date): Promise<ClaimedRow[]> {
    // Due: its time has come, or a claimant (now dead: leases.ts checks) holds it whatever its time.
    return leases.claim<ClaimedRow>({
      table: 'edge_purges',
      where: `t.status = 'queued' AND (t.next_attempt_at <= $1 OR t.claimed_by IS NOT NULL)`,
      params: [now, new Date(now.getTime() + LEGACY_LEASE_MS)],
      orderBy: 't.next_attempt_at',
      limit: batchSize,
      set: 'attempts = t.attempts + 1, next_attempt_at = $2',
      returning: 't.id, t.keys, t.attempts, t.done_targets, t.created_at',
    });
  }

  /** Hands claimed rows back, due at once (`untried`: the attempt is given back too). */
  async function handBack(rows: ClaimedRow[], untried: boolean): Promise<void> {
    if (!rows.length) return;
    await leases
      .release('edge_purges', {
        ids: rows.map((r) => r.id),
        set: untried ? 'attempts = t.attempts - 1, next_attempt_at = now()' : 'next_attempt_at = now()',
      })
      .catch((err) => logger.warn({ err: String(err) }, 'handing edge purges back failed; they are free once the lease runs out'));
  }

  /** Per target: which rows it acknowledged in this round, and the error of the ones it did not. */
  async function send(rows: ClaimedRow[]): Promise<Map<string, { ok: Set<string>; error?: string }>> {
    const out = new Map<string, { ok: Set<string>; error?: string }>();
    await Promise.all(
      targets.map(async (t) => {
        const result = { ok: new Set<string>(), error: undefined as string | undefined };
        out.set(t.name, result);
        const pending = rows.filter((r) => !r.done_targets.includes(t.name));
        // Rows are packed whole into requests of at most maxKeys keys, so a failed request fails exactly its rows.
        const requests: { rows: ClaimedRow[]; keys: Set<string> }[] = [];
        for (const row of pending) {
          let req = requests[requests.length - 1];
          const merged = req ? new Set([...req.keys, ...row.keys]) : null;
          if (!req || !merged || merged.size > t.maxKeys) {
            req = { rows: [], keys: new Set() };
            requests.push(req);
          }
          req.rows.push(row);
          for (const k of row.keys) req.keys.add(k);
        }
        await Promise.all(
          requests.map(async (req) => {
            const keys = [...req.keys];
            try {
              for (let i = 0; i < keys.length; i += t.maxKeys) await sendPurge(t.request(keys.slice(i, i + t.maxKeys)), timeoutMs);
              for (const r of req.rows) result.ok.add(r.id);
            } catch (err) {
              result.error = `${t.name}: ${err instanceof Error ? err.message : String(err)}`;
            }
          }),
        );
      }),
    );
    return out;
  }

  async function recordOutcomes(rows: ClaimedRow[], sent: Map<string, { ok: Set<string>; error?: string }>): Promise<PurgeResult> {
    const at = clock.now();
    const res: PurgeResult = { claimed: rows.length, sent: 0, retried: 0, failed: 0, lost: 0 };
    await withTransaction(db, async (tx) => {
      for (const row of rows) {
        const done = [...new Set([...row.done_targets, ...targets.filter((t) => sent.get(t.name)?.ok.has(row.id)).map((t) => t.name)])];
        const missing = targets.filter((t) => !done.includes(t.name));
        const error = missing.map((t) => sent.get(t.name)?.error ?? `${t.name}: not sent`).join('; ') || null;
        const kind = !missing.length ? 'sent' : row.attempts >= maxAttempts ? 'failed' : 'retry';
        const next = kind === 'retry' ? new Date(at.getTime() + retryDelayMs(row.attempts, retryBaseMs, retryMaxMs, random)) : at;
        const [, count] = (await tx.query(
          `UPDATE edge_purges SET status = $3, done_targets = $4::text[], last_error = $5, next_attempt_at = $6, sent_at = $7,
                  claimed_by = NULL, claimed_at = NULL
            WHERE id = $1 AND status = 'queued' AND attempts = $2 AND claimed_by = $8`,
          [row.id, row.attempts, kind === 'retry' ? 'queued' : kind, done, error, next, kind === 'sent' ? at : null, row.claimed_by],
        )) as [unknown, number];
        if (count !== 1) {
          res.lost++;
          continue;
        }
        if (kind === 'retry') {
          res.retried++;
          continue;
        }
        res[kind === 'sent' ? 'sent' : 'failed']++;
        if (!targets.length) continue; // nothing configured: nothing to record
        await record(tx, {
          actor: WORKER_ACTOR,
          action: kind === 'sent' ? 'cache.purged' : 'cache.purge_failed',
          subject: { type: 'edge_purge', id: row.id },
          details: {
            keys: row.keys,
            targets: done,
            attempts: row.attempts,
            latencyMs: at.getTime() - new Date(row.created_at).getTime(),
            ...(error ? { error, missing: missing.map((t) => t.name) } : {}),
          },
          at,
        });
      }
    });
    for (const [name, r] of sent)
      if (r.error)
        logger.warn({ target: name.replace(/\/\/[^@/]*@/, '//'), error: r.error.slice(0, 200) }, 'edge purge failed; will retry');
    return res;
  }

  /** One round: claim → send → record, batch after batch, until a claim comes back short. */
  async function drainLoop(): Promise<PurgeResult> {
    const total: PurgeResult = { claimed: 0, sent: 0, retried: 0, failed: 0, lost: 0 };
    for (;;) {
      if (stopped) return total;
      const claimed = await claim(clock.now());
      if (!claimed.length) break;
      // Our heartbeat not confirmed for a lease's length: another instance may hold them. Hand back.
      const rows = claimed.filter((r) => leases.holds(r.claimed_by));
      const lost = claimed.filter((r) => !leases.holds(r.claimed_by));
      if (lost.length) {
        logger.warn({ purges: lost.length }, 'edge purges not sent: this instance could not renew its claims; handing them back');
        await handBack(lost, true);
      }
      let outcome: PurgeResult;
      try {
        outcome = await recordOutcomes(rows, await send(rows));
      } catch (err) {
        await handBack(rows, false); // the outcome is unwritten: sent again later (a repeated purge is harmless)
        throw err;
      }
      outcome.claimed = claimed.length;
      outcome.lost += lost.length;
      for (const k of Object.keys(total) as (keyof PurgeResult)[]) total[k] += outcome[k];
      if (claimed.length < batchSize) break;
    }
    return total;
  }
  // A wake-up never waits behind a round in progress (src/db/rounds.ts): a round stuck on an edge
  // that does not answer (up to `timeoutMs`) must not hold back the removal committed meanwhile.
  const rounds = createRounds(drainLoop, {
    parallel: opts.parallelRounds ?? 4,
    onError: (err) => logger.error({ err }, 'edge purge round failed'),
    whenStopped: () => ({ claimed: 0, sent: 0, retried: 0, failed: 0, lost: 0 }),
  });
  const drain = () => rounds.run();

  const listener = createListener(db, {
    channel: PURGE_CHANNEL,
    applicationName: 'takedown-desk-purge',
    what: 'purge worker',
    logger,
    onWake: () => rounds.wake(),
  });

  return {
    targets: targets.map((t) => t.name),
    drain,
    listen: () => listener.start(),
    async stop() {
      stopped = true;
      await listener.stop();
      rounds.stop();
      await rounds.idle();
      if (ownLeases) await leases.stop();
    },
  };
}

/** Sent and failed purges older than `before` go (the audit trail keeps the record). */
export async function pruneEdgePurges(db: DataSource, before: Date): Promise<number> {
  const [, count] = (await db.query(`DELETE FROM edge_purges WHERE status <> 'queued' AND created_at < $1`, [before])) as [unknown, number];
  return count;
}
