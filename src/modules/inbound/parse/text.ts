import EmailReplyParser from 'email-reply-parser';
import { compile } from 'html-to-text';
import type { InboundMessage } from './types';

/** Text beyond this is not run through the reply parser (its regexes are line-based but not free). */
const MAX_REPLY_PARSE = 256 * 1024;

/**
 * HTML → plain text (html-to-text): scripts, styles and images dropped, links kept as their text
 * (URLs are taken from the `href`s separately), no word wrapping so sentences stay whole.
 */
export function htmlToText(html: string): string {
  // The pipeline converts the same HTML twice (URLs, then the text): the last answer is kept
  // (`forgetLastAnswers` lets it go), issue 18: 5 MB of HTML made a tree twice over.
  if (lastHtml?.html === html) return lastHtml.text;
  const text = convertHtml(html);
  lastHtml = { html, text };
  return text;
}

let lastHtml: { html: string; text: string } | null = null;

/** Lets go of the last answers kept by `htmlToText` (the message's HTML and text). */
export function forgetLastHtml(): void {
  lastHtml = null;
}

/** html-to-text with the options of every HTML mail: compiled once. */
const convertSlice = compile({
  wordwrap: false,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'noscript', format: 'skip' },
    { selector: 'head', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
});

/** HTML beyond this many characters is not read as text (its links still are: `findHtmlLinks`). */
const MAX_HTML_TEXT = 5_000_000;

function convertHtml(html: string): string {
  if (tooDeep(html)) return stripTags(html);
  try {
    const read = html.length > MAX_HTML_TEXT ? html.slice(0, MAX_HTML_TEXT) : html;
    return read.length <= HTML_SLICE ? convertSlice(read) : htmlSlices(read).map(convertSlice).join('\n');
  } catch {
    return stripTags(html);
  }
}

/**
 * html-to-text builds a tree of the whole document: ~20 bytes of memory for each character of
 * HTML (issue 18: the 5,000,000 characters read of a 24 MB HTML letter peaked at +107 MiB, +68 in
 * slices of this size). Larger HTML is converted in slices of about this many characters.
 */
export const HTML_SLICE = 64 * 1024;

/** Elements whose contents read differently (quoted, listed, preformatted): re-opened at the head of the next slice. */
const CARRIED = new Set(['blockquote', 'ul', 'ol', 'dl', 'pre']);
/** Elements whose contents are not markup: never cut inside (the slice grows to their end). */
const RAW_TEXT = new Map(['script', 'style', 'textarea', 'title'].map((n) => [n, new RegExp(`</${n}\\s*>`, 'gi')]));

/**
 * `html` cut into slices of about `size` characters, each cut made before a tag, never inside a
 * comment or a raw-text element (a script's text never leaks into the next slice), each slice
 * after the first opened with the quoting and list elements still open at its cut: a quoted reply
 * stays quoted ("> " lines) however long it is, so the reply parser still tells it from the
 * sender's own words. One linear scan of the tags.
 */
export function htmlSlices(html: string, size = HTML_SLICE): string[] {
  const slices: string[] = [];
  const open: string[] = [];
  const tag = /<(?:(!--)|(\/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*>)/g;
  let start = 0;
  let head = '';
  for (let m = tag.exec(html); m; m = tag.exec(html)) {
    if (m.index - start >= size) {
      slices.push(head + html.slice(start, m.index));
      start = m.index;
      // Bare tags, not as written: a carried tag's attributes, repeated at the head of every slice,
      // could make 400 nested tags of 12 KB each a 4.8 MB head times every slice.
      head = open.map((name) => `<${name}>`).join('');
    }
    if (m[1]) {
      const end = html.indexOf('-->', tag.lastIndex);
      tag.lastIndex = end < 0 ? html.length : end + 3;
      continue;
    }
    const name = m[3]!.toLowerCase();
    if (m[2]) {
      const at = open.lastIndexOf(name);
      if (at >= 0) open.length = at;
    } else if (RAW_TEXT.has(name) && !m[0].endsWith('/>')) {
      const close = RAW_TEXT.get(name)!;
      close.lastIndex = tag.lastIndex;
      tag.lastIndex = close.exec(html) ? close.lastIndex : html.length;
    } else if (CARRIED.has(name)) {
      open.push(name);
    }
  }
  slices.push(head + html.slice(start));
  return slices;
}

const VOID = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'track',
  'wbr',
  'p',
  'li',
  'td',
  'tr',
  'th',
  'option',
]);

/**
 * Whether HTML nests deeper than any mail does. htmlparser2 (under html-to-text too) keeps its open
 * elements with Array.unshift, so 50,000 nested <div>s cost it ~20 s; such HTML is read by the
 * linear fallbacks instead. One linear scan of the tags.
 */
