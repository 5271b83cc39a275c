/**
 * URL normalisation (SPEC §2): the one function every part of the product uses to decide whether
 * two URLs name the same page. Item lookups (a notice's URLs against the registry), the unique
 * original-URL index and the triage flags all compare normalised forms.
 *
 * The normal form: `scheme://host[:port]path[?query]`
 *   - scheme and host lower-case; IDN hosts in punycode (the WHATWG URL parser does both);
 *     a trailing dot and one leading `www.` dropped from the host
 *   - the default port dropped; user name and password dropped
 *   - the fragment dropped
 *   - tracking parameters (utm_*, fbclid, gclid, mc_cid, mc_eid, …) dropped, the rest sorted
 *   - trailing slashes dropped (the root path becomes empty)
 *   - `%`-escapes with upper-case hex; escapes of unreserved characters (A–Z a–z 0–9 - . _ ~)
 *     decoded; everything the parser encodes (spaces, non-ASCII, quotes) encoded
 * Anything that is not an absolute (or base-resolved) http(s) URL gives `null`.
 */

/** Query parameters that only track a click and never change the page. Compared lower-case. */
const TRACKING_PARAMS = new Set([
  'fbclid',
  'gclid',
  'dclid',
  'gbraid',
  'wbraid',
  'gclsrc',
  'msclkid',
  'yclid',
  'twclid',
  'ttclid',
  'li_fat_id',
  'mc_cid',
  'mc_eid',
  'igshid',
  'igsh',
  '_hsenc',
  '_hsmi',
  '__hssc',
  '__hstc',
  '__hsfp',
  'hsctatracking',
  'mkt_tok',
  'oly_anon_id',
  'oly_enc_id',
  'vero_id',
  'vero_conv',
  'rb_clickid',
  's_cid',
  'ref_src',
  'ref_url',
  '_ga',
  '_gl',
  'spm',
  'scid',
  'ncid',
  'cmpid',
  'wt.mc_id',
  'at_medium',
  'at_campaign',
  'sr_share',
]);
const TRACKING_PREFIXES = ['utm_', 'pk_', 'mtm_', 'matomo_', 'piwik_', 'hmb_', 'ga_'];

export function isTrackingParam(name: string): boolean {
  const n = name.toLowerCase();
  return TRACKING_PARAMS.has(n) || TRACKING_PREFIXES.some((p) => n.startsWith(p));
}

const MAX_INPUT = 8192;

export function normaliseUrl(input: string, base?: string): string | null {
  if (typeof input !== 'string') return null;
  const trimmed = input.trim();
  if (!trimmed || trimmed.length > MAX_INPUT) return null;
  let url: URL;
  try {
    url = base ? new URL(trimmed, base) : new URL(trimmed);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  let host = trimTrailing(url.hostname, '.');
  if (!host) return null;
  if (host.startsWith('www.') && host.length > 4) host = host.slice(4);
  const port = url.port ? `:${url.port}` : '';
  const path = trimTrailing(normaliseEscapes(url.pathname), '/');
  const query = normaliseQuery(url.search);
  return `${url.protocol}//${host}${port}${path}${query}`;
}

/** The host of a URL as the normal form has it (lower-case, punycode, no `www.`), or null. */
export function hostOf(input: string): string | null {
  const n = normaliseUrl(input);
  return n ? new URL(n).hostname : null;
}

/** A bare domain as users type it ("WWW.Example.org", "example.org/") in the normal host form. */
export function normaliseDomain(input: string): string | null {
  const raw = trimTrailing(input.trim(), '/');
  if (!raw || /[\s/?#@]/.test(raw)) return null;
  return hostOf(`http://${raw}`);
}

/**
 * `s` without the run of `char` at its end. Not `/\/+$/`: a regex tries the run from each of its
 * characters and fails at the end, so 8,000 slashes and one letter took 0.1 s, per URL (issue 18).
 */
export function trimTrailing(s: string, char: string): string {
  const code = char.charCodeAt(0);
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === code) end--;
  return end === s.length ? s : s.slice(0, end);
}

function normaliseQuery(search: string): string {
  if (search.length <= 1) return '';
  const kept: { key: string; pair: string }[] = [];
  for (const part of search.slice(1).split('&')) {
    if (!part) continue;
    const pair = normaliseEscapes(part);
    const eq = pair.indexOf('=');
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    if (!rawKey && eq !== -1 && pair.length === 1) continue; // a lone "="
    if (isTrackingParam(safeDecode(rawKey))) continue;
    kept.push({ key: rawKey, pair });
  }
  if (!kept.length) return '';
  kept.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.pair < b.pair ? -1 : a.pair > b.pair ? 1 : 0));
  return '?' + kept.map((k) => k.pair).join('&');
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Upper-case every %-escape; decode the ones that stand for an unreserved character. */
function normaliseEscapes(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
