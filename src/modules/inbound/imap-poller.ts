import type { ImapFlow } from 'imapflow';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import type { InboundWorker } from './inbound-worker';
import { storeInboundEmail } from './store-inbound-email';

export interface ImapPoller {
  /** Reads the mailbox now (tests; IDLE and the timer do it otherwise). Resolves with the messages taken. */
  pollNow(): Promise<number>;
  close(): Promise<void>;
}

const BATCH = 50;

/** `imaps://user:pass@host:993/INBOX` → connection options and the mailbox to read. */
export function parseImapUrl(url: string) {
  const u = new URL(url);
  const secure = u.protocol === 'imaps:';
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : secure ? 993 : 143,
    secure,
    auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) },
    mailbox: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'INBOX',
  };
}

/**
 * IMAP polling (SPEC §12): INBOUND_IMAP_URL is read on IDLE notifications and every `pollMs`; each
 * message is stored (the same `storeInboundEmail` as SMTP and the API) and moved to
 * INBOUND_IMAP_DONE_FOLDER only after that commit, so a crash in between leaves it in the mailbox to
 * be taken again (the same Message-ID is then recognised as a duplicate and just moved). Reconnects
 * after a lost connection.
 */
export function startImapPoller(
  deps: Pick<AppDeps, 'db' | 'clock' | 'config' | 'logger'>,
  worker: InboundWorker | null,
  opts: { url?: string; pollMs?: number } = {},
): ImapPoller {
  const { logger } = deps;
  const target = parseImapUrl(opts.url ?? deps.config.inbound.imapUrl!);
  const done = deps.config.inbound.imapDoneFolder;
  const pollMs = opts.pollMs ?? 60_000;
  let client: ImapFlow | null = null;
  let closed = false;
  let running: Promise<number> | null = null;

  async function connect(): Promise<ImapFlow> {
    if (client?.usable) return client;
    const { ImapFlow } = await import('imapflow'); // loaded only when IMAP polling is configured
    const c = new ImapFlow({
      host: target.host,
      port: target.port,
      secure: target.secure,
      auth: target.auth,
      logger: false,
      emitLogs: false,
    });
    c.on('error', (err: Error) => logger.warn({ err: err.message }, 'IMAP connection error'));
    c.on('exists', () => void poll().catch(() => undefined));
    await c.connect();
    await c.mailboxCreate(done).catch(() => undefined); // exists already: fine
    await c.mailboxOpen(target.mailbox);
    client = c;
    return c;
  }

  async function takeBatch(c: ImapFlow): Promise<number> {
    const found: { uid: number; source: Buffer }[] = [];
    await c.noop(); // the server's news (EXISTS) since the last command: another client's APPEND
    const box = c.mailbox;
    if (!box || !box.exists) return 0;
    for await (const m of c.fetch('1:*', { uid: true, source: true })) {
      if (m.source) found.push({ uid: m.uid, source: m.source });
      if (found.length >= BATCH) break;
    }
    for (const m of found) {
      const stored = await withTransaction(deps.db, (tx) =>
        storeInboundEmail(tx, m.source, 'imap', { at: deps.clock.now(), envelope: {} }),
      );
      // Only after the commit: the message leaves the mailbox.
      await c.messageMove(String(m.uid), done, { uid: true });
      if (!stored.duplicate) worker?.kick();
    }
    return found.length;
  }

  async function poll(): Promise<number> {
    if (closed) return 0;
    if (running) return running;
    running = (async () => {
      let total = 0;
      try {
        const c = await connect();
        const lock = await c.getMailboxLock(target.mailbox);
        try {
          for (let n = await takeBatch(c); n > 0; n = await takeBatch(c)) total += n;
        } finally {
          lock.release();
        }
      } catch (err) {
        logger.warn({ err: String((err as Error)?.message ?? err) }, 'IMAP poll failed; trying again later');
        await client?.logout().catch(() => undefined);
        client = null;
      }
      return total;
    })().finally(() => {
      running = null;
    });
    return running;
  }

  const timer = setInterval(() => void poll(), pollMs);
  void poll();
  return {
    pollNow: () => (running ? running.then(() => poll()) : poll()),
    async close() {
      closed = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
      await client?.logout().catch(() => undefined);
    },
  };
}
