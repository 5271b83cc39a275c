/// <reference path="./email-reply-parser.d.ts" />
import EmailReplyParser from 'email-reply-parser';
import { convert } from 'html-to-text';
import type { InboundMessage } from './types';

/** Text beyond this is not run through the reply parser (its regexes are line-based but not free). */
const MAX_REPLY_PARSE = 256 * 1024;

/**
 * HTML → plain text (html-to-text): scripts, styles and images dropped, links kept as their text
 * (URLs are taken from the `href`s separately), no word wrapping so sentences stay whole.
 */
export function htmlToText(html: string): string {
  try {
    return convert(html.length > 5_000_000 ? html.slice(0, 5_000_000) : html, {
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
        { selector: 'table', format: 'dataTable' },
        { selector: 'th', options: { uppercase: false } },
      ],
    });
  } catch {
    return html.replace(/<[^>]*>/g, ' ');
  }
}

/** The message's text: the text/plain part, else its HTML converted. CRLF → LF. */
export function messageText(msg: InboundMessage): string {
  const t = msg.text && msg.text.trim() ? msg.text : msg.html ? htmlToText(msg.html) : '';
  return t.replace(/\r\n?/g, '\n').replace(/\u00a0/g, ' ');
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
const FORWARD_MARKER = /^[ \t>]*(?:-{2,}\s*(?:forwarded message|original message|weitergeleitete nachricht|message transféré|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht)\s*-{2,}|begin forwarded message:|-{2,}\s*forwarded by .*-{2,}|_{10,})[ \t]*$/im;

/**
 * A forwarded complaint: the part after a forward marker (or an Outlook header block "From: … Sent: …"),
 * with its own From/Subject read. The text before it is the forwarder's cover note.
 */
export function unwrapForwarded(text: string): Unwrapped {
  const m = FORWARD_MARKER.exec(text);
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
    if (!line.trim()) { if (Object.keys(head).length) break; continue; }
    const kv = /^([A-Za-zÀ-ÿ-]{2,20})\*?\s*:\s*(.*)$/.exec(line);
    if (!kv) break;
    head[kv[1]!.toLowerCase()] = kv[2]!.trim();
  }
  const fromLine = head.from ?? head.von ?? head.de ?? head.da ?? head.van ?? null;
  const body = lines.slice(i).map((l) => l.replace(/^> ?/, '')).join('\n');
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

/**
 * The message's own words: quoted replies ("On … wrote:", "> " lines) and the e-mail signature
 * (after "-- ", "Sent from my …") removed, with email-reply-parser. Falls back to the text itself
 * when the parser would leave nothing.
 */
export function stripReplies(text: string): string {
  if (!text.trim() || text.length > MAX_REPLY_PARSE) return text.trim();
  try {
    const visible = new EmailReplyParser().read(text).getVisibleText().trim();
    return visible || text.trim();
  } catch {
    return text.trim();
  }
}

/**
 * The message without quoted replies but with its signature block (the signature names the
 * complainant): what statements and contact details are read from. A reply quoting our own
 * "here is what is missing" email must not lend it our wording of the statements.
 */
export function withoutQuotes(text: string): string {
  if (!text.trim() || text.length > MAX_REPLY_PARSE) return dropQuotedLines(text);
  try {
    const fragments = new EmailReplyParser().read(text).getFragments();
    const kept = fragments.filter((f) => !f.isQuoted()).map((f) => f.getContent()).join('\n').trim();
    return kept || text.trim();
  } catch {
    return dropQuotedLines(text);
  }
}

function dropQuotedLines(text: string): string {
  return text.split('\n').filter((l) => !/^\s*>/.test(l)).join('\n').trim();
}