export function tooDeep(html: string, limit = 400): boolean {
  if (html.length < limit * 4) return false;
  const tag = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*?(\/?)>/g;
  let depth = 0;
  for (let m = tag.exec(html); m; m = tag.exec(html)) {
    const name = m[2]!.toLowerCase();
    if (VOID.has(name) || m[3]) continue;
    depth += m[1] ? -1 : 1;
    if (depth > limit) return true;
    if (depth < 0) depth = 0;
  }
  return false;
}

/**
 * Scripts, styles and the head dropped, in one pass: an unterminated one drops the rest (as a
 * browser reads it). A lazy `<script[\s\S]*?</script>` searched to the end from every opening
 * that has no end: quadratic, and hostile HTML is what reaches this fallback.
 */
function withoutRawBlocks(html: string): string {
  const open = /<(script|style|head)\b/gi;
  let out = '';
  let at = 0;
  for (let m = open.exec(html); m; m = open.exec(html)) {
    out += `${html.slice(at, m.index)} `;
    const close = RAW_BLOCK_END[m[1]!.toLowerCase() as keyof typeof RAW_BLOCK_END];
    close.lastIndex = open.lastIndex;
    at = close.exec(html) ? close.lastIndex : html.length;
    open.lastIndex = at;
  }
  return out + html.slice(at);
}

const RAW_BLOCK_END = { script: /<\/script\s*>/gi, style: /<\/style\s*>/gi, head: /<\/head\s*>/gi };

/**
 * Tags stripped, scripts and styles dropped, entities left as written: the fallback for hostile
 * HTML. Every pattern here stops at the next "<" (`[^<>]`), so HTML with no ">" costs one pass,
 * not one pass from every "<" (100 KB of "<a" took 10 s).
 */
function stripTags(html: string): string {
  return withoutRawBlocks(html)
    .replace(/<(?:br|\/p|\/div|\/li|\/tr|\/h\d)\b[^<>]*>/gi, '\n')
    .replace(/<[^<>]*>/g, ' ')
    .replace(/[ \t]+/g, ' ');
}

/** The message's text: the text/plain part, else its HTML converted. CRLF → LF. */
export function messageText(msg: InboundMessage): string {
  const t = msg.text && msg.text.trim() ? msg.text : msg.html ? htmlToText(msg.html) : '';
  // Runs of blank lines become one (hostile HTML can turn into 50,000 empty lines).
  return t
    .replace(/\r\n?/g, '\n')
    .replace(/\u00a0/g, ' ')
    .replace(/\n[ \t]*(?:\n[ \t]*){2,}/g, '\n\n');
}

export interface Unwrapped {
  /** The forwarded original's text (or the message's own text when nothing was forwarded). */
  text: string;
  /** What the forwarder wrote above the forwarded part. */
  cover: string;
  forwardedFrom: { address: string | null; name: string | null } | null;
  subject: string | null;
}

/** Lines that open a forwarded message in the common clients (Gmail, Outlook, Apple Mail, Thunderbird). */
const FORWARD_MARKER =
  /^[ \t>]*(?:-{2,}\s*(?:forwarded message|original message|weitergeleitete nachricht|message transféré|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht)\s*-{2,}|begin forwarded message:|-{2,}\s*forwarded by .*-{2,}|_{10,})[ \t]*$/im;

/**
 * A forwarded complaint: the part after a forward marker (or an Outlook header block "From: … Sent: …"),
 * with its own From/Subject read. The text before it is the forwarder's cover note.
 */
export function unwrapForwarded(text: string): Unwrapped {
  let m = FORWARD_MARKER.exec(text);
  // A marker counts only when a "From:" header follows within a few lines (a line of underscores alone is a signature rule).
  if (
    m &&
    !/^\s*(?:[>*\s]*(?:from|von|de|da|van)\s*\*?\s*:)/im.test(
      text
        .slice(m.index + m[0].length)
        .split('\n')
        .slice(0, 4)
        .join('\n'),
    )
  )
    m = null;
  let start = m ? m.index : -1;
  let afterMarker = m ? m.index + m[0].length : -1;
  if (!m) {
    // Outlook without a marker line: a "From:" header block followed by "Sent:"/"Date:" and "Subject:".
    const o = /^[ \t]*(?:\*\s*)?From:[^\n]+\n(?:[ \t]*[A-Za-z-]+:[^\n]*\n){1,6}/m.exec(text);
    if (o && /\n[ \t]*(?:Sent|Date):/i.test(o[0]) && /\n[ \t]*Subject:/i.test(o[0])) {
      start = o.index;
      afterMarker = o.index;
    }
  }
  if (start < 0) return { text, cover: '', forwardedFrom: null, subject: null };
  const rest = text.slice(afterMarker).replace(/^[ \t]*\n/, '');
  // The forwarded header block: "Key: value" lines (possibly quoted with "> ") up to the first blank line.
  const lines = rest.split('\n');
  const head: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length && i < 12; i++) {
    const line = lines[i]!.replace(/^[ \t>]*\*?/, '');
    if (!line.trim()) {
      if (Object.keys(head).length) break;
      continue;
    }
    const kv = /^([A-Za-zÀ-ÿ-]{2,20})\*?\s*:\s*(.*)$/.exec(line);
    if (!kv) break;
    head[kv[1]!.toLowerCase()] = kv[2]!.trim();
  }
  const fromLine = head.from ?? head.von ?? head.de ?? head.da ?? head.van ?? null;
  const body = lines
    .slice(i)
    .map((l) => l.replace(/^> ?/, ''))
    .join('\n');
  return {
    text: body.trim() ? body : text,
    cover: text.slice(0, start),
    forwardedFrom: fromLine ? parseAddressLine(fromLine) : null,
    subject: head.subject ?? head.betreff ?? head.objet ?? null,
  };
}

