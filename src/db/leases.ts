import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';

/**
 * Claims with leases: the one mechanism every claim-based worker uses (the mail outbox now; inbound
 * parsing, webhooks, edge purges and batches as they arrive). Import it from any module.
 *
 * Chosen: an INSTANCE REGISTRY with heartbeats in PostgreSQL, not a lease column renewed per row.
 *  - Each process that claims work registers one row in `worker_instances` (a random id) and renews
 *    it every `heartbeatMs` (default 10 s): `expires_at = now() + leaseMs` (default 30 s).
 *  - A claimed row records its claimant: `claimed_by` (the instance id) and `claimed_at`. A row is
 *    claimable when it is due by the worker's own rule AND `claimed_by` is NULL or names an instance
 *    whose `expires_at` has passed (or that is gone). Claims use `FOR UPDATE SKIP LOCKED`, so
 *    instances never wait for each other.
 *  - So a crashed process's claims are taken over `leaseMs` after its last heartbeat (≤ 30 s by
 *    default; the bar is 60 s), while a live process keeps every claim however long one send takes
 *    (a 40 s SMTP answer, a 5-minute upload): its heartbeat, not the work, keeps the lease.
 *  - Why not a per-row lease renewed by a heartbeat? The registry renews ONE row per process per
 *    beat whatever the number of rows or tables it holds; a per-row lease renews every claimed row of
 *    every table on every beat, and each worker needs its own renewal loop. Liveness is decided by
 *    PostgreSQL's clock only (`now()`), so clock skew between machines does not matter.
 *  - A process that misses its beats long enough to be taken for dead (a stalled event loop, the
 *    database unreachable for longer than the lease) learns it at its next beat: the renewal matches
 *    no row (it only renews an unexpired registration), and it registers again under a new id. Its
 *    old claims are then anyone's. Before starting a side effect (sending an email), a worker asks
 *    `holds(row.claimed_by)`: false once the lease may have run out, so it does not start work that
 *    someone else may be doing. Outcomes are written `WHERE claimed_by = <the id that claimed>` (plus
 *    the worker's own fence, e.g. the attempts count): a claimant that lost the row cannot overwrite.
 *  - Graceful shutdown: `stop()` releases every claim of this process (`claimed_by = NULL`) and
 *    deletes its registration, so the next instance takes the work at once: a deploy delays nothing.
 *
 * A table that uses it has two columns (nullable, in its migration) and, to keep release cheap,
 * a partial index:  claimed_by uuid, claimed_at timestamptz, INDEX (claimed_by) WHERE claimed_by IS NOT NULL.
 *
 * Use (the table alias is always `t`; `$1…$n` are your `params`):
 *
 *   const leases = createLeaseHolder(db, { logger });   // one per process (server.ts: container.leases)
 *   const rows = await leases.claim<{ id: string }>({
 *     table: 'webhook_deliveries',
 *     where: `t.status = 'pending' AND t.next_attempt_at <= $1`, params: [now],
 *     orderBy: 't.next_attempt_at', limit: 50,
 *     set: 'attempts = t.attempts + 1',                  // optional, extra assignments
 *     returning: 't.id, t.url, t.attempts',
 *   });
 *   for (const r of rows) {
 *     if (!leases.holds(r.claimed_by)) break;            // lease possibly lost: do not start
 *     await doTheWork(r);
 *     await db.query(`UPDATE webhook_deliveries SET status = 'sent', claimed_by = NULL WHERE id = $1 AND claimed_by = $2`, [r.id, r.claimed_by]);
 *   }
 *   await leases.release('webhook_deliveries', { ids: unstarted });   // hand back what you will not do
 *   await leases.stop();                                 // at shutdown: releases everything, unregisters
 */

/** Anything with TypeORM's `query` (a DataSource or a transaction's EntityManager). */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<any>;
}

