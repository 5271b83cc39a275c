import { isUtf8 } from 'node:buffer';
import type { AddressObject, ParsedMail } from 'mailparser';
import type { InboundMessage } from './types';

/** Attachments above this keep their size and type but not their bytes (SPEC §12: INBOUND_MAX_BYTES default). */
const DEFAULT_MAX_ATTACHMENT = 25 * 1024 * 1024;
/** A forwarded `.eml` inside a forwarded `.eml`… is read this deep and no deeper. */
const MAX_DEPTH = 3;
/** Header values longer than this are cut (a hostile 1 MB subject is not a subject). */
const MAX_HEADER = 4000;

/** Where a message's bytes come from: one buffer, or a way to read them piece by piece (again if need be). */
export type MessageSource = Buffer | (() => AsyncIterable<Buffer>);

export interface ReadMessageOptions {
  /** Attachments above this keep their size and type but not their bytes. Default 25 MiB. */
  maxAttachmentBytes?: number;
  /**
   * Keep the bytes only of the attachments this module ever reads (`contentIsRead`): text and CSV
   * (URLs), XML/JSON/YAML (ACNS, X-ARF) and forwarded messages. The others keep their name, type and
   * size; the parse job sets it (issue 18: a 17 MiB PDF was held decoded, twice, to be ignored).
   * The mailbox, which offers the attachments for download, reads them all.
   */
  onlyReadAttachments?: boolean;
  /** The message's size when it comes in pieces: a text part is decoded into a buffer this large (grown past it if need be). */
  size?: number;
}

/**
 * Raw RFC 822 bytes → InboundMessage, with mailparser (charsets through iconv-lite, Japanese through
 * encoding-japanese). Never throws on malformed input: what mailparser cannot read becomes an empty
 * message with the raw bytes as the text. Attachments are kept as bytes and never opened (a zip bomb
 * stays a zip file).
 *
 * The bytes can come as a stream of pieces (`() => AsyncIterable<Buffer>`, the parse job reads the
 * stored message as PostgreSQL streams it): they are then fed to mailparser as they come, never joined
 * (issue 18). An error of the source itself (the database) is thrown, not read as a malformed message.
 */
export async function readMessage(raw: MessageSource, opts: ReadMessageOptions = {}): Promise<InboundMessage> {
  return read(raw, opts.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT, !!opts.onlyReadAttachments, opts.size ?? 64 * 1024, 0);
}

/** Whether any reader of this module looks at an attachment's bytes (urls.ts, structured.ts, parse-notice-email.ts, forwarded messages). */
export function contentIsRead(contentType: string, filename: string | null): boolean {
  return (
    /^text\/(plain|csv)/.test(contentType) ||
    /xml|json/.test(contentType) ||
    contentType === 'message/rfc822' ||
    /\.(txt|csv|xml|json|ya?ml|eml)$/i.test(filename ?? '')
  );
}

/** An error of the message's source (not of its content): passed on as it is. */
class SourceError extends Error {
  constructor(override readonly cause: unknown) {
    super(String((cause as Error)?.message ?? cause));
  }
}

