import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { AppDeps } from '../../deps';
import { withTransaction } from '../../db/transaction';
import { isReplyAddress } from '../../shared/reply-key';
import type { InboundWorker } from './inbound-worker';
import { MAX_HEADER_BLOCK } from './message-headers';
import { MessageSpool } from './message-spool';
import { PIECE, storeInboundEmail, type StoredEmail } from './store-inbound-email';

export interface SmtpReceiver {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

/**
 * The built-in SMTP receiver (SPEC §12), on INBOUND_SMTP_PORT. It accepts RCPT TO only for
 * INBOUND_ADDRESSES and reply addresses (`reply+…@INBOUND_REPLY_DOMAIN`; a forged key is found and
 * ignored later, not here), others get 550; a message over INBOUND_MAX_BYTES gets 552. It answers
 * 250 to DATA only once the raw message is committed: if we crash before, the sender still has it
 * and retries. A client IP may deliver INBOUND_SMTP_PER_MINUTE messages a minute (then 421, try
 * later). STARTTLS is offered when INBOUND_SMTP_TLS_CERT/KEY are set. After each commit the parse
 * job is kicked, so a notice is read within moments.
 */
/** Sending addresses whose per-minute count is kept (the rate limit's memory is bounded by this). */
const MAX_SENDERS_TRACKED = 10_000;

export async function startSmtpReceiver(
  deps: Pick<AppDeps, 'db' | 'clock' | 'config' | 'logger'>,
  worker: InboundWorker | null,
  opts: { port?: number } = {},
): Promise<SmtpReceiver> {
  const { config, logger } = deps;
  const inbound = config.inbound;
  const port = opts.port ?? inbound.smtpPort ?? 0;
  const host = inbound.smtpHost ?? '0.0.0.0';
  const accepted = new Set(inbound.addresses);
  const sent = new Map<string, { windowStart: number; n: number }>();
  const tls = inbound.smtpTls ? { key: readFileSync(inbound.smtpTls.keyFile), cert: readFileSync(inbound.smtpTls.certFile) } : null;

  const server = new SMTPServer({
    name: inbound.replyDomain,
    banner: 'Takedown Desk: send takedown notices here',
    secure: false,
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    authOptional: true,
    size: inbound.maxBytes,
    maxClients: 200,
    logger: false,
    closeTimeout: 5_000,
    socketTimeout: 60_000,
    onMailFrom(_address, session, callback) {
      const ip = session.remoteAddress ?? 'unknown';
      const now = Date.now();
      const w = sent.get(ip);
      if (!w || now - w.windowStart >= 60_000) sent.set(ip, { windowStart: now, n: 1 });
      else if (++w.n > inbound.smtpPerMinute)
        return callback(smtpError(421, '4.7.0 Too many messages from your address; try again in a minute'));
      if (sent.size > MAX_SENDERS_TRACKED) {
        for (const [k, v] of sent) if (now - v.windowStart >= 60_000) sent.delete(k);
        // Still full (that many addresses within a minute): the oldest go first, so the map stays
        // bounded (issue 18: ~100 bytes an entry, an address is at most 45 characters → ≤ ~1 MB).
        for (const k of sent.keys()) {
          if (sent.size <= MAX_SENDERS_TRACKED) break;
          sent.delete(k);
        }
      }
      callback();
    },
    onRcptTo(address, _session, callback) {
      const a = address.address.toLowerCase();
      if (accepted.has(a) || isReplyAddress(a, inbound.replyDomain)) return callback();
      callback(smtpError(550, `5.1.1 <${address.address.slice(0, 200)}>: no such mailbox here`));
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      // Past INBOUND_MAX_BYTES the rest is read and dropped (smtp-server only flags it): a message
      // refused for its size is not held first. A large one goes to a temporary file as it comes
      // (MessageSpool), then to PostgreSQL by binary COPY, never joined into one buffer (issue 18).
      const spool = new MessageSpool({ inMemory: PIECE, maxBytes: inbound.maxBytes, headBytes: MAX_HEADER_BLOCK });
      const receive = async (): Promise<string> => {
        try {
          await pipeline(stream, spool);
        } catch (err) {
          // The DATA stream broke (the client went away) or the spool file could not be written.
          logger.warn({ err: String((err as Error)?.message ?? err) }, 'inbound SMTP: receiving a message failed');
          throw smtpError(451, '4.3.0 Could not receive the message now; try again later');
        }
        if (stream.sizeExceeded || spool.exceeded) throw smtpError(552, `5.3.4 Message too large (at most ${inbound.maxBytes} bytes)`);
        const envelope = {
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          remoteIp: session.remoteAddress ?? null,
          helo: session.hostNameAppearsAs ?? null,
        };
        let stored: StoredEmail;
        try {
          stored = await withTransaction(deps.db, (tx) => storeInboundEmail(tx, spool, 'smtp', { envelope, at: deps.clock.now() }));
        } catch (err) {
          // Not stored: a temporary failure, so the sender keeps the message and retries.
          logger.error({ err: String((err as Error)?.message ?? err) }, 'inbound SMTP: storing a message failed');
          throw smtpError(451, '4.3.0 Could not store the message now; try again later');
        }
        if (!stored.duplicate) worker?.kick();
        return `2.0.0 Ok: ${stored.duplicate ? 'already have it as' : 'stored as'} ${stored.id}`;
      };
      // The spool is let go (its file closed) before the answer, whatever the outcome.
      const release = () => spool.close().catch(() => undefined);
      receive().then(
        (message) => release().then(() => callback(null, message)),
        (err: Error) => release().then(() => callback(err)),
      );
    },
  });
  const sockets = new Set<Socket>();
  const net = (server as unknown as { server: import('node:net').Server }).server;
  net.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('error', (err) => logger.warn({ err: String(err.message) }, 'inbound SMTP: connection error'));
  await new Promise<void>((resolve, reject) => {
    net.once('error', reject);
    server.listen(port, host, () => {
      net.removeListener('error', reject);
      resolve();
    });
  });
  const address = net.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  return {
    port: boundPort,
    host,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 5_000).unref();
      });
    },
  };
}
