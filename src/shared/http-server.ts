import { createServer, RequestListener, Server } from 'node:http';
import type { Socket } from 'node:net';

export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** 0: no cap. */
  maxConnectionsPerAddress: number;
}

/**
 * The HTTP server with explicit limits, so slow or idle clients cannot hold sockets (issue 22):
 *  - `headersTimeout`: all request headers within this time, or the socket is closed (a slowloris
 *    client sending a byte a second is dropped); `requestTimeout`: the whole request (headers and
 *    body). Node checks both every `connectionsCheckingInterval`, 30 s by default: far too coarse
 *    for a 10 s limit, so it is set to a second (a cheap walk over open connections).
 *  - `keepAliveTimeout`: an idle keep-alive connection is closed after it.
 *  - A cap on open connections per client address (Node only caps the total, `maxConnections`):
 *    a connection over the cap is destroyed at once, before any byte is read. The address is the
 *    socket's peer: behind a proxy that is the proxy (see HTTP_MAX_CONNECTIONS_PER_ADDRESS).
 */
export function createHttpServer(handler: RequestListener, limits: HttpLimits): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    handler,
  );
  if (limits.maxConnectionsPerAddress > 0) {
    const open = new Map<string, number>();
    server.on('connection', (socket: Socket) => {
      const addr = socket.remoteAddress ?? 'unknown';
      const n = (open.get(addr) ?? 0) + 1;
      if (n > limits.maxConnectionsPerAddress) {
        socket.destroy();
        return;
      }
      open.set(addr, n);
      socket.once('close', () => {
        const left = (open.get(addr) ?? 1) - 1;
        if (left <= 0) open.delete(addr);
        else open.set(addr, left);
      });
    });
  }
  return server;
}

/** Listens on `port` (and `host` when given); resolves once listening. */
export function listen(server: Server, port: number, host?: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.removeListener('error', reject);
      resolve(server);
    };
    if (host) server.listen(port, host, done);
    else server.listen(port, done);
  });
}