async function read(raw: MessageSource, maxAttachment: number, onlyRead: boolean, size: number, depth: number): Promise<InboundMessage> {
  let parsed: Parsed;
  try {
    parsed = await parse(raw, maxAttachment, onlyRead, Buffer.isBuffer(raw) ? raw.length : size);
  } catch (err) {
    if (err instanceof SourceError) throw err.cause;
    return fallback(Buffer.isBuffer(raw) ? raw : await joined(raw));
  }
  const headers = headerRecord(parsed);
  const attachments: InboundMessage['attachments'] = [];
  const embedded: InboundMessage[] = [];
  for (const a of parsed.attachments) {
    const { content, size, contentType } = a;
    attachments.push({ filename: a.filename, contentType, size, content: size > maxAttachment ? Buffer.alloc(0) : content });
    if (
      depth < MAX_DEPTH &&
      (contentType === 'message/rfc822' || /\.eml$/i.test(a.filename ?? '')) &&
      content.length &&
      content.length <= maxAttachment
    ) {
      embedded.push(await read(content, maxAttachment, onlyRead, content.length, depth + 1));
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
  const split = headerEnd(raw.indexOf('\r\n\r\n'), raw.indexOf('\n\n'));
  if (!split) return isUtf8(raw) ? raw : Buffer.from(cp1252.decode(raw), 'utf8');
  const plan = headPlan(raw.subarray(0, split.end));
  const sep = raw.subarray(split.end, split.end + split.sepLen);
  const body = raw.subarray(split.end + split.sepLen);
  if (plan.repairedHead && !isUtf8(body)) return Buffer.concat([plan.repairedHead, sep, Buffer.from(cp1252.decode(body), 'utf8')]);
  return plan.changed ? Buffer.concat([plan.head, sep, body]) : raw;
}

/** Where the header block ends (the first blank line, CRLF or LF, whichever comes first). */
function headerEnd(crlf: number, lf: number): { end: number; sepLen: number } | null {
  if (crlf < 0 && lf < 0) return null;
  return crlf < 0 || (lf >= 0 && lf < crlf) ? { end: lf, sepLen: 2 } : { end: crlf, sepLen: 4 };
}

/**
 * The header block as mailparser gets it (`head`, `changed` when its 8-bit bytes were read as
 * Windows-1252), and `repairedHead`, set when the body is read as Windows-1252 should it not be UTF-8.
 */
function headPlan(rawHead: Buffer): { head: Buffer; changed: boolean; repairedHead: Buffer | null } {
  let head = rawHead;
  let changed = false;
  if (!isUtf8(head)) {
    head = Buffer.from(cp1252.decode(head), 'utf8');
    changed = true;
  }
  const headText = head.toString('utf8');
  const ct = /^content-type:[ \t]*([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/im.exec(headText);
  const plainWithoutCharset = !ct || (/^\s*text\/plain\b/i.test(ct[1]!) && !/charset\s*=/i.test(ct[1]!));
  const cte = /^content-transfer-encoding:[ \t]*(\S+)/im.exec(headText)?.[1]?.toLowerCase();
  if (!plainWithoutCharset || !(!cte || cte === '8bit' || cte === 'binary' || cte === '7bit')) return { head, changed, repairedHead: null };
  const rest = ct
    ? headText.replace(ct[0], 'Content-Type: text/plain; charset=utf-8')
    : `${headText}\r\nContent-Type: text/plain; charset=utf-8`;
  return { head, changed, repairedHead: Buffer.from(rest, 'utf8') };
}

/**
 * `repairUndeclaredCharsets` for a message read piece by piece: the same bytes, never joined. Only
 * the pieces up to the end of the header block are held; a body that may need reading as
 * Windows-1252 is first checked whole for UTF-8 (one pass), then read again.
 */
async function* repairedPieces(open: () => AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = open()[Symbol.asyncIterator]();
  try {
    yield* repairedFrom(it, open);
  } finally {
    // Stopped early (mailparser failed) or done: the source lets go of what it holds (a connection).
    await it.return?.();
  }
}

async function* repairedFrom(it: AsyncIterator<Buffer>, open: () => AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const pieces: Buffer[] = [];
  let seen = 0;
  let crlf = -1;
  let lf = -1;
  let carry: Buffer = Buffer.alloc(0);
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const piece = r.value;
    const window = carry.length ? Buffer.concat([carry, piece]) : piece;
    const base = seen - carry.length;
    if (crlf < 0 && (crlf = window.indexOf('\r\n\r\n')) >= 0) crlf += base;
    if (lf < 0 && (lf = window.indexOf('\n\n')) >= 0) lf += base;
    pieces.push(piece);
    seen += piece.length;
    if (crlf >= 0 || lf >= 0) break;
    carry = window.subarray(Math.max(0, window.length - 3));
  }
  const split = headerEnd(crlf, lf);
  if (!split) {
    // No header block: the whole message was read above (as the buffer version reads it).
    if (pieces.length) yield repairUndeclaredCharsets(Buffer.concat(pieces));
    return;
  }
  const prefix = Buffer.concat(pieces);
  pieces.length = 0;
  const plan = headPlan(prefix.subarray(0, split.end));
  const sep = prefix.subarray(split.end, split.end + split.sepLen);
  const bodyStart = split.end + split.sepLen;
  if (!plan.repairedHead) {
    yield plan.changed ? Buffer.concat([plan.head, sep, prefix.subarray(bodyStart)]) : prefix;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    return;
  }
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let valid = true;
  try {
    utf8.decode(prefix.subarray(bodyStart), { stream: true });
    for (let r = await it.next(); !r.done; r = await it.next()) utf8.decode(r.value, { stream: true });
    utf8.decode();
  } catch (err) {
    if ((err as { code?: string })?.code !== 'ERR_ENCODING_INVALID_ENCODED_DATA') throw err; // the source's own error
    valid = false;
    await it.return?.();
  }
  yield valid ? (plan.changed ? Buffer.concat([plan.head, sep]) : prefix.subarray(0, bodyStart)) : Buffer.concat([plan.repairedHead, sep]);
  let skip = bodyStart;
  for await (const piece of open()) {
    const body = skip >= piece.length ? null : piece.subarray(skip);
    skip = Math.max(0, skip - piece.length);
    if (body?.length) yield valid ? body : Buffer.from(cp1252.decode(body), 'utf8');
  }
}

async function joined(open: () => AsyncIterable<Buffer>): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of open()) pieces.push(piece);
  return Buffer.concat(pieces);
}

type Attachment = InboundMessage['attachments'][number];
type Parsed = Pick<
  ParsedMail,
  'headers' | 'from' | 'to' | 'subject' | 'date' | 'text' | 'html' | 'messageId' | 'inReplyTo' | 'references'
> & {
  attachments: Attachment[];
};

/** What mailparser's MailParser gives out (its `read()` objects), as far as this file reads it. */
type ParserOutput =
  | { type: 'text'; text?: string; html?: string | false }
  | {
      type: 'attachment';
      contentType?: string;
      filename?: string;
      size?: number;
      content: import('node:stream').Readable;
      release(): void;
    };

/** mailparser's options here; exported for the test that compares the streamed decoding with mailparser's own. */
export const PARSER_OPTIONS = {
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  keepCidLinks: true,
  keepDeliveryStatus: true,
  maxHtmlLengthToParse: 5 * 1024 * 1024,
};

/** Header fields simpleParser copies onto its result, and their names there. */
const TOP_HEADERS = ['subject', 'references', 'date', 'to', 'from', 'cc', 'bcc', 'message-id', 'in-reply-to', 'reply-to'];

/** The parts of mailparser's MailParser this file reaches into (mailparser 3.14; tests/unit/inbound-read-streamed.test.ts compares with simpleParser). */
interface ParserNode {
  contentType?: string;
  textContent?: string;
}
interface SplitNode {
  contentType?: string | false;
  disposition?: string | false;
  charset?: string | false;
  flowed?: boolean;
  root?: boolean;
}
interface ParserInternals {
  textTypes: string[];
  curnode: ParserNode | false;
  hasText: boolean;
  hasHtml: boolean;
  createNode(data: SplitNode): ParserNode;
  push(chunk: unknown): boolean;
  getTextContent(): { text?: string; html?: string };
}

/**
 * Whether mailparser would read this part as the message's text (an inline text/plain or text/html
 * part) in UTF-8 or ASCII and not format=flowed: such a part is decoded here as it streams (`TextPart`)
 * instead of by mailparser, which gathers it whole and holds it four times at its end (its chunks,
 * their concatenation, that as a string, and the string with CRLF made LF): 24 MiB of text was
 * ~96 MiB at once (issue 18). Other charsets and flowed text stay mailparser's.
 */
function decodedHere(data: SplitNode): boolean {
  const contentType = data.contentType || (data.root ? 'text/plain' : '');
  if (contentType !== 'text/plain' && contentType !== 'text/html') return false;
  if (data.disposition && data.disposition !== 'inline') return false;
  if (data.flowed) return false;
  return ['ascii', 'usascii', 'utf8'].includes((data.charset || 'utf-8').toLowerCase().replace(/[^a-z0-9]+/g, ''));
}

/**
 * A text part's bytes → its text, as mailparser makes it (UTF-8; CRLF → LF). The CRs are dropped
 * from the bytes as they come (a CR or LF byte is never part of a UTF-8 sequence, so this is the
 * same as replacing in the text), copied into one buffer as large as the message (a part is never
 * larger; only the pages written take memory) so that the message's pieces can go, and the text
 * is made from it once at the end: the bytes once and the text, never the bytes twice.
 */
class TextPart {
  private buffer: Buffer | null = null;
  private n = 0;
  private cr = false;

  constructor(private readonly room: number) {}

  write(bytes: Buffer): void {
    if (!bytes.length) return;
    this.ensure(bytes.length + 1);
    const out = this.buffer!;
    if (this.cr && bytes[0] !== 0x0a) out[this.n++] = 0x0d;
    this.cr = false;
    let from = 0;
    for (let at = bytes.indexOf(0x0d); at >= 0; at = bytes.indexOf(0x0d, at + 1)) {
      if (at === bytes.length - 1) {
        // Perhaps the first half of a CRLF: decided by the next piece.
        this.n += bytes.copy(out, this.n, from, at);
        from = bytes.length;
        this.cr = true;
      } else if (bytes[at + 1] === 0x0a) {
        this.n += bytes.copy(out, this.n, from, at);
        from = at + 1;
      }
    }
    this.n += bytes.copy(out, this.n, from);
  }

  end(): string {
    if (this.cr) {
      // Nothing follows the last CR: it stays, as mailparser keeps a lone CR.
      this.ensure(1);
      this.buffer![this.n++] = 0x0d;
    }
    const text = this.buffer ? this.buffer.toString('utf8', 0, this.n) : '';
    this.buffer = null;
    return text;
  }

  /** Room for `more` bytes (a part larger than the message said: grown by doubling). */
  private ensure(more: number): void {
    if (this.buffer && this.n + more <= this.buffer.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.room, this.n + more, this.buffer ? this.buffer.length * 2 : 0));
    if (this.buffer) this.buffer.copy(grown, 0, 0, this.n);
    this.buffer = grown;
  }
}

