import { XMLParser } from 'fast-xml-parser';
import type { InboundMessage } from './types';

/** What a machine-readable report (ACNS XML, X-ARF) says, before classification against this site. */
export interface StructuredReport {
  source: 'acns' | 'xarf';
  infringingUrls: string[];
  originalUrls: string[];
  workDescription: string | null;
  name: string | null;
  organization: string | null;
  email: string | null;
  phone: string | null;
  address: string | null;
  country: string | null;
}

const MAX_XML = 2 * 1024 * 1024;

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  processEntities: false, // no entity expansion at all: a billion-laughs document stays small
  parseTagValue: false,
  trimValues: true,
});

/** ACNS and X-ARF reports found in the message: attachments first, then inline in the text. */
export function readStructured(msg: InboundMessage): StructuredReport[] {
  const out: StructuredReport[] = [];
  const xarf = /^yes$/i.test(msg.headers['x-arf'] ?? '') || /x-arf/i.test(msg.headers['content-type'] ?? '');
  for (const a of msg.attachments) {
    if (!a.content.length || a.content.length > MAX_XML) continue;
    const name = a.filename ?? '';
    if (/xml/.test(a.contentType) || /\.xml$/i.test(name)) {
      const r = readAcns(a.content.toString('utf8'));
      if (r) out.push(r);
    } else if (
      /json/.test(a.contentType) ||
      /\.json$/i.test(name) ||
      /\.ya?ml$/i.test(name) ||
      (xarf && /^text\/plain/.test(a.contentType))
    ) {
      const r = readXarf(a.content.toString('utf8'));
      if (r) out.push(r);
    }
  }
  const text = msg.text ?? '';
  const inline = inlineAcns(text.length > MAX_XML ? text.slice(0, MAX_XML) : text);
  if (inline) {
    const r = readAcns(inline);
    if (r) out.push(r);
  }
  if (xarf && !out.some((r) => r.source === 'xarf') && text) {
    const r = readXarf(text);
    if (r) out.push(r);
  }
  return out;
}

/**
 * The first `<Infringement …>…</Infringement>` in a text. The end is searched once, after the first
 * opening (an end after a later opening is after the first too): a lazy regex searched to the end
 * of the text from every opening that has no end, quadratic (400 KB of openings took 2.8 s).
 */
function inlineAcns(text: string): string | null {
  const open = /<\s*(?:[A-Za-z]+:)?Infringement[\s>]/.exec(text);
  if (!open) return null;
  const close = /<\/\s*(?:[A-Za-z]+:)?Infringement\s*>/g;
  close.lastIndex = open.index + open[0].length;
  return close.exec(text) ? text.slice(open.index, close.lastIndex) : null;
}

/** A value without one quote at each end (`'x'`, `"x"`, or either alone). */
function unquote(v: string): string {
  const from = v.startsWith("'") || v.startsWith('"') ? 1 : 0;
  const to = v.length > from && (v.endsWith("'") || v.endsWith('"')) ? v.length - 1 : v.length;
  return v.slice(from, to);
}

