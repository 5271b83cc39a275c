import { isUtf8 } from 'node:buffer';
import type { AddressObject, ParsedMail } from 'mailparser';
import type { InboundMessage } from './types';

/** Attachments above this keep their size and type but not their bytes (SPEC §12: INBOUND_MAX_BYTES default). */
const DEFAULT_MAX_ATTACHMENT = 25 * 1024 * 1024;
/** A forwarded `.eml` inside a forwarded `.eml`… is read this deep and no deeper. */
const MAX_DEPTH = 3;
/** Header values longer than this are cut (a hostile 1 MB subject is not a subject). */
const MAX_HEADER = 4000;

/**
 * Raw RFC 822 bytes → InboundMessage, with mailparser (charsets through iconv-lite, Japanese through
 * encoding-japanese). Never throws on malformed input: what mailparser cannot read becomes an empty
 * message with the raw bytes as the text. Attachments are kept as bytes and never opened (a zip bomb
 * stays a zip file).
 */
export async function readMessage(raw: Buffer, opts: { maxAttachmentBytes?: number } = {}): Promise<InboundMessage> {
  return read(raw, opts.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT, 0);
}

async function read(raw: Buffer, maxAttachment: number, depth: number): Promise<InboundMessage> {
  let parsed: ParsedMail;
  try {
    // Loaded on first use (issue 18: a server that reads no mail does not hold it in memory).
    const { simpleParser } = await import('mailparser');
    parsed = await simpleParser(repairUndeclaredCharsets(raw), {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
      keepCidLinks: true,
      keepDeliveryStatus: true,
      maxHtmlLengthToParse: 5 * 1024 * 1024,
    });
  } catch {
    return fallback(raw);
  }
  const headers = headerRecord(parsed);
  const attachments: InboundMessage['attachments'] = [];
  const embedded: InboundMessage[] = [];
  for (const a of parsed.attachments ?? []) {
    const content = Buffer.isBuffer(a.content) ? a.content : Buffer.alloc(0);
    const size = typeof a.size === 'number' ? a.size : content.length;
    const contentType = clean(a.contentType || 'application/octet-stream').toLowerCase();
    attachments.push({
      filename: a.filename ? clean(a.filename) : null,
      contentType,
      size,
      content: size > maxAttachment ? Buffer.alloc(0) : content,
    });
    if (
      depth < MAX_DEPTH &&
      (contentType === 'message/rfc822' || /\.eml$/i.test(a.filename ?? '')) &&
      content.length &&
      content.length <= maxAttachment
    ) {
      embedded.push(await read(content, maxAttachment, depth + 1));
    }
  }
  const from = firstAddress(parsed.from);
  return {
    messageId: parsed.messageId ? clean(parsed.messageId) : null,
    from,
    to: addresses(parsed.to),
    subject: clean(parsed.subject ?? ''),
    date: parsed.date instanceof Date && !Number.isNaN(parsed.date.getTime()) ? parsed.date : null,
    headers,
    text: typeof parsed.text === 'string' ? parsed.text : null,
    html: typeof parsed.html === 'string' ? parsed.html : null,
    attachments,
    inReplyTo: parsed.inReplyTo ? clean(parsed.inReplyTo) : null,
    references: (Array.isArray(parsed.references) ? parsed.references : parsed.references ? [parsed.references] : [])
      .map(clean)
      .filter(Boolean),
    embedded,
  };
}

/** Windows-1252's 0x80–0x9F (Node's TextDecoder('windows-1252') decodes them as Latin-1 C1 controls). */
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
const cp1252 = {
  decode(bytes: Uint8Array): string {
    let out = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      out += b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80] : String.fromCharCode(b);
    }
    return out;
  },
};

/**
 * 8-bit bytes with no charset declared are read as Windows-1252 (a superset of Latin-1's printable
 * characters: what such mail nearly always is) instead of becoming U+FFFD: raw 8-bit headers, and the
 * body of a single-part message with no Content-Type or a text/plain one without a charset.
 * Declared charsets (Latin-1, Windows-1252, Shift-JIS, …) are left to mailparser.
 */
