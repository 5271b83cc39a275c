import { createHmac, timingSafeEqual } from 'node:crypto';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real webhook receiver on 127.0.0.1 for the tests: it records every request (path, headers, raw
 * body) and answers per path as told: a status, a redirect, or never (`hang`: the request is held
 * until `releaseHung()` or `close()`). Signatures are checked here with node:crypto alone, the way
 * docs/webhooks.md tells a receiver to, not with the product's own signing code.
 */
export interface ReceivedHook {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Answer = number | 'hang' | { redirect: string };

export interface WebhookReceiver {
  readonly base: string;
  readonly port: number;
  readonly received: ReceivedHook[];
  /** What `path` answers from now on; a list is used up one answer per request, its last answer then repeats. */
  answer(path: string, ...answers: Answer[]): void;
  /** Answers every held request with 200 (or cuts them with `destroy`). */
  releaseHung(how?: 'ok' | 'destroy'): void;
  at(path: string): ReceivedHook[];
  waitFor(pred: () => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Checks `Takedown-Signature: t=…,v1=…` against the secret: HMAC-SHA256(secret, "<t>.<body>"), hex. */
export function verifySignature(header: string | undefined, body: string, secret: string): { ok: boolean; t: number } {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1) return { ok: false, t };
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return { ok: given.length === expected.length && timingSafeEqual(given, expected), t };
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const answers = new Map<string, Answer[]>();
  const held = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const list = answers.get(path) ?? [200];
      const a = list.length > 1 ? list.shift()! : list[0];
      if (a === 'hang') {
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      }
      if (typeof a === 'object') {
        res.writeHead(302, { Location: a.redirect }).end();
        return;
      }
      res.writeHead(a, { 'Content-Type': 'text/plain' }).end(a < 300 ? 'thanks' : 'no');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    received,
    answer(path, ...list) {
      answers.set(path, list);
    },
    releaseHung(how = 'ok') {
      for (const res of [...held]) {
        if (how === 'ok') res.writeHead(200).end('late');
        else res.destroy();
        held.delete(res);
      }
    },
    at: (path) => received.filter((r) => r.path === path),
    async waitFor(pred, ms = 10_000) {
      const until = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > until) throw new Error('webhook receiver: timed out waiting');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const res of held) res.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
