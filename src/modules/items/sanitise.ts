import sanitizeHtml from 'sanitize-html';

/**
 * Content HTML from feeds and the API goes through here before it is stored. What comes out is the
 * only HTML the public pages print unescaped. No scripts, no event handlers, no `style`, no
 * `javascript:`/`data:` URLs, iframes only from the allow-list below; relative links and images are
 * resolved against the item's original URL so they point where the author meant.
 */
export const IFRAME_HOSTS = ['www.youtube-nocookie.com', 'player.vimeo.com'];

const ALLOWED_TAGS = [
  'p',
  'br',
  'hr',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'blockquote',
  'pre',
  'code',
  'kbd',
  'samp',
  'ul',
  'ol',
  'li',
  'dl',
  'dt',
  'dd',
  'strong',
  'b',
  'em',
  'i',
  'u',
  's',
  'sub',
  'sup',
  'small',
  'mark',
  'q',
  'cite',
  'abbr',
  'time',
  'a',
  'img',
  'figure',
  'figcaption',
  'picture',
  'table',
  'thead',
  'tbody',
  'tfoot',
  'tr',
  'th',
  'td',
  'caption',
  'iframe',
];

function absolute(value: string | undefined, base: string | undefined): string | undefined {
  if (!value) return value;
  try {
    const u = base ? new URL(value, base) : new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'mailto:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The base URL of the call in progress: `sanitizeHtml` is synchronous, so one options object serves
 * every call (issue 18: no cache of options per base URL, which a feed import of N distinct
 * original URLs filled with N closures and never hit).
 */
let baseUrl: string | undefined;

function options(): sanitizeHtml.IOptions {
  return {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: {
      a: ['href', 'title', 'rel'],
      img: ['src', 'alt', 'title', 'width', 'height', 'loading'],
      iframe: ['src', 'width', 'height', 'title', 'allowfullscreen'],
      abbr: ['title'],
      time: ['datetime'],
      th: ['scope', 'colspan', 'rowspan'],
      td: ['colspan', 'rowspan'],
      ol: ['start', 'reversed'],
      q: ['cite'],
      blockquote: ['cite'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https'], iframe: ['https'] },
    allowProtocolRelative: false,
    allowedIframeHostnames: IFRAME_HOSTS,
    allowIframeRelativeUrls: false,
    disallowedTagsMode: 'discard',
    // h1 belongs to the page's own title.
    transformTags: {
      h1: 'h2',
      a: (tagName, attribs) => {
        const href = absolute(attribs.href, baseUrl);
        const out: Record<string, string> = { rel: 'nofollow noopener ugc' };
        if (href) out.href = href;
        if (attribs.title) out.title = attribs.title;
        return { tagName, attribs: out };
      },
      img: (tagName, attribs) => {
        const src = absolute(attribs.src, baseUrl);
        const out: Record<string, string> = { ...attribs, loading: 'lazy' };
        delete out.srcset;
        if (src) out.src = src;
        else delete out.src;
        return { tagName, attribs: out };
      },
    },
    // An image or iframe whose src was refused is dropped whole.
    exclusiveFilter: (frame) => (frame.tag === 'img' || frame.tag === 'iframe') && !frame.attribs.src,
  };
}

const OPTIONS = options();

/** Sanitised HTML for an item's content; relative URLs resolved against `base` (the original URL). */
export function sanitiseContent(html: string, base?: string): string {
  if (!html) return '';
  baseUrl = base;
  try {
    return sanitizeHtml(html, OPTIONS).trim();
  } finally {
    baseUrl = undefined;
  }
}

/** Plain text of some HTML (titles given as HTML, excerpts): every tag dropped, entities decoded. */
export function htmlToText(html: string): string {
  if (!html) return '';
  // No tag and no entity: nothing to parse (most titles and names; the feed import calls this per entry).
  if (!/[<&]/.test(html)) return html.replace(/\s+/g, ' ').trim();
  const text = sanitizeHtml(html, {
    allowedTags: [],
    allowedAttributes: {},
    nonTextTags: ['script', 'style', 'textarea', 'noscript', 'iframe'],
  });
  return decodeEntities(text).replace(/\s+/g, ' ').trim();
}

/** A short plain-text excerpt (at most `max` characters, cut at a word). */
export function excerptOf(html: string, max = 280): string {
  const text = htmlToText(html);
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:]+$/, '')}…`;
}

/**
 * The excerpt of HTML that `sanitiseContent` produced, without parsing it again: its output quotes
 * and escapes every attribute value and text, so a `>` only ever ends a tag.
 */
export function excerptOfSanitised(html: string, max = 280): string {
  const text = decodeEntities(html.slice(0, max * 5).replace(/<[^>]*>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:]+$/, '')}…`;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** sanitize-html keeps text entity-encoded; text that is escaped again at output wants it decoded. */
function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
    }
    return NAMED[e.toLowerCase()] ?? m;
  });
}
