import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { AppDeps } from '../../deps';
import { LIVE_CHANNEL, NoticeChangeMessage, queueCounts } from '../review';

/**
 * The live stream's fan-out (SPEC §15). Each instance holds ONE dedicated PostgreSQL connection that
 * LISTENs on `td_live` while at least one browser is connected, and writes every message it hears
 * to its own connected clients; so N instances behind a load balancer all see every change.
 *
 * What travels on the channel:
 *  - `notice`: a review use case changed a notice (claim, release, assign, decision, note); sent
 *    by `announceNoticeChange` inside the change's transaction, so it arrives at commit or never;
 *  - `view`: a client started (`on`) or stopped viewing a notice page on some instance; every
 *    instance repeats its own viewers at each heartbeat, and a viewer not repeated for three
 *    heartbeats (its instance died) expires. A `join` asks the others to repeat theirs at once, so
 *    a new viewer sees who is already there without waiting for a heartbeat;
 *  - `sync`: an instance (re)connected and asks every other to repeat its viewers.
 *
 * What a browser receives (`text/event-stream`): `counts` (the queue's counts, recomputed once per
 * burst of changes), `notice` (a notice's new status, holder and version), `presence` (for the
 * notice it views: who else views it and who holds it) and `heartbeat`.
 */

export type LiveDeps = Pick<AppDeps, 'db' | 'logger' | 'clock' | 'config'>;

export interface LiveClient {
  id: string;
  userId: string;
  name: string;
  /** The notice page this client shows (its presence), or null for the queue. */
  notice: string | null;
  send(event: string, data: unknown): void;
  end(): void;
}

interface Viewer {
  userId: string;
  name: string;
  expires: number;
}

interface ViewMessage {
  k: 'view';
  i: string;
  c: string;
  ref: string;
  uid: string;
  name: string;
  on: boolean;
  join?: boolean;
}

type Message = NoticeChangeMessage | ViewMessage | { k: 'sync'; i: string };

interface Holder {
  status: string;
  holder: { id: string; name: string } | null;
}

export class LiveHub {
  readonly instance = randomUUID();
  private readonly clients = new Set<LiveClient>();
  /** ref → (instance:client → viewer), from every instance. */
  private readonly viewers = new Map<string, Map<string, Viewer>>();
  private readonly holders = new Map<string, Holder>();
  private readonly names = new Map<string, { name: string; until: number }>();
  private conn: Client | null = null;
  private ready: Promise<Client> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private idle: NodeJS.Timeout | null = null;
  private countsTimer: NodeJS.Timeout | null = null;
  private lastCounts = '';
  private closed = false;

  constructor(private readonly deps: LiveDeps) {}

  get heartbeatMs(): number {
    return this.deps.config.live.heartbeatSeconds * 1000;
  }

  get size(): number {
    return this.clients.size;
  }

  /** A browser connected: start listening if it is the first, announce its presence, send the current state. */
  async attach(client: LiveClient): Promise<void> {
    this.clients.add(client);
    this.names.set(client.userId, { name: client.name, until: Date.now() + 60_000 });
    await this.start();
    if (client.notice) {
      this.setViewer(client.notice, `${this.instance}:${client.id}`, client);
      await this.publish({
        k: 'view',
        i: this.instance,
        c: client.id,
        ref: client.notice,
        uid: client.userId,
        name: client.name,
        on: true,
        join: true,
      });
      if (!this.holders.has(client.notice)) this.holders.set(client.notice, await this.holderOf(client.notice));
      this.pushPresence(client.notice);
    }
    client.send('counts', await this.counts());
  }

  /** A browser left (closed the page, navigated away, lost its connection): its presence goes at once. */
  async detach(client: LiveClient): Promise<void> {
    if (!this.clients.delete(client)) return;
    if (client.notice) {
      this.viewers.get(client.notice)?.delete(`${this.instance}:${client.id}`);
      this.pushPresence(client.notice);
      await this.publish({
        k: 'view',
        i: this.instance,
        c: client.id,
        ref: client.notice,
        uid: client.userId,
        name: client.name,
        on: false,
      }).catch(() => undefined);
    }
    if (!this.clients.size) this.scheduleStop();
  }

