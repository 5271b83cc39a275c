import { Parser } from 'htmlparser2';
import { TextDecoder } from 'node:util';
import { htmlToText, type RightsSignals } from '../items';
import { canonicalLinksIn, chooseOriginal, EntryUrl } from './entry-urls';

/**
 * RSS 2.0 (and 0.9x / 1.0 RDF) and Atom 1.0, read with htmlparser2 (a streaming, SAX-style parser) in XML mode. htmlparser2 gives
 * the source offsets of every element, so each entry's raw XML is kept exactly as it was in the
 * feed (its SHA-256 is provenance), and it notices unclosed elements, so a truncated or broken
 * document is refused instead of half-imported. It never expands DTD entities (no billion laughs,
 * no external entities).
 */

export class FeedParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedParseError';
  }
}

export interface FeedEntry {
  /** RSS `<guid>`, Atom `<id>`, or null. */
  guid: string | null;
  /** The original article's URL (absolute): the publisher's own address, never a feed proxy's when the entry has better (entry-urls.ts); or null. */
  link: string | null;
  /** Every address the entry gives for the article (the original included), with where it came from. */
  urls: EntryUrl[];
  title: string;
  /** Whether `title` is HTML (RSS titles in the wild, Atom `type="html"`/`"xhtml"`) rather than plain text. */
  titleIsHtml: boolean;
  author: string | null;
  publishedAt: Date | null;
  /** The fullest content HTML the entry has (content:encoded, Atom content, description, summary). */
  contentHtml: string;
  rights: RightsSignals;
  /** The entry's XML exactly as it appeared in the feed. */
  raw: string;
}

export interface ParsedFeed {
  format: 'rss' | 'atom' | 'rdf';
  title: string;
  link: string | null;
  entries: FeedEntry[];
}

interface Node {
  name: string;
  attrs: Record<string, string>;
  children: (Node | string)[];
  start: number;
  end: number;
  innerStart: number;
  innerEnd: number;
}

/** Decodes the bytes of a feed: BOM, then the XML declaration's encoding, then the HTTP charset, else UTF-8. */
export function decodeFeed(bytes: Buffer, contentType?: string | null): string {
  const d = feedDecoder(contentType);
  d.write(bytes);
  return d.end();
}

/** The first bytes that choose the encoding (BOM, XML declaration). */
const HEAD_BYTES = 200;

export interface FeedDecoder {
  write(chunk: Buffer): void;
  /** The whole document's text. */
  end(): string;
}

/**
 * `decodeFeed` as the bytes arrive (issue 18: memory): an import decodes each chunk of the
 * download into text at once, so the feed is held as text only — never also as one large buffer,
 * whose memory outside V8 (malloc's heap) was not given back after the import.
 */
export function feedDecoder(contentType?: string | null): FeedDecoder {
  let head: Buffer | null = Buffer.alloc(0);
  let decoder: TextDecoder | null = null;
  const parts: string[] = [];
  const choose = (bytes: Buffer): TextDecoder => {
    if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8');
    if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le');
    if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be');
    const start = bytes.subarray(0, HEAD_BYTES).toString('latin1');
    const declared = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(start)?.[1];
    const fromHeader = contentType ? /charset\s*=\s*"?([A-Za-z0-9._-]+)/i.exec(contentType)?.[1] : undefined;
    for (const label of [declared, fromHeader]) {
      if (!label) continue;
      try {
        return new TextDecoder(label.toLowerCase());
      } catch {
        // unknown label: try the next one
      }
    }
    return new TextDecoder('utf-8');
  };
  const decode = (bytes: Buffer, last: boolean) => {
    decoder ??= choose(bytes);
    const text = decoder.decode(bytes, { stream: !last });
    if (text) parts.push(text);
  };
  return {
    write(chunk) {
      if (!head) return decode(chunk, false);
      head = Buffer.concat([head, chunk]);
      if (head.length < HEAD_BYTES) return;
      const bytes = head;
      head = null;
      decode(bytes, false);
    },
    end() {
      const bytes = head ?? Buffer.alloc(0);
      head = null;
      decode(bytes, true);
      const text = parts.length === 1 ? parts[0] : parts.join('');
      parts.length = 0;
      return text;
    },
  };
}

/** An entry of the document's feed: `<rss><channel><item>`, `<rdf:RDF><item>` (RSS 1.0), `<feed><entry>` (Atom). */
function isFeedEntry(name: string, stack: Node[]): boolean {
  const parent = stack[stack.length - 1].name;
  if (name === 'entry') return stack.length === 2 && parent === 'feed';
  if (name !== 'item') return false;
  return (stack.length === 3 && parent === 'channel' && stack[1].name === 'rss') || (stack.length === 2 && parent === 'rdf:rdf');
}

