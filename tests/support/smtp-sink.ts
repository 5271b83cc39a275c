import type { Socket } from 'node:net';
import { simpleParser, ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../src/db/embedded';

/**
 * A real SMTP server in the test process (`smtp-server`), parsing what arrives (`mailparser`).
 * Plain SMTP on 127.0.0.1, no TLS or AUTH. A message counts as received only once it is parsed:
 * the server answers 250 after that, so when the worker's send resolves the message is in `messages`.
 *
 *   const sink = await startSmtpSink();            // SMTP_URL: sink.url
 *   await sink.stop(); await sink.start();         // an outage, then the same port again
 *   sink.rejectRecipients(['gone@example.org']);   // 550 at RCPT TO, permanently
 *   sink.setDelay(40_000);                         // a slow server: the 250 comes 40 s after the data
 *
 * With a delay, a message is in `messages` (with `receivedAt`) as soon as its data has arrived and
 * been parsed, and the 250 answer follows after the delay: a client cut off meanwhile (a killed
 * worker) left a message the server has, which the client cannot know it delivered.
 */
export interface ReceivedEmail {
  /** SMTP envelope, as the client gave it. */
  envelope: { from: string | false; to: string[] };
  parsed: ParsedMail;
  /** The raw message as it arrived. */
  raw: string;
  /** Date.now() when its data had arrived and was parsed (before any answer delay). */
  receivedAt: number;
}

export interface SmtpSink {
  readonly port: number;
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  readonly url: string;
  readonly messages: ReceivedEmail[];
  readonly running: boolean;
  /** Answers 550 5.1.1 at RCPT TO for these addresses (case-insensitive). */
  rejectRecipients(addresses: string[]): void;
  /** Waits this long after each message's data before answering 250 (0: at once). */
  setDelay(ms: number): void;
  /** Messages whose Message-ID is this one (a duplicate delivery shows up as more than one). */
  byMessageId(id: string): ReceivedEmail[];
  /** Messages for one recipient (envelope). */
  to(address: string): ReceivedEmail[];
  clear(): void;
  /** Listens again on the same port (after `stop()`). */
  start(): Promise<void>;
  /** Stops listening and cuts every open connection at once (as a crashed server would). */
  stop(): Promise<void>;
}

export async function startSmtpSink(opts: { port?: number; rejectRecipients?: string[]; delayMs?: number } = {}): Promise<SmtpSink> {
  let delayMs = opts.delayMs ?? 0;
  const port = opts.port ?? (await freePort());
  const messages: ReceivedEmail[] = [];
  let rejected = new Set((opts.rejectRecipients ?? []).map((a) => a.toLowerCase()));
  let server: SMTPServer | undefined;
  const sockets = new Set<Socket>();

  const create = () =>
    new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      closeTimeout: 50,
      size: 10 * 1024 * 1024,
      onRcptTo(address, _session, callback) {
        if (rejected.has(address.address.toLowerCase())) {
          const err = Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`), {
            responseCode: 550,
          });
          return callback(err);
        }
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', callback);
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw)
            .then((parsed) => {
              messages.push({
                envelope: {
                  from: session.envelope.mailFrom ? session.envelope.mailFrom.address : false,
                  to: session.envelope.rcptTo.map((r) => r.address),
                },
                parsed,
                raw: raw.toString('utf8'),
                receivedAt: Date.now(),
              });
              const answer = `Ok: queued as sink-${messages.length}`;
              if (delayMs > 0) setTimeout(() => callback(null, answer), delayMs);
              else callback(null, answer);
            })
            .catch(callback);
        });
      },
    });

  const sink: SmtpSink = {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    get running() {
      return server !== undefined;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    rejectRecipients(addresses) {
      rejected = new Set(addresses.map((a) => a.toLowerCase()));
    },
    byMessageId: (id) => messages.filter((m) => m.parsed.messageId === id),
    to: (address) => messages.filter((m) => m.envelope.to.some((a) => a.toLowerCase() === address.toLowerCase())),
    clear() {
      messages.length = 0;
    },
    async start() {
      if (server) return;
      const s = create();
      const net = (s as unknown as { server: import('node:net').Server }).server;
      net.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => {
          s.removeListener('error', reject);
          s.on('error', () => undefined); // client resets are routine (the worker's pool closes)
          resolve();
        });
      });
      server = s;
    },
    async stop() {
      const s = server;
      if (!s) return;
      server = undefined;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closed;
    },
  };
  await sink.start();
  return sink;
}
