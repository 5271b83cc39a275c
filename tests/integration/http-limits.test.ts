import { connect, Socket } from 'node:net';
import type { Server } from 'node:http';
import { createHttpServer, listen } from '../../src/shared/http-server';

/**
 * The HTTP server's limits (src/shared/http-server.ts, used by server.ts) on real sockets: the
 * per-address connection cap, and idle keep-alive connections closed after keepAliveTimeout.
 * (The header timeout against the real app process is in tests/faults/slow-clients.test.ts.)
 */
describe('HTTP server limits', () => {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = createHttpServer((_req, res) => res.end('ok'), {
      headersTimeoutMs: 2_000,
      requestTimeoutMs: 5_000,
      keepAliveTimeoutMs: 1_000,
      maxConnectionsPerAddress: 5,
    });
    await listen(server, 0, '127.0.0.1');
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => server.close(r));
  });

  /** Opens a socket; resolves with when (ms after opening) it was closed, or undefined if still open after `waitMs`. */
  const open = (waitMs: number, send?: string) =>
    new Promise<number | undefined>((resolve) => {
      const s = connect(port, '127.0.0.1');
      sockets.push(s);
      const t0 = Date.now();
      s.on('error', () => undefined);
      s.on('data', () => undefined);
      s.on('connect', () => send && s.write(send));
      const timer = setTimeout(() => resolve(undefined), waitMs);
      s.on('close', () => {
        clearTimeout(timer);
        resolve(Date.now() - t0);
      });
    });

  it('when one address opens more connections than the cap, then the extra ones are closed at once and the first ones stay open', async () => {
    const first = Array.from({ length: 5 }, () => open(600));
    await new Promise((r) => setTimeout(r, 200));
    const extra = await Promise.all(Array.from({ length: 3 }, () => open(600)));
    expect(extra.every((ms) => ms !== undefined && ms < 500)).toBe(true);
    expect(await Promise.all(first)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    sockets.splice(0).forEach((s) => s.destroy());
    await new Promise((r) => setTimeout(r, 100));
    // Slots are given back when sockets close: a new connection is served.
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toBe('ok');
  });

  it('when a keep-alive connection stays idle, then the server closes it after keepAliveTimeout', async () => {
    const closedAfter = await open(5_000, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(2_500);
  });
});