/** "Jane Doe <jane@example.org>", "jane@example.org", "Jane Doe [mailto:jane@example.org]". */
export function parseAddressLine(s: string): { address: string | null; name: string | null } {
  const email = /[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/.exec(s);
  const name = s
    .replace(/[<[(]?(?:mailto:)?[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}[>\])]?/g, '')
    .replace(/["']/g, '')
    .trim();
  return { address: email ? email[0].toLowerCase() : null, name: name || null };
}

/** Any sign of a quoted reply (a "> " line, a "… wrote:" header in the languages the reply parser knows, an Outlook header). */
const QUOTE_HINT =
  /^[ \t]*>|wrote:|schrieb|écrit|escribió|scritto|escreveu|skrev|kirjoitti|pisze|napisał|写道|작성:|のメッセージ|original message|oprindelig besked|message d'origine|^[ \t]*(?:from|von|de|van|da) ?:/im;
/** Without a quote, only a signature at the end can be hidden: the reply parser reads this many last lines. */
const SIGNATURE_TAIL = 60;
/** A line this long is no e-mail prose (HTML converted without breaks, a hostile one-liner). */
const LONG_LINE = /[^\n]{2000}/;

export interface ReplyParts {
  /** Without quoted replies, signature kept (statements and contact details are read from this). */
  own: string;
  /** Without quoted replies and without the e-mail signature (the notice's body). */
  visible: string;
}

/**
 * Quoted replies ("On … wrote:", "> " lines) and the e-mail signature (after "-- ", "Sent from my …",
 * "Regards,") told apart from the message's own words, with email-reply-parser. One pass serves both
 * readings; a message with no sign of quoting only has its last lines read for a signature (the
 * parser's per-line regexes cost ~30 ms on a 1,000-line letter).
 */
export function splitReply(text: string): ReplyParts {
  if (!text.trim()) return { own: '', visible: '' };
  // The reply parser's regexes (e.g. /^(.+\son.*at.*wrote:)$/) backtrack badly on very long lines.
  if (text.length > MAX_REPLY_PARSE || LONG_LINE.test(text)) {
    const own = dropQuotedLines(text);
    return { own, visible: own };
  }
  try {
    if (!QUOTE_HINT.test(text)) {
      const lines = text.split('\n');
      const cut = Math.max(0, lines.length - SIGNATURE_TAIL);
      const head = lines.slice(0, cut).join('\n');
      const tail = new EmailReplyParser().read(lines.slice(cut).join('\n')).getVisibleText();
      const visible = (cut ? `${head}\n${tail}` : tail).trim();
      return { own: text.trim(), visible: visible || text.trim() };
    }
    const fragments = new EmailReplyParser().read(text).getFragments();
    const own = fragments
      .filter((f) => !f.isQuoted())
      .map((f) => f.getContent())
      .join('\n')
      .trim();
    const visible = fragments
      .filter((f) => !f.isHidden())
      .map((f) => f.getContent())
      .join('\n')
      .replace(/~*$/, '')
      .trim();
    return { own: own || text.trim(), visible: visible || own || text.trim() };
  } catch {
    const own = dropQuotedLines(text);
    return { own, visible: own };
  }
}

/** The message's own words: quoted replies and the e-mail signature removed. */
export function stripReplies(text: string): string {
  return splitReply(text).visible;
}

/**
 * The message without quoted replies but with its signature block (the signature names the
 * complainant): what statements and contact details are read from. A reply quoting our own
 * "here is what is missing" email must not lend it our wording of the statements.
 */
export function withoutQuotes(text: string): string {
  return splitReply(text).own;
}

/** Lines opening with ">" removed, in one pass (not an array of every line: 24 MB of text is 250,000 lines). */
function dropQuotedLines(text: string): string {
  return text.replace(/^[^\S\n]*>[^\n]*(?:\n|$)/gm, '').trim();
}