/**
 * mailparser's `simpleParser` (keepCidLinks), with three differences (issue 18): the input may be a
 * stream of pieces (written with backpressure); attachments nobody reads (`onlyRead`) or larger than
 * `maxAttachment` are drained without being gathered; and UTF-8 text parts are decoded as they
 * stream (`decodedHere`): mailparser hands them out as attachment streams (its `textTypes` emptied
 * for that part), the text is put back on its node, and mailparser's own `getTextContent` joins the
 * parts as it always does.
 */
async function parse(raw: MessageSource, maxAttachment: number, onlyRead: boolean, size: number): Promise<Parsed> {
  // Loaded on first use (issue 18: a server that reads no mail does not hold it in memory).
  const { MailParser } = await import('mailparser');
  const parser = new MailParser(PARSER_OPTIONS);
  const internals = parser as unknown as ParserInternals;
  const textTypes = internals.textTypes;
  const textNodes = new WeakSet<ParserNode>();
  const nodeOf = new WeakMap<object, ParserNode>();
  let ownText = false;
  const createNode = internals.createNode;
  internals.createNode = function (data: SplitNode) {
    const here = decodedHere(data);
    this.textTypes = here ? [] : textTypes;
    try {
      const node = createNode.call(this, data);
      if (here) textNodes.add(node);
      return node;
    } finally {
      this.textTypes = textTypes;
    }
  };
  const push = internals.push;
  internals.push = function (chunk: unknown) {
    // An attachment is pushed right after its node is made: remember which node it is.
    if (chunk && (chunk as { type?: string }).type === 'attachment' && this.curnode) nodeOf.set(chunk as object, this.curnode);
    return push.call(this, chunk);
  };
  const mail: Record<string, unknown> & { attachments: Attachment[]; headers?: Map<string, unknown> } = { attachments: [] };
  return new Promise<Parsed>((resolve, reject) => {
    let settled = false;
    const settle = (err: unknown, value?: Parsed) => {
      if (settled) return;
      settled = true;
      if (err) {
        parser.destroy();
        reject(err);
      } else resolve(value!);
    };
    parser.on('error', (err: unknown) => settle(err));
    parser.on('headers', (headers: Map<string, unknown>) => {
      mail.headers = headers;
    });
    let reading = false;
    const reader = () => {
      reading = true;
      const data = parser.read() as ParserOutput | null;
      if (data === null) {
        reading = false;
        return;
      }
      if (data.type === 'text') {
        if ('text' in data) mail.text = data.text;
        if ('html' in data) mail.html = data.html;
        return reader();
      }
      const node = nodeOf.get(data);
      if (node && textNodes.has(node)) {
        ownText = true;
        const part = new TextPart(size);
        data.content.on('readable', () => {
          for (let chunk = data.content.read() as Buffer | null; chunk !== null; chunk = data.content.read() as Buffer | null)
            part.write(chunk);
        });
        data.content.on('end', () => {
          node.textContent = part.end();
          if (node.contentType === 'text/plain') internals.hasText = true;
          else internals.hasHtml = true;
          data.release();
          reader();
        });
        return;
      }
      const contentType = clean(data.contentType || 'application/octet-stream').toLowerCase();
      const filename = data.filename ? clean(data.filename) : null;
      const keep = !onlyRead || contentIsRead(contentType, filename);
      const chunks: Buffer[] = [];
      let length = 0;
      data.content.on('readable', () => {
        for (let chunk = data.content.read() as Buffer | null; chunk !== null; chunk = data.content.read() as Buffer | null) {
          if (!keep || length > maxAttachment) continue;
          length += chunk.length;
          if (length > maxAttachment) chunks.length = 0;
          else chunks.push(chunk);
        }
      });
      data.content.on('end', () => {
        const size = typeof data.size === 'number' ? data.size : length;
        const content = keep && length <= maxAttachment ? Buffer.concat(chunks, length) : Buffer.alloc(0);
        chunks.length = 0;
        mail.attachments.push({ filename, contentType, size, content });
        data.release();
        reader();
      });
    };
    parser.on('readable', () => {
      if (!reading) reader();
    });
    parser.on('end', () => {
      if (ownText) {
        // Every part has been read by now: the text is joined again with the parts decoded here.
        let t: { text?: string; html?: string };
        try {
          t = internals.getTextContent();
        } catch (err) {
          return settle(err);
        }
        delete mail.text;
        delete mail.html;
        if ('text' in t) mail.text = t.text;
        if ('html' in t) mail.html = t.html;
      }
      for (const key of TOP_HEADERS) {
        if (mail.headers?.has(key)) mail[key.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = mail.headers.get(key);
      }
      settle(null, mail as unknown as Parsed);
    });
    if (Buffer.isBuffer(raw)) parser.end(repairUndeclaredCharsets(raw));
    else feed(parser, repairedPieces(raw)).catch((err) => settle(new SourceError(err)));
  });
}

/** Writes the pieces into the parser as it takes them (its `drain`), then ends it. */
async function feed(parser: import('node:stream').Writable, pieces: AsyncIterable<Buffer>): Promise<void> {
  for await (const piece of pieces) {
    if (parser.destroyed) return;
    if (!parser.write(piece)) {
      await new Promise<void>((go) => {
        const done = () => {
          parser.off('drain', done);
          parser.off('close', done);
          go();
        };
        parser.on('drain', done);
        parser.on('close', done);
      });
    }
  }
  if (!parser.destroyed) parser.end();
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

function headerRecord(parsed: Pick<ParsedMail, 'headers'>): Record<string, string> {
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
