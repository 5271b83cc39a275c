import { Client } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../../shared/logger';

/**
 * The rendered-page cache of item pages, and its invalidation across instances.
 *
 * Every change to an item's page (removal, restoration, withdrawal, a feed update, a source rename)
 * runs `NOTIFY td_items_changed` inside its transaction; PostgreSQL delivers it at commit to every
 * instance that LISTENs, each of which drops those pages. So a removal is visible everywhere as soon
 * as the notification arrives (milliseconds), well within the 1 s the product promises.
 *
 * Correctness first:
 *  - the cache is used only while this instance's LISTEN connection is up; while it is down (or
 *    was never started, e.g. in a test without the listener) every request reads the database;
 *    on (re)connect the cache starts empty, so nothing missed while disconnected survives;
 *  - a page rendered from a read that began before an invalidation is not stored (an epoch counter
 *    bumps on every invalidation), so a slow request cannot put a stale page back;
 *  - the instance that makes a change reads its own write: `notifyItemsChanged` also marks the
 *    pages as changing here, at once, inside the transaction. Until their NOTIFY comes back from
 *    PostgreSQL they are neither served from memory nor stored, so a moderator who approves a
 *    notice and opens the page in the next millisecond gets the 451, not the page the NOTIFY is
 *    still on its way to drop. A mark whose transaction rolled back (no NOTIFY ever comes) lapses
 *    after PENDING_MS: those pages are read from the database meanwhile, nothing worse.
 */

export const ITEMS_CHANNEL = 'td_items_changed';
/** Payload meaning "drop everything" (a source-wide change). */
export const ALL = '*';
const MAX_PAYLOAD = 7000; // PostgreSQL's limit is 8000 bytes
/** How long a page marked as changing stays out of memory if its NOTIFY never arrives (a rollback). */
const PENDING_MS = 60_000;

/** Changes made here whose NOTIFY has not come back yet: how many, and until when the mark holds. */
interface Pending {
  count: number;
  until: number;
}

export interface CachedPage {
  status: number;
  body: Buffer;
  etag: string;
  headers: Record<string, string>;
}

export class PageCache {
  private pages = new Map<string, CachedPage>();
  private bytes = 0;
  private epochValue = 0;
  private live = false;
  private pending = new Map<string, Pending>();
  private pendingAll: Pending = { count: 0, until: 0 };
  readonly stats = { hits: 0, misses: 0, invalidations: 0 };

  constructor(
    private readonly maxBytes = 32 * 1024 * 1024,
    private readonly maxEntries = 20_000,
  ) {}

  /** Whether pages are served from memory (the invalidation channel is up). */
  get enabled() {
    return this.live;
  }

  get epoch() {
    return this.epochValue;
  }

  get size() {
    return this.pages.size;
  }

  get(slug: string): CachedPage | undefined {
    if (!this.live) return undefined;
    if (this.isPending(slug)) {
      this.stats.misses++;
      return undefined;
    }
    const page = this.pages.get(slug);
    if (page) {
      // LRU: most recently used last.
      this.pages.delete(slug);
      this.pages.set(slug, page);
      this.stats.hits++;
    } else this.stats.misses++;
    return page;
  }

  /** Stores a page rendered from a read that started at `epoch`; refused if anything was invalidated since. */
  set(slug: string, page: CachedPage, epoch: number): void {
    if (!this.live || epoch !== this.epochValue || this.isPending(slug)) return;
    const size = page.body.length + slug.length + 200;
    if (size > this.maxBytes / 10) return;
    this.drop(slug);
    this.pages.set(slug, page);
    this.bytes += size;
    while (this.bytes > this.maxBytes || this.pages.size > this.maxEntries) {
      const oldest = this.pages.keys().next().value;
      if (oldest === undefined) break;
      this.drop(oldest);
    }
  }

  invalidate(slugs: string[] | typeof ALL): void {
    this.epochValue++;
    this.stats.invalidations++;
    if (slugs === ALL) {
      this.clear();
      settle(this.pendingAll);
    } else
      for (const s of slugs) {
        this.drop(s);
        const p = this.pending.get(s);
        if (p && settle(p)) this.pending.delete(s);
      }
  }

  /**
   * Called inside the transaction that changes these pages, on the instance making the change:
   * they stay out of memory until their NOTIFY arrives (which `invalidate` settles).
   */
  changing(slugs: string[] | typeof ALL): void {
    this.epochValue++;
    const until = Date.now() + PENDING_MS;
    if (slugs === ALL) {
      this.clear();
      mark(this.pendingAll, until);
      return;
    }
    for (const s of slugs) {
      this.drop(s);
      let p = this.pending.get(s);
      if (!p) this.pending.set(s, (p = { count: 0, until }));
      mark(p, until);
    }
  }

  private isPending(slug: string): boolean {
    if (this.pendingAll.count > 0) {
      if (Date.now() < this.pendingAll.until) return true;
      this.pendingAll.count = 0;
    }
    if (this.pending.size === 0) return false;
    const p = this.pending.get(slug);
    if (!p) return false;
    if (Date.now() < p.until) return true;
    this.pending.delete(slug);
    return false;
  }

  /** Called by the listener: up → start empty and serve from memory; down → serve from the database. */
  setLive(live: boolean): void {
    this.epochValue++;
    this.clear();
    this.live = live;
  }

  /** Marks still waiting for their NOTIFY (for tests and diagnostics). */
  get pendingCount(): number {
    return this.pending.size + (this.pendingAll.count > 0 ? 1 : 0);
  }

