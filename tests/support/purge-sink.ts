import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedPurge {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * A local stand-in for purge endpoints (a Varnish, Fastly's and Cloudflare's APIs): a real HTTP
 * server that records every request and answers 200 (Cloudflare-style JSON), or the status set in `failing` for a path prefix.
 * `next()` resolves with the next request received.
 */
export async function startPurgeSink() {
  const received: ReceivedPurge[] = [];
  const waiters: ((r: ReceivedPurge) => void)[] = [];
  const sockets = new Set<Socket>();
  /** Path prefix → status to answer instead of 200 (e.g. `/fastly` → 503). */
  const failing = new Map<string, number>();
  /** Surrogate keys whose requests get no answer until `release()`: an edge that has gone silent. */
  const holding = new Set<string>();
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: ReceivedPurge = {
        method: req.method ?? '',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      received.push(r);
      waiters.splice(0).forEach((w) => w(r));
      const keys = String(req.headers['surrogate-key'] ?? '').split(' ');
      if (keys.some((k) => holding.has(k))) {
        held.push(res);
        return;
      }
      const fail = [...failing].find(([prefix]) => r.path.startsWith(prefix));
      if (fail) {
        res.statusCode = fail[1];
        return res.end('unavailable');
      }
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ success: true, errors: [], messages: [], result: { id: 'purge-1' } }));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    failing,
    holding,
    /** Requests received and not answered yet (see `holding`). */
    held: () => held.length,
    /** Answers every held request (200) and stops holding. */
    release: () => {
      holding.clear();
      for (const res of held.splice(0)) res.end('{"success":true}');
    },
    next: () => new Promise<ReceivedPurge>((r) => waiters.push(r)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
