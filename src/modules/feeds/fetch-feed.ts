import http, { IncomingMessage } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import zlib from 'node:zlib';
import { guardedLookup, isPublicAddress } from '../../shared/ssrf';

/**
 * Downloads a feed, defensively: http(s) only, a conditional GET (ETag / Last-Modified → 304), an
 * overall deadline, a size cap on the (decompressed) body, a few redirects at most, and no private,
 * loopback or link-local address unless allowed — checked on the address each connection really
 * uses (a custom DNS lookup), so neither a DNS answer nor a redirect can lead it inside.
 */

export class FeedFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedFetchError';
  }
}

export interface FetchFeedOptions {
  etag?: string | null;
  lastModified?: string | null;
  allowPrivate: boolean;
  /**
   * Host names (exactly as in the URL) that may be private although `allowPrivate` is off, e.g. an
   * internal image host; a redirect to any other private address is still refused.
   */
  privateHosts?: readonly string[];
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  userAgent?: string;
}

export type FetchFeedResult<Body = Buffer> =
  | { notModified: true; httpStatus: 304; finalUrl: string }
  | {
      notModified: false;
      httpStatus: number;
      body: Body;
      contentType: string | null;
      etag: string | null;
      lastModified: string | null;
      finalUrl: string;
    };

/** Where a response body goes as it arrives (its decompressed bytes, within the size cap). */
export interface BodySink<Body> {
  write(chunk: Buffer): void;
  end(): Body;
}

/** Makes the sink of a response, told its content type and (uncompressed bodies only) its declared length. */
type SinkFor<Body> = (body: { contentType: string | null; length: number | null }) => BodySink<Body>;

export const FEED_LIMITS = { timeoutMs: 20_000, maxBytes: 20 * 1024 * 1024, maxRedirects: 5 };

/** The body as one buffer. */
export function fetchFeed(url: string, opts: FetchFeedOptions): Promise<FetchFeedResult> {
  return fetchInto(url, opts, (body) => bytesSink(body.length));
}

/**
 * The body handed to `sink` chunk by chunk (the feed import decodes it to text as it arrives, so
 * the document is never also held as one large buffer: issue 18, memory).
 */
export function fetchFeedInto<Body>(
  url: string,
  opts: FetchFeedOptions,
  sink: (contentType: string | null) => BodySink<Body>,
): Promise<FetchFeedResult<Body>> {
  return fetchInto(url, opts, (body) => sink(body.contentType));
}

const headerOf = (res: IncomingMessage, name: string) => {
  const v = res.headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? null;
};

/**
 * Bytes of a known length go straight into one buffer of that length as they arrive, so each
 * socket chunk is let go at once (keeping every chunk to concatenate them at the end held the body
 * twice). A body of unknown length (chunked) is gathered and concatenated.
 */
function bytesSink(length: number | null): BodySink<Buffer> {
  const known = length ? Buffer.allocUnsafeSlow(length) : null;
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    write(chunk) {
      if (known && size + chunk.length <= known.length) chunk.copy(known, size);
      else chunks.push(chunk);
      size += chunk.length;
    },
    end() {
      if (!known) return Buffer.concat(chunks);
      if (!chunks.length) return size === known.length ? known : known.subarray(0, size);
      return Buffer.concat([known.subarray(0, size - chunks.reduce((n, c) => n + c.length, 0)), ...chunks]);
    },
  };
}

async function fetchInto<Body>(url: string, opts: FetchFeedOptions, sinkFor: SinkFor<Body>): Promise<FetchFeedResult<Body>> {
  const timeoutMs = opts.timeoutMs ?? FEED_LIMITS.timeoutMs;
  const maxBytes = opts.maxBytes ?? FEED_LIMITS.maxBytes;
  const maxRedirects = opts.maxRedirects ?? FEED_LIMITS.maxRedirects;
  const deadline = Date.now() + timeoutMs;
  const seen = new Set<string>();
  let current = url;
  for (let hop = 0; ; hop++) {
    const target = parseTarget(current, opts.allowPrivate || !!opts.privateHosts?.includes(URL.parse(current)?.hostname ?? ''));
    if (seen.has(target.href)) throw new FeedFetchError(`redirect loop at ${target.href}`);
    seen.add(target.href);
    const res = await request(target, opts, deadline, timeoutMs);
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status)) {
      res.resume();
      const location = res.headers.location;
      if (!location) throw new FeedFetchError(`HTTP ${status} without a Location header`);
      if (hop >= maxRedirects) throw new FeedFetchError(`too many redirects (more than ${maxRedirects})`);
      current = new URL(location, target).toString();
      continue;
    }
    if (status === 304) {
      res.resume();
      return { notModified: true, httpStatus: 304, finalUrl: target.href };
    }
    if (status < 200 || status >= 300) {
      res.resume();
      throw new FeedFetchError(`the feed answered HTTP ${status}`);
    }
    const body = await readBody(res, maxBytes, deadline, timeoutMs, sinkFor);
    const header = (name: string) => headerOf(res, name);
    return {
      notModified: false,
      httpStatus: status,
      body,
      contentType: header('content-type'),
      etag: header('etag')?.slice(0, 500) ?? null,
      lastModified: header('last-modified')?.slice(0, 100) ?? null,
      finalUrl: target.href,
    };
  }
}