  private drop(slug: string) {
    const page = this.pages.get(slug);
    if (!page) return;
    this.pages.delete(slug);
    this.bytes -= page.body.length + slug.length + 200;
  }

  private clear() {
    this.pages.clear();
    this.bytes = 0;
  }
}

function mark(p: Pending, until: number) {
  p.count++;
  p.until = until;
}

/** One NOTIFY arrived for this mark; true when none is awaited any more. */
function settle(p: Pending): boolean {
  p.count = Math.max(0, p.count - 1);
  return p.count === 0;
}

/** One cache per database (per app instance); tests with several apps get one each. */
const caches = new WeakMap<DataSource, PageCache>();
export function pageCacheFor(db: DataSource): PageCache {
  let c = caches.get(db);
  if (!c) {
    c = new PageCache();
    caches.set(db, c);
  }
  return c;
}

/** Pages already marked as changing by a transaction (PostgreSQL delivers a repeated payload once). */
const markedBy = new WeakMap<EntityManager, Set<string>>();

/** Inside the caller's transaction: every instance drops these pages when it commits; this one at once. */
export async function notifyItemsChanged(tx: EntityManager, slugs: string[] | typeof ALL): Promise<void> {
  const unique = slugs === ALL ? [] : [...new Set(slugs)];
  // Many pages at once (a big feed update): cheaper to drop everything than to send many messages.
  const all = slugs === ALL || unique.length > 500;
  // Outside a transaction each NOTIFY is its own and arrives on its own: nothing to count once.
  let marked = tx.queryRunner?.isTransactionActive ? markedBy.get(tx) : new Set<string>();
  if (!marked) markedBy.set(tx, (marked = new Set()));
  const fresh = all ? (marked.has(ALL) ? [] : [ALL]) : unique.filter((s) => !marked.has(s));
  for (const s of fresh) marked.add(s);
  if (fresh.length) pageCacheFor(tx.connection).changing(all ? ALL : fresh);
  if (all) {
    await tx.query('SELECT pg_notify($1, $2)', [ITEMS_CHANNEL, ALL]);
    return;
  }
  let batch: string[] = [];
  let size = 0;
  const payloads: string[] = [];
  for (const s of unique) {
    if (size + s.length + 1 > MAX_PAYLOAD && batch.length) {
      payloads.push(batch.join(' '));
      batch = [];
      size = 0;
    }
    batch.push(s);
    size += s.length + 1;
  }
  if (batch.length) payloads.push(batch.join(' '));
  for (const p of payloads) await tx.query('SELECT pg_notify($1, $2)', [ITEMS_CHANNEL, p]);
}

export interface CacheListener {
  /** Resolves once every notification committed before this call has been applied here. */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts this instance's LISTEN connection (a dedicated pg client, not one of the pool's) and keeps
 * it up: on a lost connection the cache is switched off and the client reconnects with back-off.
 * `server.ts` starts it; tests that exercise the cache start it themselves.
 */
export function startPageCacheListener(deps: { db: DataSource; logger: Logger }): CacheListener {
  const cache = pageCacheFor(deps.db);
  const url = (deps.db.options as { url?: string }).url;
  if (!url) throw new Error('the page cache listener needs the database URL');
  let client: Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | null = null;
  let delay = 250;
  const waiters = new Map<string, () => void>();
  let connected: Promise<void>;
  let markConnected: () => void = () => undefined;
  const resetConnected = () => {
    connected = new Promise((r) => (markConnected = r));
  };
  resetConnected();

  const connect = async () => {
    if (stopped || !deps.db.isInitialized) return;
    const c = new Client({ connectionString: url, application_name: 'takedown-desk-cache', keepAlive: true });
    client = c;
    c.on('notification', (msg) => {
      if (msg.channel !== ITEMS_CHANNEL || msg.payload === undefined) return;
      if (msg.payload.startsWith('sync:')) {
        waiters.get(msg.payload)?.();
        waiters.delete(msg.payload);
        return;
      }
      cache.invalidate(msg.payload === ALL ? ALL : msg.payload.split(' ').filter(Boolean));
    });
    const lost = (err?: Error) => {
      if (client !== c) return;
      client = null;
      cache.setLive(false);
      resetConnected();
      c.end().catch(() => undefined);
      if (stopped) return;
      deps.logger.warn({ err: err?.message }, 'page cache: LISTEN connection lost; serving from the database until it is back');
      retry = setTimeout(() => void connect(), delay);
      retry.unref();
      delay = Math.min(delay * 2, 10_000);
    };
    c.on('error', lost);
    c.on('end', () => lost());
    try {
      await c.connect();
      await c.query(`LISTEN ${ITEMS_CHANNEL}`);
      if (stopped || client !== c) {
        await c.end().catch(() => undefined);
        return;
      }
      delay = 250;
      cache.setLive(true);
      markConnected();
    } catch (e) {
      lost(e as Error);
    }
  };
  void connect();

  return {
    async sync() {
      if (stopped) return;
      await connected;
      const token = `sync:${process.pid}:${Math.random().toString(36).slice(2)}`;
      const done = new Promise<void>((r) => waiters.set(token, r));
      await deps.db.query('SELECT pg_notify($1, $2)', [ITEMS_CHANNEL, token]);
      await done;
    },
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      cache.setLive(false);
      const c = client;
      client = null;
      for (const w of waiters.values()) w();
      waiters.clear();
      if (c) await c.end().catch(() => undefined);
    },
  };
}
