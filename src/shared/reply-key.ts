import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The reply address of a notice (SPEC §12): `reply+<id>.<mac>@<INBOUND_REPLY_DOMAIN>`, where <id>
 * is the notice's uuid (hex, no dashes) and <mac> an HMAC of it under the session secret, so a key
 * cannot be guessed or moved to another notice. Every email about a notice carries it as Reply-To.
 */
const MAC_CHARS = 20;

function mac(secret: string, noticeId: string): string {
  return createHmac('sha256', secret).update(`reply-to:${noticeId.toLowerCase()}`).digest('hex').slice(0, MAC_CHARS);
}

export function replyAddress(secret: string, noticeId: string, domain: string): string {
  return `reply+${noticeId.replace(/-/g, '').toLowerCase()}.${mac(secret, noticeId)}@${domain}`;
}

/** Is this a `reply+…@domain` address at all (whatever its key)? */
export function isReplyAddress(address: string, domain: string): boolean {
  const [local, host] = splitAddress(address);
  return host === domain.toLowerCase() && local.startsWith('reply+');
}

/**
 * The notice id a reply address stands for, or `null` when the key is unknown or forged (a reply
 * address with a bad MAC is refused exactly like a malformed one).
 */
export function noticeIdOfReplyAddress(secret: string, address: string, domain: string): string | null {
  if (!isReplyAddress(address, domain)) return null;
  const m = /^reply\+([0-9a-f]{32})\.([0-9a-f]{20})$/.exec(splitAddress(address)[0]);
  if (!m) return null;
  const h = m[1];
  const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  const expected = Buffer.from(mac(secret, id));
  const given = Buffer.from(m[2]);
  return expected.length === given.length && timingSafeEqual(expected, given) ? id : null;
}

function splitAddress(address: string): [string, string] {
  const a = address.trim().toLowerCase();
  const at = a.lastIndexOf('@');
  return at < 0 ? [a, ''] : [a.slice(0, at), a.slice(at + 1)];
}