export interface ClaimSpec {
  /** The table (plain identifier); it is aliased `t` in every clause below. */
  table: string;
  /** When a row is due, by the worker's own rule, e.g. `t.status = 'queued' AND t.next_attempt_at <= $1`. */
  where: string;
  params?: unknown[];
  /** e.g. `t.next_attempt_at`. */
  orderBy?: string;
  limit: number;
  /** Extra assignments made at the claim, e.g. `attempts = t.attempts + 1`. */
  set?: string;
  /** The columns to return, e.g. `t.id, t.payload`; `claimed_by` is always returned too. */
  returning: string;
  /** The primary key column (default `id`). */
  key?: string;
}

export interface LeaseOptions {
  /** How long a registration lives without a heartbeat (default 30 s): a dead process's claims are free after it. */
  leaseMs?: number;
  /** How often the registration is renewed (default a third of the lease). */
  heartbeatMs?: number;
  /** Shown in `worker_instances.name` (e.g. `app`, `cli`). */
  name?: string;
  logger?: Logger;
}

export interface LeaseHolder {
  /** This process's current registration (undefined before the first claim). */
  readonly instanceId: string | undefined;
  readonly leaseMs: number;
  /** Claims up to `limit` due rows under this process's lease (FOR UPDATE SKIP LOCKED); registers on first use. */
  claim<T extends object>(spec: ClaimSpec, q?: Queryable): Promise<Array<T & { claimed_by: string }>>;
  /** True while a row claimed under `claimedBy` is certainly still ours (our lease has not run out since the last good beat). */
  holds(claimedBy: string): boolean;
  /** Hands rows back (all of this process's in `table`, or only `ids`), with optional extra assignments (e.g. `attempts = t.attempts - 1`). */
  release(table: string, opts?: { ids?: unknown[]; set?: string; key?: string }, q?: Queryable): Promise<number>;
  /** Renews now (the timer does it by itself; tests and shutdown use it). */
  heartbeat(): Promise<void>;
  /** Releases every claim of this process, unregisters, stops the heartbeat. */
  stop(): Promise<void>;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;
function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`leases: not a plain identifier: ${name}`);
  return name;
}

/** A claimant that is alive: registered and not expired (by PostgreSQL's clock). */
const LIVE_CLAIMANT = `EXISTS (SELECT 1 FROM worker_instances w WHERE w.id = t.claimed_by AND w.expires_at > now())`;

