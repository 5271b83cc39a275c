/**
 * The near-duplicate signature of an article (SPEC §13). Pure functions, no I/O.
 *
 * 1. Normalise: title + body text; markup dropped (tags, scripts, styles), entities decoded,
 *    Unicode folded (NFKD, accents dropped), lower-cased, punctuation folded to spaces, and
 *    boilerplate paragraphs ("Read more…", "Subscribe…", "This article first appeared on…") dropped.
 * 2. Shingles: every run of SHINGLE_WORDS consecutive words, hashed to 32 bits; a sorted set.
 * 3. MinHash: MINHASH_BANDS × BAND_ROWS minimum values under independent hash functions, cut into
 *    bands; two texts share a band value with probability 1 - (1 - J^r)^b (J: Jaccard of the
 *    shingle sets). The bands are only a candidate filter, stored in an indexed table.
 * 4. Similarity (the decision): containment, |A ∩ B| / min(|A|, |B|) = the larger of the share of
 *    A's shingles found in B and of B's in A, computed exactly on the stored shingle sets. A copy
 *    truncated to 70% or with an added paragraph keeps a containment near 1 while its Jaccard drops.
 *
 * Why MinHash + LSH over SimHash: SimHash estimates cosine similarity of whole texts, so a copy
 * truncated to 70% or padded with paragraphs moves many bits (bench `staydown` measures it) and
 * cannot be verified as containment; MinHash bands are a plain B-tree lookup and keep recall high
 * down to Jaccard ≈ 0.5, and the exact containment check removes their false candidates.
 */

export const SHINGLE_WORDS = 4;
export const MINHASH_BANDS = 20;
export const BAND_ROWS = 3;
export const MINHASH_SIZE = MINHASH_BANDS * BAND_ROWS;
/** Below this many shingles (≈ 20 words) in the smaller text, only exact matches count. */
export const MIN_SHINGLES = 16;

const BLOCK_TAGS =
  /<\/?(?:p|div|br|li|ul|ol|h[1-6]|blockquote|pre|table|tr|td|th|section|article|header|footer|figure|figcaption|hr|dd|dt|dl)\b[^>]*>/gi;
const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '-',
  mdash: '-',
  hellip: '...',
  lsquo: "'",
  rsquo: "'",
  ldquo: '"',
  rdquo: '"',
  laquo: '"',
  raquo: '"',
  copy: '(c)',
  reg: '(r)',
  trade: '(tm)',
  shy: '',
  zwnj: '',
  zwj: '',
};

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);?/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
    }
    const v = NAMED[e.toLowerCase()];
    if (v !== undefined) return v;
    // Accented letters (&eacute; &Uuml; …): accents are folded away anyway, so the base letter.
    const accented = /^([a-z])(?:acute|grave|uml|circ|tilde|cedil|ring|slash|caron)$/i.exec(e);
    return accented ? accented[1] : m;
  });
}

/**
 * Boilerplate paragraphs that syndication adds or drops: calls to subscribe or share, "originally
 * published at", copyright lines, "read more" links. A paragraph is dropped only when it is short
 * (≤ 40 words) and one of these starts it or is most of it.
 */
const BOILERPLATE = [
  /^(?:read|see|click|continue reading|read the|read more|more:|related:|also read|recommended)\b/,
  /\b(?:subscribe|newsletter|sign up|follow us|share this|share on|like us on|all rights reserved)\b/,
  /\b(?:originally (?:published|appeared)|first (?:published|appeared)|this (?:article|story|post) (?:was|first|originally|appeared))\b/,
  /\b(?:republished (?:with|under)|syndicated (?:from|by)|reprinted with permission)\b/,
  /^(?:\(c\)|copyright\b|photo:|image:|credit:|advertisement\b|sponsored\b)/,
];

const NON_ASCII = /[^\x00-\x7f]/;

/** Lower case, accents and punctuation folded to single spaces (parentheses kept for "(c)"). */
function foldParagraph(p: string): string {
  if (!NON_ASCII.test(p))
    return p
      .toLowerCase()
      .replace(/[^a-z0-9()]+/g, ' ')
      .trim();
  return p
    .replace(/©/g, '(c)')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}()]+/gu, ' ')
    .trim();
}