/**
 * Builds the element tree with source offsets; refuses a document whose elements do not close.
 * With `skipEntries`, an entry element (and everything inside it) is left out of the tree and only
 * its offsets are kept in `entries`: the feed's own elements are a small tree however long the feed,
 * and each entry is parsed on its own later (`feedEntries`), so no tree of the whole feed is built.
 */
function buildTree(xml: string, skipEntries = false): { root: Node; entries: number[] } {
  const root: Node = { name: '#document', attrs: {}, children: [], start: 0, end: xml.length, innerStart: 0, innerEnd: xml.length };
  const stack: Node[] = [root];
  /** Offsets of skipped entries, start and end in turn. */
  const entries: number[] = [];
  /** Depth inside a skipped entry (0: not in one). */
  let skipping = 0;
  let entryStart = 0;
  let problem: string | null = null;
  let parser: Parser;
  // eslint-disable-next-line prefer-const
  parser = new Parser(
    {
      onopentag(name, attrs) {
        if (skipping) {
          skipping++;
          return;
        }
        const lower = name.toLowerCase();
        // An entry of the document's feed: a child of <channel> (RSS 2.0), of <rdf:RDF> (RSS 1.0), or of <feed> (Atom).
        if (skipEntries && isFeedEntry(lower, stack)) {
          skipping = 1;
          entryStart = parser.startIndex;
          return;
        }
        const node: Node = {
          name: lower,
          attrs,
          children: [],
          start: parser.startIndex,
          end: -1,
          innerStart: parser.endIndex + 1,
          innerEnd: -1,
        };
        stack[stack.length - 1].children.push(node);
        stack.push(node);
      },
      onclosetag(name, isImplied) {
        if (skipping) {
          const selfClosing = xml[parser.endIndex - 1] === '/' && xml[parser.startIndex + 1] !== '/';
          if (isImplied && !selfClosing && !problem)
            problem = `the element <${name}> is never closed (the feed is truncated or not well-formed XML)`;
          if (--skipping === 0) entries.push(entryStart, parser.endIndex + 1);
          return;
        }
        const node = stack.pop();
        if (!node || node === root) return;
        // htmlparser2 reports a self-closing element (<link/>) as implied too: tell them apart.
        const selfClosing = parser.startIndex === node.start && xml[parser.endIndex - 1] === '/';
        if (isImplied && !selfClosing && !problem)
          problem = `the element <${name}> is never closed (the feed is truncated or not well-formed XML)`;
        node.innerEnd = parser.startIndex;
        node.end = parser.endIndex + 1;
        if (node.innerEnd < node.innerStart) node.innerEnd = node.innerStart; // <self-closing/>
      },
      ontext(text) {
        if (!skipping) stack[stack.length - 1].children.push(text);
      },
      onerror(err) {
        problem ??= err.message;
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.end(xml);
  if (skipping && !problem) problem = 'an entry is never closed (the feed is truncated)';
  if (stack.length > 1 && !problem) problem = `the element <${stack[stack.length - 1].name}> is never closed (the feed is truncated)`;
  if (problem) throw new FeedParseError(problem);
  return { root, entries };
}

const elements = (n: Node) => n.children.filter((c): c is Node => typeof c !== 'string');
const child = (n: Node, ...names: string[]) => elements(n).find((c) => names.includes(c.name));
const childrenNamed = (n: Node, ...names: string[]) => elements(n).filter((c) => names.includes(c.name));
function textOf(n: Node | undefined): string {
  if (!n) return '';
  let s = '';
  for (const c of n.children) s += typeof c === 'string' ? c : textOf(c);
  return s;
}
const clean = (s: string) => s.replace(/\s+/g, ' ').trim();

function resolve(href: string | null | undefined, base: string | null | undefined): string | null {
  if (!href) return null;
  try {
    const u = base ? new URL(href.trim(), base) : new URL(href.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : null;
  } catch {
    return null;
  }
}

function parseDate(s: string): Date | null {
  const t = clean(s);
  if (!t) return null;
  const d = new Date(t);
  if (!Number.isNaN(d.getTime())) return d;
  // RFC 822 with a named zone Date() does not know ("EDT" works, "CEST" does not): drop it.
  const d2 = new Date(t.replace(/\s+[A-Z]{3,5}$/, ' +0000'));
  return Number.isNaN(d2.getTime()) ? null : d2;
}

/** Atom text constructs: text, html (escaped HTML), xhtml (inline markup: taken raw from the feed). */
function atomText(n: Node | undefined, xml: string): { value: string; html: boolean } {
  if (!n) return { value: '', html: false };
  const type = (n.attrs.type ?? 'text').toLowerCase();
  if (type === 'xhtml') return { value: xml.slice(n.innerStart, n.innerEnd).trim(), html: true };
  if (type === 'html' || type === 'text/html') return { value: textOf(n), html: true };
  return { value: textOf(n), html: false };
}

const plain = (t: { value: string; html: boolean }) => (t.html ? htmlToText(t.value) : t.value);

function escapeText(s: string) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function licenceOf(n: Node): string | undefined {
  const cc = child(n, 'creativecommons:license', 'cc:license');
  if (cc) return clean(textOf(cc)) || cc.attrs['rdf:resource'] || undefined;
  const rel = childrenNamed(n, 'link', 'atom:link').find((l) => (l.attrs.rel ?? '').toLowerCase() === 'license');
  return rel?.attrs.href || undefined;
}

function compact(r: RightsSignals): RightsSignals {
  const out: RightsSignals = {};
  for (const [k, v] of Object.entries(r)) if (typeof v === 'string' && v.trim()) out[k as keyof RightsSignals] = clean(v).slice(0, 1000);
  return out;
}

/** A feed read up to its entries: the feed's own fields, and its entries one at a time. */
export interface FeedReader {
  format: 'rss' | 'atom' | 'rdf';
  title: string;
  link: string | null;
  /** How many entries the feed has. */
  count: number;
  /** Each entry, parsed when it is asked for (its tree is dropped once it is read). */
  entries(): Generator<FeedEntry>;
}

/**
 * Opens a feed without building a tree of it: one pass over the document checks that it is
 * well-formed and reads the feed's own elements (title, link, rights…), keeping only each entry's
 * offsets; `entries()` then parses one entry at a time. An import holds the document's text and
 * one batch of entries, never every entry at once (issue 18: memory).
 */
export function openFeed(xml: string, feedUrl?: string): FeedReader {
  if (!/^\s*(<\?xml|<!--|<!DOCTYPE|<[A-Za-z])/i.test(xml.slice(0, 1024).replace(/^\uFEFF/, ''))) {
    throw new FeedParseError('the response is not XML');
  }
  const { root, entries } = buildTree(xml, true);
  const top = elements(root)[0];
  if (!top) throw new FeedParseError('the response is not XML');
  if (top.name !== 'rss' && top.name !== 'rdf:rdf' && top.name !== 'feed')
    throw new FeedParseError(`not an RSS or Atom feed (the document is <${top.name.slice(0, 40)}>)`);
  const channel = top.name === 'feed' ? top : child(top, 'channel');
  if (!channel) throw new FeedParseError('an RSS document without a <channel>');
  const meta = top.name === 'feed' ? atomFeed(top, xml, feedUrl) : rssFeed(top, channel, feedUrl);
  return {
    format: top.name === 'rss' ? 'rss' : top.name === 'feed' ? 'atom' : 'rdf',
    title: meta.title,
    link: meta.link,
    count: entries.length / 2,
    *entries() {
      for (let i = 0; i < entries.length; i += 2) {
        const raw = xml.slice(entries[i], entries[i + 1]);
        const node = elements(buildTree(raw).root)[0];
        if (node) yield meta.entry(node, raw);
      }
    },
  };
}

/** The whole feed at once (tests, small feeds); imports use `openFeed`. */
export function parseFeed(xml: string, feedUrl?: string): ParsedFeed {
  const f = openFeed(xml, feedUrl);
  return { format: f.format, title: f.title, link: f.link, entries: [...f.entries()] };
}

interface FeedMeta {
  title: string;
  link: string | null;
  entry(n: Node, raw: string): FeedEntry;
}

function rssFeed(top: Node, channel: Node, feedUrl?: string): FeedMeta {
  const channelLink = resolve(clean(textOf(child(channel, 'link'))), feedUrl) ?? feedUrl ?? null;
  const channelRights = compact({
    copyright: textOf(child(channel, 'copyright')),
    dcRights: textOf(child(channel, 'dc:rights')),
    creativeCommons: licenceOf(channel),
  });
  const entry = (it: Node, raw: string): FeedEntry => {
    const guidNode = child(it, 'guid');
    const guid = clean(textOf(guidNode)) || (it.attrs['rdf:about'] ?? '').trim() || null;
    const permalink = guidNode && (guidNode.attrs.ispermalink ?? guidNode.attrs.isPermaLink ?? 'true').toLowerCase() !== 'false';
    const encoded = textOf(child(it, 'content:encoded'));
    const description = textOf(child(it, 'description'));
    const entryLink = resolve(clean(textOf(child(it, 'link'))), channelLink);
    const alternate = childrenNamed(it, 'atom:link').find((l) => (l.attrs.rel ?? 'alternate').toLowerCase() === 'alternate');
    const { original, all } = chooseOriginal([
      { url: resolve(clean(textOf(child(it, 'feedburner:origlink'))), channelLink) ?? '', kind: 'orig_link' },
      { url: (guid && permalink && resolve(guid, null)) || '', kind: 'guid' },
      { url: resolve(alternate?.attrs.href, channelLink) ?? '', kind: 'alternate' },
      { url: entryLink ?? '', kind: 'link' },
      ...canonicalLinksIn(encoded || description, entryLink ?? channelLink).map((url) => ({ url, kind: 'canonical' as const })),
    ]);
    return {
      guid,
      link: original,
      urls: all,
      // RSS says text, feeds send HTML (CDATA with <sup>, numeric entities): reduced to text on import.
      title: clean(textOf(child(it, 'title'))),
      titleIsHtml: true,
      author: clean(htmlToText(textOf(child(it, 'dc:creator')) || textOf(child(it, 'author')))) || null,
      publishedAt: parseDate(textOf(child(it, 'pubdate', 'dc:date'))),
      contentHtml: encoded.trim() ? encoded : description,
      rights: compact({
        copyright: channelRights.copyright,
        dcRights: textOf(child(it, 'dc:rights')) || channelRights.dcRights,
        creativeCommons: licenceOf(it) ?? channelRights.creativeCommons,
      }),
      raw,
    };
  };
  return { title: clean(textOf(child(channel, 'title'))), link: channelLink, entry };
}

function atomLink(n: Node, base: string | null | undefined): string | null {
  const links = childrenNamed(n, 'link');
  const alt = links.find((l) => !l.attrs.rel || l.attrs.rel.toLowerCase() === 'alternate') ?? null;
  return resolve(alt?.attrs.href, base);
}

/** Links of an entry that are not the article: the entry document itself, its editing and comment feeds, files. */
const NOT_THE_ARTICLE = new Set(['self', 'edit', 'edit-media', 'replies', 'enclosure', 'license', 'via', 'related', 'payment', 'hub']);

function atomFeed(top: Node, doc: string, feedUrl?: string): FeedMeta {
  const feedBase = resolve(top.attrs['xml:base'], feedUrl) ?? feedUrl ?? null;
  const feedLink = atomLink(top, feedBase) ?? feedBase;
  const feedRights = atomText(child(top, 'rights'), doc);
  const feedLicence = licenceOf(top);
  const feedAuthor = clean(textOf(child(child(top, 'author') ?? top, 'name')));
  const entry = (e: Node, xml: string): FeedEntry => {
    const base = resolve(e.attrs['xml:base'], feedBase) ?? feedBase;
    const title = atomText(child(e, 'title'), xml);
    const content = child(e, 'content');
    const summary = atomText(child(e, 'summary'), xml);
    let contentHtml = '';
    if (content && !content.attrs.src) {
      const c = atomText(content, xml);
      contentHtml = c.html ? c.value : escapeText(c.value).replace(/\n/g, '<br>');
    }
    if (!contentHtml.trim()) contentHtml = summary.html ? summary.value : escapeText(summary.value);
    const rights = atomText(child(e, 'rights'), xml);
    const authorNode = child(e, 'author');
    const otherLinks = childrenNamed(e, 'link').filter((l) => !NOT_THE_ARTICLE.has((l.attrs.rel ?? 'alternate').toLowerCase()));
    const alternate = atomLink(e, base);
    const { original, all } = chooseOriginal([
      { url: resolve(clean(textOf(child(e, 'feedburner:origlink'))), base) ?? '', kind: 'orig_link' },
      { url: alternate ?? '', kind: 'alternate' },
      ...otherLinks.map((l) => ({ url: resolve(l.attrs.href, base) ?? '', kind: 'link' as const })),
      ...canonicalLinksIn(contentHtml, alternate ?? base).map((url) => ({ url, kind: 'canonical' as const })),
    ]);
    return {
      guid: clean(textOf(child(e, 'id'))) || null,
      link: original,
      urls: all,
      title: clean(title.value),
      titleIsHtml: title.html,
      author: clean(htmlToText(textOf(authorNode ? child(authorNode, 'name') : undefined))) || feedAuthor || null,
      publishedAt: parseDate(textOf(child(e, 'published', 'issued')) || textOf(child(e, 'updated', 'modified'))),
      contentHtml,
      rights: compact({
        atomRights: plain(rights) || plain(feedRights),
        dcRights: textOf(child(e, 'dc:rights')),
        creativeCommons: licenceOf(e) ?? feedLicence,
      }),
      raw: xml,
    };
  };
  return { title: clean(atomText(child(top, 'title'), doc).value), link: feedLink, entry };
}