  /** Ends every stream and the LISTEN connection (server shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.clients]) c.end();
    this.clients.clear();
    await this.stop();
  }

  private async start(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    if (!this.ready) {
      const ready = this.connect();
      this.ready = ready;
      ready.catch(() => {
        if (this.ready === ready) this.ready = null;
      });
    }
    const ready = this.ready;
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => void this.beat(), this.heartbeatMs);
      this.heartbeat.unref();
    }
    await ready;
  }

  private async connect(): Promise<Client> {
    const url = (this.deps.db.options as { url?: string }).url;
    if (!url) throw new Error('the live stream needs the database URL');
    const c = new Client({ connectionString: url, application_name: 'takedown-desk-live', keepAlive: true });
    c.on('notification', (msg) => {
      if (msg.channel !== LIVE_CHANNEL || !msg.payload) return;
      try {
        this.receive(JSON.parse(msg.payload) as Message);
      } catch (err) {
        this.deps.logger.warn({ err: String(err) }, 'live: a message could not be handled');
      }
    });
    c.on('error', (err) => {
      // The clients reconnect (EventSource retries by itself); their new attach starts a new connection.
      this.deps.logger.warn({ err: err.message }, 'live: LISTEN connection lost; closing the streams so browsers reconnect');
      if (this.conn === c) {
        this.conn = null;
        this.ready = null;
      }
      c.end().catch(() => undefined);
      for (const cl of [...this.clients]) cl.end();
    });
    await c.connect();
    await c.query(`LISTEN ${LIVE_CHANNEL}`);
    this.conn = c;
    await this.publish({ k: 'sync', i: this.instance });
    return c;
  }

  /** The last client left: the connection is kept a moment (a page reload reconnects at once), then closed. */
  private scheduleStop(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => void this.stop(), 1_000);
    this.idle.unref();
  }

  private async stop(): Promise<void> {
    if (this.clients.size && !this.closed) return;
    if (this.idle) clearTimeout(this.idle);
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.countsTimer) clearTimeout(this.countsTimer);
    this.heartbeat = this.countsTimer = this.idle = null;
    const ready = this.ready;
    this.ready = null;
    const c = await ready?.catch(() => null);
    if (this.conn === c) this.conn = null;
    this.viewers.clear();
    this.holders.clear();
    this.lastCounts = '';
    await c?.end().catch(() => undefined);
  }

  private async publish(m: Message): Promise<void> {
    if (this.closed) return;
    await this.deps.db.query('SELECT pg_notify($1, $2)', [LIVE_CHANNEL, JSON.stringify(m)]);
  }

  private receive(m: Message): void {
    if (m.k === 'notice') return void this.onNotice(m);
    if (m.k === 'sync') {
      if (m.i !== this.instance) void this.repeatViewers(null);
      return;
    }
    if (m.i === this.instance) return;
    const key = `${m.i}:${m.c}`;
    const before = this.viewers.get(m.ref)?.has(key);
    if (m.on) this.setViewer(m.ref, key, { userId: m.uid, name: m.name });
    else this.viewers.get(m.ref)?.delete(key);
    if (before !== m.on) this.pushPresence(m.ref);
    if (m.join) void this.repeatViewers(m.ref);
  }

  private async onNotice(m: NoticeChangeMessage): Promise<void> {
    const holder: Holder = { status: m.status, holder: m.assigneeId ? { id: m.assigneeId, name: await this.nameOf(m.assigneeId) } : null };
    this.holders.set(m.ref, holder);
    for (const c of this.clients) c.send('notice', { ref: m.ref, status: m.status, version: m.version, holder: holder.holder });
    this.pushPresence(m.ref);
    this.scheduleCounts();
  }

  private setViewer(ref: string, key: string, v: { userId: string; name: string }): void {
    let m = this.viewers.get(ref);
    if (!m) this.viewers.set(ref, (m = new Map()));
    m.set(key, { userId: v.userId, name: v.name, expires: Date.now() + 3 * this.heartbeatMs });
  }

  /** Tells the clients viewing `ref` who else is there (each without themselves) and who holds it. */
  private pushPresence(ref: string): void {
    const all = [...(this.viewers.get(ref)?.values() ?? [])];
    const h = this.holders.get(ref);
    for (const c of this.clients) {
      if (c.notice !== ref) continue;
      const seen = new Map<string, string>();
      for (const v of all) if (v.userId !== c.userId) seen.set(v.userId, v.name);
      c.send('presence', {
        ref,
        viewers: [...seen].map(([id, name]) => ({ id, name })),
        holder: h?.holder ?? null,
        status: h?.status ?? null,
      });
    }
  }

  private async repeatViewers(ref: string | null): Promise<void> {
    for (const c of this.clients) {
      if (!c.notice || (ref && c.notice !== ref)) continue;
      this.setViewer(c.notice, `${this.instance}:${c.id}`, c);
      await this.publish({ k: 'view', i: this.instance, c: c.id, ref: c.notice, uid: c.userId, name: c.name, on: true }).catch(
        () => undefined,
      );
    }
  }

  /** Every heartbeat: a beat to each client, our viewers repeated, others' expired, counts refreshed (new notices come in too). */
  private async beat(): Promise<void> {
    const at = this.deps.clock.now().toISOString();
    for (const c of this.clients) c.send('heartbeat', { at });
    await this.repeatViewers(null);
    const now = Date.now();
    for (const [ref, m] of this.viewers) {
      let gone = false;
      for (const [k, v] of m) if (v.expires < now) gone = m.delete(k) || gone;
      if (gone) this.pushPresence(ref);
      if (!m.size) this.viewers.delete(ref);
    }
    this.scheduleCounts();
  }

  /** Coalesces a burst of changes into one counts query per instance (not one per client or per change). */
  private scheduleCounts(): void {
    if (this.countsTimer || !this.clients.size) return;
    this.countsTimer = setTimeout(() => {
      this.countsTimer = null;
      void this.counts()
        .then((counts) => {
          const json = JSON.stringify(counts);
          if (json === this.lastCounts) return;
          this.lastCounts = json;
          for (const c of this.clients) c.send('counts', counts);
        })
        .catch((err) => this.deps.logger.warn({ err: String(err) }, 'live: queue counts failed'));
    }, 50);
    this.countsTimer.unref();
  }

  private async counts() {
    const c = await queueCounts(this.deps.db.manager, this.deps.clock.now());
    return { ...c, at: this.deps.clock.now().toISOString() };
  }

  private async holderOf(ref: string): Promise<Holder> {
    const [row] = await this.deps.db.query(
      `SELECT n.status, u.id, u.name FROM notices n LEFT JOIN users u ON u.id = n.assignee_id WHERE n.reference = $1`,
      [ref],
    );
    return { status: row?.status ?? null, holder: row?.id ? { id: row.id, name: row.name } : null };
  }

  /** Staff names, kept a minute: a change is fanned out without a query on its way. */
  private async nameOf(userId: string): Promise<string> {
    const hit = this.names.get(userId);
    if (hit && hit.until > Date.now()) return hit.name;
    const [u] = await this.deps.db.query(`SELECT name FROM users WHERE id = $1`, [userId]);
    const name = u?.name ?? 'a former staff member';
    if (this.names.size > 1000) this.names.clear();
    this.names.set(userId, { name, until: Date.now() + 60_000 });
    return name;
  }
}