function isBoilerplate(folded: string): boolean {
  let words = 1;
  for (let i = 0; i < folded.length && words <= 40; i++) if (folded.charCodeAt(i) === 32) words++;
  return words <= 40 && BOILERPLATE.some((re) => re.test(folded));
}

/** The article's paragraphs as plain text: markup dropped, entities decoded (the title first). */
function paragraphsOf(title: string, html: string): string[] {
  const body = String(html ?? '')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style|noscript|template)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(BLOCK_TAGS, '\n\n')
    .replace(/<[^>]*>/g, '');
  return [decodeEntities(String(title ?? '').replace(/<[^>]*>/g, '')), ...decodeEntities(body).split(/\n\s*\n/)];
}

/** The words of an article's title and HTML body after normalisation (see above). */
export function normaliseText(title: string, html: string): string[] {
  const words: string[] = [];
  for (const p of paragraphsOf(title, html)) {
    const folded = foldParagraph(p);
    if (!folded || isBoilerplate(folded)) continue;
    for (const w of folded.split(/[\s()]+/)) if (w) words.push(w);
  }
  return words;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * `normaliseText(…).map(wordHash)` without building the strings (the import's hot path): ASCII
 * paragraphs are lower-cased and hashed in one pass; any other goes through `foldParagraph`.
 */
export function wordHashesOf(title: string, html: string): Uint32Array {
  const out: number[] = [];
  for (const p of paragraphsOf(title, html)) {
    const start = out.length;
    let h = FNV_OFFSET;
    let len = 0;
    let ascii = true;
    for (let i = 0; i < p.length; i++) {
      let c = p.charCodeAt(i);
      if (c >= 128) {
        ascii = false;
        break;
      }
      if (c >= 65 && c <= 90) c += 32;
      if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
        h = Math.imul(h ^ c, FNV_PRIME);
        len++;
      } else if (len) {
        out.push(h >>> 0);
        h = FNV_OFFSET;
        len = 0;
      }
    }
    if (ascii && len) out.push(h >>> 0);
    if (!ascii || out.length - start <= 40) {
      // Short (possible boilerplate) or non-ASCII paragraphs: the string path decides.
      out.length = start;
      const folded = foldParagraph(p);
      if (!folded || isBoilerplate(folded)) continue;
      for (const w of folded.split(/[\s()]+/)) if (w) out.push(wordHash(w));
    }
  }
  return Uint32Array.from(out);
}

/** murmur3's 32-bit finaliser: a cheap, well-mixed hash of a 32-bit value. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function wordHash(w: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

/** The sorted, de-duplicated 32-bit (signed, for PostgreSQL `int4[]`) hashes of the word shingles. */
export function shingles(words: string[]): Int32Array {
  const hashes = new Uint32Array(words.length);
  for (let i = 0; i < words.length; i++) hashes[i] = wordHash(words[i]);
  return shinglesOfHashes(hashes);
}

/** The same from word hashes (`wordHashesOf`). */
export function shinglesOfHashes(hashes: Uint32Array): Int32Array {
  if (!hashes.length) return new Int32Array(0);
  const n = Math.max(1, hashes.length - SHINGLE_WORDS + 1);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let h = 0x9747b28c;
    const end = Math.min(i + SHINGLE_WORDS, hashes.length);
    for (let j = i; j < end; j++) h = Math.imul((h ^ hashes[j]) + 0x7f4a7c15, 0x5bd1e995) ^ (h >>> 15);
    out[i] = fmix32(h) | 0;
  }
  out.sort();
  let k = 0;
  for (let i = 0; i < out.length; i++) if (i === 0 || out[i] !== out[k - 1]) out[k++] = out[i];
  return out.slice(0, k);
}

