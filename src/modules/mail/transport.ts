import nodemailer from 'nodemailer';
import type { NodemailerError } from 'nodemailer';
import type { Config } from '../../config';

/**
 * Where the worker hands a rendered email. Two kinds:
 *  - `smtp`: nodemailer over a pooled SMTP connection set (SMTP_URL), From = MAIL_FROM;
 *  - `local-store`: no SMTP_URL (the embedded default). Nothing leaves the machine; the email is
 *    "delivered" to the outbox itself and shown at /outbox.
 */
export interface OutgoingEmail {
  to: string;
  replyTo?: string | null;
  subject: string;
  html: string;
  text: string;
  /** `<outbox-ROWID@host>`: the same for every attempt of one row. */
  messageId: string;
  /** An automatic reply to an inbound email: threads under it. */
  inReplyTo?: string | null;
  references?: string[] | null;
}

export interface DeliveryReceipt {
  /** The SMTP server's id for the message (its queue id), else our Message-ID; `local-store` locally. */
  providerMessageId: string;
}

export interface MailTransport {
  readonly kind: 'smtp' | 'local-store';
  /** For logs and the /outbox page: scheme, host and port, never the credentials. */
  readonly description: string;
  send(email: OutgoingEmail): Promise<DeliveryReceipt>;
  close(): Promise<void>;
}

export interface TransportOptions {
  /** Pooled SMTP connections (default 5). */
  maxConnections?: number;
  /** Give up on one send after this long (default 60 s); the worker's lease is longer. */
  sendTimeoutMs?: number;
}

export const LOCAL_STORE = 'local-store';

/** The bare address of MAIL_FROM ("Name <a@b>" → "a@b"). */
export function addressOf(mailFrom: string): string {
  const m = /<([^<>\s]+@[^<>\s]+)>\s*$/.exec(mailFrom);
  return (m ? m[1] : mailFrom).trim();
}

/** The Message-ID of an outbox row: a retry after an ambiguous failure is recognisably the same email. */
export function messageIdFor(rowId: string, mailFrom: string): string {
  const host =
    addressOf(mailFrom)
      .split('@')
      .pop()!
      .replace(/[^A-Za-z0-9.-]/g, '') || 'localhost';
  return `<outbox-${rowId}@${host}>`;
}

/** smtp(s)://host:port without user or password. */
export function describeSmtpUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}`;
  } catch {
    return 'smtp (unparseable URL)';
  }
}

export function createMailTransport(config: Pick<Config, 'smtpUrl' | 'mailFrom'>, opts: TransportOptions = {}): MailTransport {
  if (!config.smtpUrl) {
    return {
      kind: 'local-store',
      description: 'local store (no SMTP_URL): emails are kept in the outbox',
      async send() {
        return { providerMessageId: LOCAL_STORE };
      },
      async close() {},
    };
  }
  const sendTimeoutMs = opts.sendTimeoutMs ?? 60_000;
  const mailer = nodemailer.createTransport({
    url: config.smtpUrl,
    pool: true,
    maxConnections: opts.maxConnections ?? 5,
    maxMessages: 1_000,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
    // Message content is ours (rendered templates): never let it pull in files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  });
  const from = config.mailFrom;
  return {
    kind: 'smtp',
    description: describeSmtpUrl(config.smtpUrl),
    async send(email) {
      const info = await mailer.sendMail({
        from,
        to: email.to,
        replyTo: email.replyTo ?? undefined,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        ...(email.inReplyTo ? { inReplyTo: email.inReplyTo, references: email.references ?? [email.inReplyTo] } : {}),
        // RFC 3834: tells auto-responders (vacation replies) not to answer.
        headers: { 'Auto-Submitted': 'auto-generated' },
        envelope: { from: addressOf(from), to: [email.to] },
        signal: AbortSignal.timeout(sendTimeoutMs),
      });
      return { providerMessageId: providerIdOf(info) };
    },
    async close() {
      mailer.close();
    },
  };
}

function providerIdOf(info: { serverMessageId?: string; response?: string; messageId: string }): string {
  if (info.serverMessageId) return info.serverMessageId.slice(0, 500);
  // Postfix and most servers: "250 2.0.0 Ok: queued as 4BfXyz"; others: "250 OK id=1abc-2def".
  const m = /(?:queued as|id=)\s*<?([\w.@:+/=-]{3,200})>?/i.exec(info.response ?? '');
  return (m ? m[1] : info.messageId).slice(0, 500);
}

export type SendError = NodemailerError;

/**
 * A rejection that retrying the same email would get again: a 5xx (not 503) to RCPT TO or DATA
 * (the recipient or the message itself), or a message larger than the server takes. A 5xx to AUTH
 * or MAIL FROM is our configuration (credentials, sender), not this email: it is retried like an
 * outage, so fixing the settings lets every email through.
 */
export function isPermanentRejection(err: unknown): boolean {
  const e = err as SendError;
  if (!e || typeof e !== 'object') return false;
  if (e.code === 'EMESSAGE' && e.command === 'MAIL FROM') return true; // over the server's SIZE
  const permanent = e.permanent ?? (typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode !== 503);
  return permanent === true && (e.command === 'RCPT TO' || e.command === 'DATA');
}

/** What went wrong, for last_error: code, SMTP reply, message; bounded. Never contains credentials. */
export function describeSendError(err: unknown): string {
  const e = err as SendError;
  if (!e || typeof e !== 'object') return String(err).slice(0, 1000);
  const parts = [e.code, e.command ? `(${e.command})` : undefined, e.message].filter(Boolean);
  return parts.join(' ').replace(/\s+/g, ' ').slice(0, 1000);
}
