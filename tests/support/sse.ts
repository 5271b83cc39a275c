import http, { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface SseEvent {
  event: string;
  data: any;
}

/** An app listening on 127.0.0.1 (a random port), for clients that need a real socket (event streams). */
export async function listenApp(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Signs in through the real login form over HTTP and returns the Cookie header. */
export async function signInOver(url: string, email: string, password: string): Promise<string> {
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
  };
  const header = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const page = await fetch(`${url}/login`);
  keep(page);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
  const res = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: header() },
    body: new URLSearchParams({ _csrf: csrf, email, password, next: '/staff' }).toString(),
  });
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
  keep(res);
  return header();
}

/**
 * A server-sent events client over a real socket: collects every event (and comment) it reads, and
 * waits for the next one that matches.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  response!: IncomingMessage;
  private buffer = '';
  private waiters: { test: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
  private req!: http.ClientRequest;

  static open(url: string, cookie?: string): Promise<SseClient> {
    const c = new SseClient();
    return new Promise((resolve, reject) => {
      c.req = http.get(url, { headers: { Accept: 'text/event-stream', ...(cookie ? { Cookie: cookie } : {}) } }, (res) => {
        c.response = res;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => c.feed(chunk));
        res.on('error', () => undefined);
        resolve(c);
      });
      c.req.on('error', reject);
    });
  }

  private feed(chunk: string) {
    this.buffer += chunk;
    let i;
    while ((i = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (!data.length) continue;
      const e = { event, data: JSON.parse(data.join('\n')) };
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(e)) return true;
        w.resolve(e);
        return false;
      });
    }
  }

  /** The first event (already received or still to come) that matches; fails after `ms`. */
  next(event: string, test: (data: any) => boolean = () => true, ms = 10_000, from = 0): Promise<SseEvent> {
    const match = (e: SseEvent) => e.event === event && test(e.data);
    const seen = this.events.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "${event}" event matching in ${ms} ms; got ${JSON.stringify(this.events.slice(-5))}`)),
        ms,
      );
      this.waiters.push({
        test: match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  /** Events received from now on only (for `next(…, from)`). */
  get mark(): number {
    return this.events.length;
  }

  close() {
    this.req.destroy();
  }
}