export function createLeaseHolder(db: DataSource, opts: LeaseOptions = {}): LeaseHolder {
  const leaseMs = opts.leaseMs ?? 30_000;
  const heartbeatMs = opts.heartbeatMs ?? Math.max(100, Math.floor(leaseMs / 3));
  const logger = opts.logger;
  const name = (opts.name ?? 'app').slice(0, 100);
  /** Every id this process has registered under (a re-registration after being taken for dead adds one). */
  const ids: string[] = [];
  const tables = new Set<string>();
  let current: string | undefined;
  /** Date.now() before which our current registration is certainly unexpired. */
  let validUntil = 0;
  let registering: Promise<string> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let beating: Promise<void> | undefined;
  let stopped = false;

  async function register(): Promise<string> {
    const id = randomUUID();
    const sentAt = Date.now();
    await db.query(
      `INSERT INTO worker_instances (id, name, host, pid, started_at, heartbeat_at, expires_at)
       VALUES ($1, $2, $3, $4, now(), now(), now() + make_interval(secs => $5))`,
      [id, name, hostname().slice(0, 255), process.pid, leaseMs / 1000],
    );
    ids.push(id);
    current = id;
    validUntil = sentAt + leaseMs;
    // Registrations dead for a day hold nothing anyone waits for (a dead claimant frees its rows anyway).
    await db.query(`DELETE FROM worker_instances WHERE expires_at < now() - interval '1 day'`).catch(() => undefined);
    if (!timer && !stopped) {
      timer = setInterval(() => void holder.heartbeat(), heartbeatMs);
      timer.unref();
    }
    logger?.info({ instance: id, leaseMs, heartbeatMs }, 'registered for claims');
    return id;
  }

  async function ensureRegistered(): Promise<string> {
    if (stopped) throw new Error('leases: stopped');
    if (current && Date.now() < validUntil) return current;
    if (current) await holder.heartbeat(); // overdue: renew (or re-register) before claiming anything
    if (current) return current;
    registering ??= register().finally(() => {
      registering = undefined;
    });
    return registering;
  }

  const holder: LeaseHolder = {
    get instanceId() {
      return current;
    },
    leaseMs,

    async claim<T extends object>(spec: ClaimSpec, q: Queryable = db) {
      const me = await ensureRegistered();
      const table = ident(spec.table);
      const key = ident(spec.key ?? 'id');
      const params = [...(spec.params ?? [])];
      const n = params.length;
      tables.add(table);
      const [rows] = (await q.query(
        `WITH due AS (
           SELECT t.${key} FROM ${table} t
            WHERE (${spec.where})
              AND (t.claimed_by IS NULL OR NOT ${LIVE_CLAIMANT})
            ${spec.orderBy ? `ORDER BY ${spec.orderBy}` : ''}
            LIMIT $${n + 1}
            FOR UPDATE OF t SKIP LOCKED
         )
         UPDATE ${table} t
            SET claimed_by = $${n + 2}, claimed_at = now()${spec.set ? `, ${spec.set}` : ''}
           FROM due
          WHERE t.${key} = due.${key}
        RETURNING t.claimed_by, ${spec.returning}`,
        [...params, spec.limit, me],
      )) as [Array<T & { claimed_by: string }>, number];
      return rows;
    },

    holds(claimedBy: string) {
      return !stopped && claimedBy === current && Date.now() < validUntil;
    },

    async release(table: string, ropts: { ids?: unknown[]; set?: string; key?: string } = {}, q: Queryable = db) {
      if (!ids.length) return 0;
      const t = ident(table);
      const key = ident(ropts.key ?? 'id');
      if (ropts.ids && !ropts.ids.length) return 0;
      const [, count] = (await q.query(
        `UPDATE ${t} t SET claimed_by = NULL, claimed_at = NULL${ropts.set ? `, ${ropts.set}` : ''}
          WHERE t.claimed_by = ANY($1::uuid[])${ropts.ids ? ` AND t.${key} = ANY($2)` : ''}`,
        ropts.ids ? [ids, ropts.ids] : [ids],
      )) as [unknown, number];
      return count;
    },

    heartbeat() {
      beating ??= (async () => {
        const id = current;
        if (!id || stopped) return;
        const sentAt = Date.now();
        try {
          const [rows] = (await db.query(
            `UPDATE worker_instances SET heartbeat_at = now(), expires_at = now() + make_interval(secs => $2)
              WHERE id = $1 AND expires_at > now() RETURNING id`,
            [id, leaseMs / 1000],
          )) as [{ id: string }[], number];
          if (rows.length) {
            validUntil = sentAt + leaseMs;
          } else if (current === id) {
            // Our registration ran out (we were taken for dead): our claims may be someone else's now.
            logger?.warn({ instance: id }, 'this instance missed its heartbeats and was taken for dead; registering again');
            current = undefined;
            validUntil = 0;
            if (!stopped) await register();
          }
        } catch (err) {
          logger?.warn({ err: String(err), instance: id }, 'claim heartbeat failed; will try again');
        }
      })().finally(() => {
        beating = undefined;
      });
      return beating;
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearInterval(timer);
      await beating;
      await registering?.catch(() => undefined);
      if (!ids.length) return;
      try {
        for (const table of tables) {
          const n = await holder.release(table);
          if (n) logger?.info({ table, released: n }, 'claims released at shutdown');
        }
        await db.query(`DELETE FROM worker_instances WHERE id = ANY($1::uuid[])`, [ids]);
      } catch (err) {
        logger?.warn({ err: String(err) }, 'releasing claims at shutdown failed; they are free once the lease runs out');
      }
      current = undefined;
      validUntil = 0;
    },
  };
  return holder;
}