/** An ACNS `Infringement` document (the vendors' Automated Copyright Notice System XML). */
export function readAcns(source: string): StructuredReport | null {
  if (!/Infringement/.test(source)) return null;
  let doc: Record<string, unknown>;
  try {
    doc = xml.parse(source) as Record<string, unknown>;
  } catch {
    return null;
  }
  const inf = doc.Infringement as Record<string, unknown> | undefined;
  if (!inf || typeof inf !== 'object') return null;
  const complainant = obj(inf.Complainant);
  const items = arr(obj(inf.Content).Item);
  const infringing: string[] = [];
  const titles: string[] = [];
  for (const it of items) {
    const item = obj(it);
    for (const u of arr(item.URL)) if (typeof str(u) === 'string') infringing.push(str(u)!);
    const title = str(item.Title);
    if (title) titles.push(title);
  }
  const sourceUrl = str(obj(inf.Source).URL_Base) ?? str(obj(inf.Source).URL);
  if (sourceUrl) infringing.push(sourceUrl);
  return {
    source: 'acns',
    infringingUrls: infringing.filter((u) => /^https?:\/\//i.test(u)),
    originalUrls: [],
    workDescription: titles.length ? titles.join('; ') : null,
    name: str(complainant.Contact),
    organization: str(complainant.Entity),
    email: str(complainant.Email)?.toLowerCase() ?? null,
    phone: str(complainant.Phone),
    address: str(complainant.Address),
    country: null,
  };
}

/**
 * An X-ARF report: v0.1/v0.2 YAML ("Key: value" lines) or XARF 4 JSON. The reported source URL is
 * the infringing URL; other URLs named (the work) are original URLs.
 */
export function readXarf(source: string): StructuredReport | null {
  const trimmed = source.trim();
  if (trimmed.startsWith('{')) {
    try {
      return fromXarfJson(JSON.parse(trimmed) as Record<string, unknown>);
    } catch {
      return null;
    }
  }
  const fields: Record<string, string> = {};
  // The first 500 lines, without splitting the whole text (it may be 25 MB) into an array.
  for (let at = 0, n = 0; at < trimmed.length && n < 500; n++) {
    const nl = trimmed.indexOf('\n', at);
    const line = trimmed.slice(at, nl < 0 ? trimmed.length : nl).replace(/\r$/, '');
    at = nl < 0 ? trimmed.length : nl + 1;
    // `Key: 'value'`: one pass. `\s*['"]?(.*?)['"]?\s*$` tried the end from every character
    // (a line of 20,000 spaces took 0.9 s).
    const m = /^([A-Za-z][A-Za-z0-9-]*)\s*:(.*)$/.exec(line);
    if (m && !(m[1]!.toLowerCase() in fields)) fields[m[1]!.toLowerCase()] = unquote(m[2]!.trim());
  }
  if (!fields['reported-from'] && !fields['report-type'] && !fields['source-type']) return null;
  const src = fields.source ?? '';
  const infringing = /^https?:\/\//i.test(src) ? [src] : [];
  const original = ['original-url', 'work-url', 'original']
    .map((k) => fields[k])
    .filter((u): u is string => !!u && /^https?:\/\//i.test(u));
  return {
    source: 'xarf',
    infringingUrls: infringing,
    originalUrls: original,
    workDescription: fields['work-title'] ?? fields.title ?? fields.description ?? null,
    name: null,
    organization: fields.organisation ?? fields.organization ?? null,
    email: fields['reported-from']?.toLowerCase() ?? null,
    phone: null,
    address: null,
    country: null,
  };
}

function fromXarfJson(doc: Record<string, unknown>): StructuredReport | null {
  const report = obj(doc.Report ?? doc.report);
  const reporter = obj(doc.ReporterInfo ?? doc.reporter);
  if (!Object.keys(report).length) return null;
  const src = obj(report.Source ?? report.source);
  const url = str(report.Url ?? report.URL ?? report.url ?? src.URL ?? src.Url ?? src.url);
  const original = [report.OriginalUrl, report.Original_URL, report.original_url, report.OriginalURL]
    .map(str)
    .filter((u): u is string => !!u);
  return {
    source: 'xarf',
    infringingUrls: url && /^https?:\/\//i.test(url) ? [url] : [],
    originalUrls: original,
    workDescription: str(report.Title ?? report.Description ?? report.description ?? report.Work) ?? null,
    name: str(reporter.ReporterContactName ?? reporter.contact),
    organization: str(reporter.ReporterOrg ?? reporter.org),
    email: str(reporter.ReporterContactEmail ?? reporter.ReporterOrgEmail ?? reporter.email)?.toLowerCase() ?? null,
    phone: str(reporter.ReporterContactPhone),
    address: null,
    country: null,
  };
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : Array.isArray(v) && v[0] && typeof v[0] === 'object'
      ? (v[0] as Record<string, unknown>)
      : {};
}
function arr(v: unknown): unknown[] {
  return v == null ? [] : Array.isArray(v) ? v : [v];
}
function str(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() || null;
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object' && '#text' in v) return str((v as Record<string, unknown>)['#text']);
  return null;
}
