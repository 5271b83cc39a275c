import { LinkifyIt, type Match } from 'linkify-it';
import { Parser } from 'htmlparser2';
import { normaliseUrl } from '../../../shared/url';
import { readStructured } from './structured';
import { forgetLastHtml, htmlToText, tooDeep } from './text';
import type { InboundMessage } from './types';

/** More URLs than this in one message are not read (SPEC §4: up to 1,000 per notice; room for evidence). */
export const MAX_URLS = 10_000;

/**
 * Two linkify-it instances: URLs with a scheme are found by the plain one over the whole text; the
 * fuzzy one (bare "example.com/page") only reads lines that still hold a bare domain once the
 * schemed URLs are blanked out. Same answers as one fuzzy pass, a third less time on URL lists
 * (linkify-it's fuzzy search regex is the costly part).
 */
const schemed = new LinkifyIt({ fuzzyLink: false, fuzzyEmail: false });
const linkify = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: false, fuzzyIP: true });
const SCHEMED = /\bhttps?:\/\/\S+/gi;
const BARE_DOMAIN = /(?:^|[^\p{L}\p{N}@._-])(?:[\p{L}\p{N}-]+\.)+[a-z]{2,}|\b\d{1,3}(?:\.\d{1,3}){3}\b/iu;
/** Top-level domains accepted in bare ("example.io/page") links beyond linkify-it's defaults (2-letter ones are in). */
const knownTlds = new Set([
  'example',
  'io',
  'dev',
  'app',
  'xyz',
  'site',
  'online',
  'tech',
  'blog',
  'top',
  'club',
  'store',
  'live',
  'news',
  'media',
  'cloud',
  'page',
]);
linkify.tlds([...knownTlds], true);

/** Accept bare links under the TLD of this site's own host too (e.g. `desk.internal/items/x`). */
export function acceptTldOf(url: string): void {
  const m = /^https?:\/\/[^/:]*\.([a-z][a-z0-9-]*)(?::|\/|$)/i.exec(url);
  const tld = m?.[1]?.toLowerCase();
  if (tld && tld.length > 2 && !knownTlds.has(tld)) {
    knownTlds.add(tld);
    linkify.tlds([tld], true);
  }
}

/** Every http(s) URL in a text, found by linkify-it (bare "example.com/page" too), in order, as written. */
export function findTextUrls(text: string, limit = MAX_URLS): string[] {
  if (!text) return [];
  // The pipeline calls findMessageUrls then parseNoticeEmail on the same text: linkify-it costs
  // ~50 µs a link on this machine, so the last answer is kept.
  if (last && last.text === text && last.limit === limit) return last.urls.slice();
  const urls = linkifyUrls(text, limit);
  last = { text, limit, urls };
  return urls.slice();
}

let last: { text: string; limit: number; urls: string[] } | null = null;
let lastLinks: { html: string; limit: number; links: string[] } | null = null;

/**
 * Lets go of the last answers kept for the same text or HTML asked twice (issue 18: they held the
 * last message's whole text, 24 MB for the largest, until the next message came).
 */
export function forgetLastAnswers(): void {
  last = null;
  lastLinks = null;
  forgetLastHtml();
}

function linkifyUrls(text: string, limit: number): string[] {
  const out: string[] = [];
  let matches: Match[] = [];
  try {
    matches = schemed.match(text) ?? [];
    const fuzzy: Match[] = [];
    // Line by line without an array of every line (24 MB of text is 250,000 lines, issue 18).
    for (let offset = 0; offset <= text.length;) {
      const nl = text.indexOf('\n', offset);
      const end = nl < 0 ? text.length : nl;
      const blanked = text.slice(offset, end).replace(SCHEMED, (u) => ' '.repeat(u.length));
      if (BARE_DOMAIN.test(blanked)) {
        for (const m of linkify.match(blanked) ?? []) {
          if (m.schema === '') fuzzy.push({ ...m, index: m.index + offset, lastIndex: m.lastIndex + offset } as Match);
        }
      }
      offset = end + 1;
    }
    if (fuzzy.length) matches = [...matches, ...fuzzy].sort((a, b) => a.index - b.index);
  } catch {
    /* what was found so far is kept */
  }
  for (const m of matches) {
    if (m.schema !== '' && m.schema.toLowerCase() !== 'http:' && m.schema.toLowerCase() !== 'https:' && m.schema !== '//') continue;
    // A fuzzy match ("example.com") becomes http://…; normalisation ignores the scheme's difference only for targets.
    out.push(m.url.replace(/[.,;:!?)\]>'"]+$/, (t: string) => (t.startsWith(')') && m.url.includes('(') ? t : '')));
    if (out.length >= limit) break;
  }
  return out;
}

/** The `href`s of an HTML body's links, in order. */
export function findHtmlLinks(html: string, limit = MAX_URLS): string[] {
  // Asked twice for the same HTML by the pipeline (findMessageUrls, parseNoticeEmail).
  if (lastLinks && lastLinks.html === html && lastLinks.limit === limit) return lastLinks.links.slice();
  const links = htmlLinks(html, limit);
  lastLinks = { html, limit, links };
  return links.slice();
}

function htmlLinks(html: string, limit: number): string[] {
  const out: string[] = [];
  if (tooDeep(html)) {
    for (const m of html.matchAll(/<a(?:rea)?\s[^<>]*?href\s*=\s*["']?(https?:[^"'\s<>]+)/gi)) {
      out.push(m[1]!.replace(/&amp;/g, '&'));
      if (out.length >= limit) break;
    }
    return out;
  }
  try {
    const parser = new Parser(
      {
        onopentag(name, attrs) {
          if (out.length >= limit) return;
          if ((name === 'a' || name === 'area') && attrs.href && /^\s*https?:/i.test(attrs.href)) out.push(attrs.href.trim());
        },
      },
      { decodeEntities: true },
    );
    parser.write(html.length > 5_000_000 ? html.slice(0, 5_000_000) : html);
    parser.end();
  } catch {
    /* what was read so far is kept */
  }
  return out;
}

/** Text-like attachments whose URLs count (a `.txt` list of URLs, a forwarded `.eml` is read separately). */
function isTextAttachment(a: InboundMessage['attachments'][number]): boolean {
  return /^text\/(plain|csv)/.test(a.contentType) || /\.(txt|csv)$/i.test(a.filename ?? '');
}

/**
 * Every URL in the message — its text, its HTML links, ACNS/X-ARF reports, text attachments and
 * forwarded messages — normalised (the project's `normaliseUrl`), deduplicated, in order of appearance.
 * The pipeline asks the database which of these are the original URLs of our items.
 */
export function findMessageUrls(msg: InboundMessage): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (list: string[]) => {
    for (const u of list) {
      if (out.length >= MAX_URLS) return;
      const n = normaliseUrl(u);
      if (n && !seen.has(n)) {
        seen.add(n);
        out.push(n);
      }
    }
  };
  for (const r of readStructured(msg)) add([...r.infringingUrls, ...r.originalUrls]);
  add(findTextUrls(msg.text ?? ''));
  if (msg.html) {
    add(findHtmlLinks(msg.html));
    if (!msg.text || !msg.text.trim()) add(findTextUrls(htmlToText(msg.html)));
  }
  for (const a of msg.attachments) {
    if (isTextAttachment(a) && a.content.length && a.content.length <= 2 * 1024 * 1024) add(findTextUrls(a.content.toString('utf8')));
  }
  for (const e of msg.embedded ?? []) add(findMessageUrls(e));
  return out;
}
