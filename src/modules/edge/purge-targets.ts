import type { Config } from '../../config';

/**
 * The edges a purge goes to, each with its documented request shape:
 *  - Varnish-style (`PURGE_URLS`): `PURGE` (or `BAN`, `PURGE_METHOD`) to the endpoint, the keys
 *    space-separated in `Surrogate-Key` and `xkey` (our VCL reads either; `xkey`-vmod setups read
 *    `xkey`);
 *  - Fastly: `POST {api}/service/{id}/purge` with `Fastly-Key` and the keys in `Surrogate-Key`
 *    (batch purge, at most 256 keys a request);
 *  - Cloudflare: `POST {api}/zones/{id}/purge_cache` with a bearer token and `{"tags":[…]}`
 *    (purge by Cache-Tag; at most 30 tags a request is the lowest documented limit).
 * The API base URLs can be overridden (FASTLY_API_URL, CLOUDFLARE_API_URL) for local stand-ins.
 */

export interface PurgeRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export interface PurgeTarget {
  /** Stable name kept in `done_targets` (never a secret). */
  name: string;
  /** Keys per request. */
  maxKeys: number;
  request(keys: string[]): PurgeRequest;
}

const withoutUserinfo = (url: string) => url.replace(/^(https?:\/\/)[^@/]*@/i, '$1');

export function purgeTargets(config: Config): PurgeTarget[] {
  const e = config.edge;
  const targets: PurgeTarget[] = e.purgeUrls.map((url) => ({
    name: `varnish:${withoutUserinfo(url)}`,
    maxKeys: 100,
    request: (keys) => ({ url, method: e.purgeMethod, headers: { 'Surrogate-Key': keys.join(' '), xkey: keys.join(' ') } }),
  }));
  if (e.fastly) {
    const f = e.fastly;
    targets.push({
      name: 'fastly',
      maxKeys: 256,
      request: (keys) => ({
        url: `${f.apiUrl}/service/${encodeURIComponent(f.serviceId)}/purge`,
        method: 'POST',
        headers: { 'Fastly-Key': f.apiToken, 'Surrogate-Key': keys.join(' '), Accept: 'application/json' },
      }),
    });
  }
  if (e.cloudflare) {
    const c = e.cloudflare;
    targets.push({
      name: 'cloudflare',
      maxKeys: 30,
      request: (keys) => ({
        url: `${c.apiUrl}/zones/${encodeURIComponent(c.zoneId)}/purge_cache`,
        method: 'POST',
        headers: { Authorization: `Bearer ${c.apiToken}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ tags: keys }),
      }),
    });
  }
  return targets;
}

/** Sends one purge request; resolves on 2xx (Cloudflare: and `"success": true`), throws otherwise. */
export async function sendPurge(req: PurgeRequest, timeoutMs: number): Promise<void> {
  const res = await fetch(req.url, {
    method: req.method,
    headers: req.headers,
    body: req.body,
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'manual',
  });
  const text = await res.text().catch(() => '');
  if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status} ${text.slice(0, 200).replace(/\s+/g, ' ')}`.trim());
  if (/^application\/json/i.test(res.headers.get('content-type') ?? '')) {
    const parsed = (() => {
      try {
        return JSON.parse(text) as { success?: unknown };
      } catch {
        return null;
      }
    })();
    if (parsed && parsed.success === false) throw new Error(`refused: ${text.slice(0, 200)}`);
  }
}
