import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { guardedLookup, refusedLiteral } from '../../shared/ssrf';

/** The signature header (SPEC §14): `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export const SIGNATURE_HEADER = 'Takedown-Signature';

export function signatureHeader(secret: string, unixSeconds: number, body: string): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

export interface SendResult {
  /** A 2xx answer. */
  ok: boolean;
  /** The receiver's HTTP status, or null when there was none (refused address, timeout, connection error). */
  statusCode: number | null;
  error: string | null;
}

/**
 * POSTs one signed delivery. Never throws: every way it can go wrong is a result. http(s) only;
 * the address is checked on the connection itself (`shared/ssrf.ts`), so a DNS answer that changed
 * since registration cannot lead inside; redirects are not followed (a 3xx is a failure); one
 * deadline covers connecting, the answer and reading (and discarding, at most 64 KB of) its body.
 */
export function sendWebhook(
  url: string,
  body: string,
  h: { secret: string; eventId: string; eventType: string; deliveryId: string; now: Date },
  opts: { allowPrivate: boolean; timeoutMs: number },
): Promise<SendResult> {
  return new Promise((resolve) => {
    let done = false;
    const sent: { req?: http.ClientRequest } = {};
    const finish = (r: SendResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      sent.req?.destroy();
      finish({ ok: false, statusCode: null, error: `no answer within ${Math.round(opts.timeoutMs / 100) / 10} s` });
    }, opts.timeoutMs);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return finish({ ok: false, statusCode: null, error: 'not a valid URL' });
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      return finish({ ok: false, statusCode: null, error: 'only http and https receivers are called' });
    const literal = refusedLiteral(target, opts.allowPrivate);
    if (literal) return finish({ ok: false, statusCode: null, error: literal });
    const t = Math.floor(h.now.getTime() / 1000);
    const lib = target.protocol === 'https:' ? https : http;
    const req = lib.request(target, {
      method: 'POST',
      agent: false,
      lookup: guardedLookup(opts.allowPrivate) as never,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        'User-Agent': 'TakedownDesk-Webhooks/1',
        [SIGNATURE_HEADER]: signatureHeader(h.secret, t, body),
        'Takedown-Event': h.eventType,
        'Takedown-Event-Id': h.eventId,
        'Takedown-Delivery': h.deliveryId,
      },
    });
    sent.req = req;
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > 64 * 1024) res.destroy();
      });
      const settle = () => {
        const ok = status >= 200 && status < 300;
        const error = ok
          ? null
          : status >= 300 && status < 400
            ? `HTTP ${status}: redirects are not followed; register the final URL`
            : `HTTP ${status}`;
        finish({ ok, statusCode: status, error });
      };
      res.on('end', settle);
      res.on('close', settle);
      res.on('error', settle);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const msg =
        err.code === 'ECONNREFUSED'
          ? 'the connection was refused'
          : err.code === 'ENOTFOUND'
            ? 'the host name does not resolve'
            : err.message.slice(0, 300);
      finish({ ok: false, statusCode: null, error: msg });
    });
    req.end(body);
  });
}
