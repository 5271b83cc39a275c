import addressparser from 'nodemailer/lib/addressparser';
import { decodeWords } from 'libmime';

/** The few headers stored with the raw message at once (before any parsing): cheap, never throws. */
export interface StoredHeaders {
  messageId: string | null;
  fromAddress: string | null;
  fromName: string | null;
  to: string[];
  subject: string | null;
}

/** The header block is read from this many first bytes at most. */
export const MAX_HEADER_BLOCK = 256 * 1024;
const oneLine = (s: string, max: number) =>
  s
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, max);

function safeDecode(s: string): string {
  try {
    return decodeWords(s);
  } catch {
    return s;
  }
}

/** Header name (lower-case) → first value, unfolded; from the header block only. */
export function headerBlock(raw: Buffer): Map<string, string> {
  const head = raw.subarray(0, MAX_HEADER_BLOCK).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const block = (end < 0 ? head : head.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const out = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const m = /^([!-9;-~]+):\s?(.*)$/.exec(line);
    if (m && !out.has(m[1].toLowerCase())) out.set(m[1].toLowerCase(), m[2]);
  }
  return out;
}

type Parsed = { address?: string; name?: string; group?: Parsed[] };

function addresses(value: string | undefined): { address: string; name: string }[] {
  if (!value) return [];
  let list: Parsed[];
  try {
    list = addressparser(value) as Parsed[];
  } catch {
    return [];
  }
  const flat = list.flatMap((a) => (a.group ? a.group : [a]));
  return flat
    .filter((a) => a.address && /^[^\s@]+@[^\s@]+$/.test(a.address))
    .map((a) => ({ address: oneLine(a.address!, 320).toLowerCase(), name: oneLine(safeDecode(a.name ?? ''), 200) }));
}

export function storedHeaders(raw: Buffer): StoredHeaders {
  const h = headerBlock(raw);
  // Header bytes may be 8-bit UTF-8 (RFC 6532): read as Latin-1 above, re-read as UTF-8 when valid.
  const utf8 = (s: string | undefined) => {
    if (s === undefined) return undefined;
    const b = Buffer.from(s, 'latin1');
    const u = b.toString('utf8');
    return u.includes('\uFFFD') ? s : u;
  };
  const mid = /<[^<>\s]{1,900}>/.exec(h.get('message-id') ?? '');
  const from = addresses(utf8(h.get('from')))[0];
  const subject = h.get('subject');
  return {
    messageId: mid ? mid[0] : null,
    fromAddress: from?.address ?? null,
    fromName: from?.name || null,
    to: [...addresses(utf8(h.get('to'))), ...addresses(utf8(h.get('cc')))].map((a) => a.address).slice(0, 100),
    subject: subject === undefined ? null : oneLine(safeDecode(utf8(subject)!), 998),
  };
}
