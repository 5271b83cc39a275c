import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** A local HTTP server that serves feeds by path; routes can be changed between requests. */
export async function startFeedServer(): Promise<{
  url: string;
  routes: Map<string, Route>;
  hits: Map<string, number>;
  close(): Promise<void>;
}> {
  const routes = new Map<string, Route>();
  const hits = new Map<string, number>();
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes.get(path);
    if (!route) {
      res.statusCode = 404;
      return res.end('not found');
    }
    route(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routes,
    hits,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Serves a body with an ETag and answers 304 when the client sends it back. */
export function xmlWithEtag(body: () => string, etag: () => string): Route {
  return (req, res) => {
    if (req.headers['if-none-match'] === etag()) {
      res.statusCode = 304;
      return res.end();
    }
    res.setHeader('Content-Type', 'application/rss+xml; charset=utf-8');
    res.setHeader('ETag', etag());
    res.end(body());
  };
}

export const xmlRoute =
  (body: string, type = 'application/rss+xml; charset=utf-8'): Route =>
  (_req, res) => {
    res.setHeader('Content-Type', type);
    res.end(body);
  };

export function rss(items: string[], channelExtra = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:creativeCommons="http://backend.userland.com/creativeCommonsRssModule">
<channel>
<title>Test Publisher</title>
<link>https://publisher.example/</link>
<description>A test feed</description>
${channelExtra}
${items.join('\n')}
</channel>
</rss>`;
}

export function rssItem(o: {
  guid?: string;
  link?: string;
  title?: string;
  description?: string;
  encoded?: string;
  pubDate?: string;
  extra?: string;
}): string {
  return `<item>
${o.title !== undefined ? `<title>${o.title}</title>` : ''}
${o.link !== undefined ? `<link>${o.link}</link>` : ''}
${o.guid !== undefined ? `<guid isPermaLink="false">${o.guid}</guid>` : ''}
${o.pubDate ? `<pubDate>${o.pubDate}</pubDate>` : ''}
${o.description !== undefined ? `<description>${o.description}</description>` : ''}
${o.encoded !== undefined ? `<content:encoded><![CDATA[${o.encoded}]]></content:encoded>` : ''}
${o.extra ?? ''}
</item>`;
}