export function repairUndeclaredCharsets(raw: Buffer): Buffer {
  let end = raw.indexOf('\r\n\r\n');
  let sepLen = 4;
  const lf = raw.indexOf('\n\n');
  if (end < 0 || (lf >= 0 && lf < end)) {
    end = lf;
    sepLen = 2;
  }
  if (end < 0) return isUtf8(raw) ? raw : Buffer.from(cp1252.decode(raw), 'utf8');
  let head = raw.subarray(0, end);
  let body = raw.subarray(end + sepLen);
  let changed = false;
  if (!isUtf8(head)) {
    head = Buffer.from(cp1252.decode(head), 'utf8');
    changed = true;
  }
  const headText = head.toString('utf8');
  const ct = /^content-type:[ \t]*([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/im.exec(headText);
  const plainWithoutCharset = !ct || (/^\s*text\/plain\b/i.test(ct[1]!) && !/charset\s*=/i.test(ct[1]!));
  const cte = /^content-transfer-encoding:[ \t]*(\S+)/im.exec(headText)?.[1]?.toLowerCase();
  if (plainWithoutCharset && (!cte || cte === '8bit' || cte === 'binary' || cte === '7bit') && !isUtf8(body)) {
    body = Buffer.from(cp1252.decode(body), 'utf8');
    const rest = ct
      ? headText.replace(ct[0], 'Content-Type: text/plain; charset=utf-8')
      : `${headText}\r\nContent-Type: text/plain; charset=utf-8`;
    head = Buffer.from(rest, 'utf8');
    changed = true;
  }
  return changed ? Buffer.concat([head, Buffer.from(sepLen === 4 ? '\r\n\r\n' : '\n\n'), body]) : raw;
}

/** What is left when mailparser gives up: the bytes as (Latin-1 safe) text, nothing else. */
function fallback(raw: Buffer): InboundMessage {
  return {
    messageId: null,
    from: { address: null, name: null },
    to: [],
    subject: '',
    date: null,
    headers: {},
    text: isUtf8(raw) ? raw.toString('utf8') : cp1252.decode(raw),
    html: null,
    attachments: [],
    inReplyTo: null,
    references: [],
    embedded: [],
  };
}

/** Header values are single lines: CR, LF and other control characters are dropped, length capped. */
function clean(v: string): string {
  return String(v)
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, MAX_HEADER);
}

function headerRecord(parsed: ParsedMail): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of parsed.headers ?? new Map()) {
    const name = key.toLowerCase();
    if (name === 'list' && value && typeof value === 'object') {
      // mailparser folds List-Id, List-Unsubscribe, … into one object: give them back their names.
      for (const [k, v] of Object.entries(value as Record<string, Record<string, string>>)) {
        const text = v && typeof v === 'object' ? (v.url ?? v.mail ?? v.id ?? v.name ?? '') : String(v ?? '');
        if (!(`list-${k}` in out)) out[`list-${k}`] = clean(text || 'yes');
      }
      continue;
    }
    if (name in out) continue;
    out[name] = clean(headerText(value));
  }
  return out;
}

function headerText(value: unknown): string {
  if (value == null) return '';
  if (Array.isArray(value)) return headerText(value[0]);
  if (typeof value === 'string') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toUTCString();
  if (typeof value === 'object') {
    const v = value as { text?: unknown; value?: unknown; params?: Record<string, string> };
    if (typeof v.text === 'string') return v.text;
    if (typeof v.value === 'string') {
      const params = Object.entries(v.params ?? {})
        .map(([k, p]) => `; ${k}=${p}`)
        .join('');
      return v.value + params;
    }
  }
  return String(value);
}

function firstAddress(obj: AddressObject | AddressObject[] | undefined): InboundMessage['from'] {
  const list = Array.isArray(obj) ? obj : obj ? [obj] : [];
  for (const o of list) {
    for (const a of o.value ?? []) {
      const address = a.address ? clean(a.address).toLowerCase() : null;
      if (address || a.name) return { address: address || null, name: a.name ? clean(a.name) : null };
    }
  }
  return { address: null, name: null };
}

function addresses(obj: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(obj) ? obj : obj ? [obj] : [];
  const out: string[] = [];
  for (const o of list) for (const a of o.value ?? []) if (a.address) out.push(clean(a.address).toLowerCase());
  return out;
}