// Fixed multipliers/offsets for the MinHash family (xorshift from a constant seed: stable forever,
// because stored band values must be computed the same way by every version).
const MULT = new Uint32Array(MINHASH_SIZE);
const ADD = new Uint32Array(MINHASH_SIZE);
{
  let s = 0x2545f491;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  for (let i = 0; i < MINHASH_SIZE; i++) {
    MULT[i] = next() | 1;
    ADD[i] = next();
  }
}

/** MINHASH_SIZE minimum values (unsigned 32-bit) of the shingle set; all 0xffffffff for an empty set. */
export function minhash(set: Int32Array): Uint32Array {
  const mins = new Uint32Array(MINHASH_SIZE).fill(0xffffffff);
  for (let j = 0; j < set.length; j++) {
    const x = fmix32(set[j]);
    for (let i = 0; i < MINHASH_SIZE; i++) {
      const v = (Math.imul(x, MULT[i]) + ADD[i]) >>> 0;
      if (v < mins[i]) mins[i] = v;
    }
  }
  return mins;
}

/**
 * One value per band: the band's index (5 bits) and 48 bits of hash of its rows, as a positive
 * integer below 2^53 (exact as a JS number and as a PostgreSQL `bigint`).
 */
export function lshBands(mins: Uint32Array): number[] {
  const out: number[] = [];
  for (let b = 0; b < MINHASH_BANDS; b++) {
    let h1 = 0x3c6ef372 ^ b;
    let h2 = 0xa54ff53a ^ (b * 0x9e3779b9);
    for (let r = 0; r < BAND_ROWS; r++) {
      const v = mins[b * BAND_ROWS + r];
      h1 = fmix32(Math.imul(h1 ^ v, 0xcc9e2d51));
      h2 = fmix32(Math.imul(h2 + v, 0x1b873593));
    }
    out.push((b * 0x10000 + (h1 & 0xffff)) * 0x100000000 + h2);
  }
  return out;
}

/** |A ∩ B| of two sorted sets. */
export function intersectionSize(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      n++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return n;
}

/** Containment similarity: max(|A∩B|/|A|, |A∩B|/|B|); 0 when either text is too short to judge. */
export function containment(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const small = Math.min(a.length, b.length);
  if (small < MIN_SHINGLES) return 0;
  return intersectionSize(a, b) / small;
}

export interface Signature {
  shingles: Int32Array;
  bands: number[];
}

/** Everything the bank stores or looks up for one article. */
export function signatureOf(title: string, html: string): Signature {
  const set = shinglesOfHashes(wordHashesOf(title, html));
  return { shingles: set, bands: set.length >= MIN_SHINGLES ? lshBands(minhash(set)) : [] };
}

/** Similarity of two articles (tests, the bench and the moderators' page). */
export function similarityOf(a: { title: string; html: string }, b: { title: string; html: string }): number {
  return containment(shingles(normaliseText(a.title, a.html)), shingles(normaliseText(b.title, b.html)));
}

/**
 * The differing passages for the moderators' side-by-side view: each text's paragraphs, with those
 * whose shingles are mostly (< 50%) absent from the other text marked.
 */
export function markDifferences(a: { title: string; html: string }, b: { title: string; html: string }) {
  const paras = (html: string) =>
    String(html ?? '')
      .replace(BLOCK_TAGS, '\n\n')
      .replace(/<[^>]*>/g, '')
      .split(/\n\s*\n/)
      .map((p) => decodeEntities(p).replace(/\s+/g, ' ').trim())
      .filter(Boolean);
  const setA = shingles(normaliseText(a.title, a.html));
  const setB = shingles(normaliseText(b.title, b.html));
  const mark = (list: string[], other: Int32Array) =>
    list.map((text) => {
      // Every word of the passage, boilerplate too: an added "originally appeared on…" is a difference to show.
      const own = shingles(
        foldParagraph(text)
          .split(/[\s()]+/)
          .filter(Boolean),
      );
      const shared = own.length ? intersectionSize(own, other) / own.length : 1;
      return { text, differs: shared < 0.5 };
    });
  return { a: mark(paras(a.html), setB), b: mark(paras(b.html), setA) };
}