function parseTarget(raw: string, allowPrivate: boolean): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new FeedFetchError(`not a valid URL: ${raw.slice(0, 200)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new FeedFetchError(`only http and https feeds are fetched (not ${u.protocol})`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  // An IP literal is connected to without a DNS lookup, so it is checked here.
  if (net.isIP(host) && !allowPrivate && !isPublicAddress(host)) {
    throw new FeedFetchError(`refused: ${host} is a private, loopback or link-local address`);
  }
  return u;
}

function request(target: URL, opts: FetchFeedOptions, deadline: number, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      'User-Agent': opts.userAgent ?? 'TakedownDesk feed importer',
      Accept: 'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5',
      'Accept-Encoding': 'gzip, deflate, br',
    };
    if (opts.etag) headers['If-None-Match'] = opts.etag;
    if (opts.lastModified) headers['If-Modified-Since'] = opts.lastModified;
    const lib = target.protocol === 'https:' ? https : http;
    const allowPrivate = opts.allowPrivate || !!opts.privateHosts?.includes(target.hostname);
    const req = lib.request(target, { method: 'GET', headers, lookup: guardedLookup(allowPrivate) as never, agent: false });
    const timer = setTimeout(
      () => req.destroy(new FeedFetchError(`timed out after ${Math.round(timeoutMs / 1000)} s`)),
      Math.max(1, deadline - Date.now()),
    );
    req.on('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err instanceof FeedFetchError ? err : new FeedFetchError(describe(err)));
    });
    req.end();
  });
}

function readBody<Body>(
  res: IncomingMessage,
  maxBytes: number,
  deadline: number,
  timeoutMs: number,
  sinkFor: SinkFor<Body>,
): Promise<Body> {
  return new Promise((resolve, reject) => {
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.destroy();
      return reject(new FeedFetchError(`the feed is too large (${declared} bytes; at most ${maxBytes})`));
    }
    const encoding = String(res.headers['content-encoding'] ?? '')
      .toLowerCase()
      .trim();
    let stream: NodeJS.ReadableStream = res;
    if (encoding === 'gzip' || encoding === 'x-gzip') stream = res.pipe(zlib.createGunzip());
    else if (encoding === 'deflate') stream = res.pipe(zlib.createInflate());
    else if (encoding === 'br') stream = res.pipe(zlib.createBrotliDecompress());
    // A compressed body's declared length is not its size: the sink is told only a plain body's length.
    const sink = sinkFor({
      contentType: headerOf(res, 'content-type'),
      length: stream === res && Number.isFinite(declared) && declared > 0 ? declared : null,
    });
    let size = 0;
    let done = false;
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      res.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new FeedFetchError(`timed out after ${Math.round(timeoutMs / 1000)} s`)),
      Math.max(1, deadline - Date.now()),
    );
    stream.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) return fail(new FeedFetchError(`the feed is too large (more than ${maxBytes} bytes)`));
      try {
        sink.write(chunk);
      } catch (e) {
        fail(new FeedFetchError(`the download could not be read: ${describe(e)}`));
      }
    });
    stream.on('error', (err: Error) => fail(new FeedFetchError(`the download failed: ${describe(err)}`)));
    res.on('aborted', () => fail(new FeedFetchError('the connection closed before the feed was complete')));
    stream.on('end', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!res.complete) return reject(new FeedFetchError('the connection closed before the feed was complete'));
      try {
        resolve(sink.end());
      } catch (e) {
        reject(new FeedFetchError(`the download could not be read: ${describe(e)}`));
      }
    });
  });
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOTFOUND':
      return 'the host name does not resolve';
    case 'ECONNREFUSED':
      return 'the connection was refused';
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'ETIMEDOUT':
      return 'the connection timed out';
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the TLS certificate is not valid (${e.code})`;
    default:
      return e?.message ? e.message.slice(0, 300) : String(err);
  }
}
