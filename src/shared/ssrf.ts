import dns, { LookupAddress } from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The SSRF guard shared by every outgoing request to an address someone else chose (feeds,
 * webhooks): only ordinary public unicast addresses, checked on the address each connection really
 * uses (a custom DNS lookup passed to `http.request`), so neither a DNS answer nor a redirect can
 * lead inside. An IP literal is connected to without a lookup, so callers check it with
 * `refusedLiteral` too.
 */

/** Only ordinary public unicast addresses; IPv4-mapped IPv6 is judged as the IPv4 it carries. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.range() === 'unicast';
}

export class PrivateAddressError extends Error {
  readonly code = 'EPRIVATEADDRESS';
  constructor(message: string) {
    super(message);
    this.name = 'PrivateAddressError';
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for `http.request` that refuses a name resolving to any non-public address. */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const list = addresses as LookupAddress[];
      const bad = allowPrivate ? undefined : list.find((a) => !isPublicAddress(a.address));
      if (bad || !list.length) {
        return callback(
          new PrivateAddressError(`refused: ${hostname} resolves to a private, loopback or link-local address (${bad?.address ?? 'none'})`),
          '',
        );
      }
      if (options.all) callback(null, list);
      else callback(null, list[0].address, list[0].family);
    });
  };
}

/** The reason an IP-literal host is refused, or null (a name, or a public literal, or private allowed). */
export function refusedLiteral(u: URL, allowPrivate: boolean): string | null {
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host) && !allowPrivate && !isPublicAddress(host)) return `refused: ${host} is a private, loopback or link-local address`;
  return null;
}

/**
 * Checks a URL's host now (at registration): the literal, or every address its name resolves to.
 * Resolves to null when it may be used, or the reason it may not. The check is repeated on every
 * connection (`guardedLookup`), since a name may point elsewhere later.
 */
export async function checkPublicHost(u: URL, allowPrivate: boolean): Promise<string | null> {
  const literal = refusedLiteral(u, allowPrivate);
  if (literal) return literal;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host) || allowPrivate) return null;
  try {
    const list = await dns.promises.lookup(host, { all: true });
    const bad = list.find((a) => !isPublicAddress(a.address));
    if (bad || !list.length) return `refused: ${host} resolves to a private, loopback or link-local address (${bad?.address ?? 'none'})`;
    return null;
  } catch {
    return `${host} does not resolve`;
  }
}
