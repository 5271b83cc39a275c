import { normaliseUrl, trimTrailing } from '../../../shared/url';
import { autoReplyReason } from './classify';
import { findComplainant } from './complainant';
import { findStatements, sentences } from './statements';
import { readStructured, type StructuredReport } from './structured';
import { messageText, splitReply, unwrapForwarded, withoutQuotes } from './text';
import { acceptTldOf, findHtmlLinks, findTextUrls, MAX_URLS } from './urls';
import type { ExtractedNotice, InboundMessage, MissingElement, ParseContext, StatementKey } from './types';

const PARAGRAPHS: Record<StatementKey, { paragraph: string; message: string }> = {
  signature: {
    paragraph: '§ 512(c)(3)(A)(i)',
    message: 'Your physical or electronic signature: type your full name (for example "/s/ Jane Doe").',
  },
  workDescription: {
    paragraph: '§ 512(c)(3)(A)(ii)',
    message: 'Identify the copyrighted work you say is infringed: describe it, and give its URL where it is online.',
  },
  infringingUrls: { paragraph: '§ 512(c)(3)(A)(iii)', message: 'Give the exact URL(s) on this site of the material you want removed.' },
  contact: {
    paragraph: '§ 512(c)(3)(A)(iv)',
    message: 'Your contact information: your full name, with your postal address and phone number where you can.',
  },
  goodFaith: {
    paragraph: '§ 512(c)(3)(A)(v)',
    message:
      'A statement that you have a good faith belief that the use of the material is not authorized by the copyright owner, its agent, or the law.',
  },
  accuracy: {
    paragraph: '§ 512(c)(3)(A)(vi)',
    message:
      'A statement that the information in the notice is accurate, and under penalty of perjury, that you are the owner or authorized to act on behalf of the owner.',
  },
  rightsOwner: { paragraph: '§ 512(c)(3)(A)(vi)', message: 'As an agent, name the copyright owner you act for.' },
};

/** Prose read for statements and the complainant (URLs are read from the whole text). */
const MAX_PROSE = 256 * 1024;

const WORK =
  /\bcopyright(?:s|ed)?\b|\bsource code|\bproprietary|\bintellectual property|\bisbn\b|\b(?:book|title|novel|textbook|font|theme|template|plugin)s?\b|\boriginal (?:work|content|code|source|article|photo|image|video|software|material)|\b(?:our|my|their|client'?s?) (?:work|software|code|source code|product|game|book|film|movie|video|content|app|application|repository|project|photos?|images?|articles?|music|songs?|font|theme|plugin|library)\b|\bwork(?:s)? (?:titled|entitled|called|named)\b|\b(?:titled|entitled)\b/i;

/**
 * A message → the fields of a notice and the elements it lacks (SPEC §4, §12). Pure: no I/O; the
 * caller says which URLs are ours (`ctx`). Never throws; hostile input yields what can be read.
 */
export function parseNoticeEmail(msg: InboundMessage, ctx: ParseContext): ExtractedNotice {
  const auto = autoReplyReason(msg);
  const fullText = messageText(msg);
  const fwd = unwrapForwarded(fullText);
  const embedded = !fwd.forwardedFrom && msg.embedded?.length ? msg.embedded[0]! : null;
  const ownText = embedded ? `${fullText}\n\n${messageText(embedded)}` : fwd.text;
  const parts = splitReply(fwd.text);
  const readable = embedded ? withoutQuotes(ownText) : parts.own;
  const structured = [...readStructured(msg), ...(msg.embedded ?? []).flatMap(readStructured)];

  const { infringingUrls, originalUrls } = classifyUrls(msg, readable, structured, ctx);
  // Statements and the signature block are prose: a huge text is read by its head and its tail only.
  const prose = readable.length > MAX_PROSE ? `${readable.slice(0, MAX_PROSE - 64 * 1024)}\n\n${readable.slice(-64 * 1024)}` : readable;
  const ss = sentences(prose);
  const st = findStatements(prose);
  const who = findComplainant(prose, ss);
  const s0 = structured[0];
  const forwardedFrom = fwd.forwardedFrom ?? (embedded ? embedded.from : null);
  const sender = forwardedFrom?.address ? forwardedFrom : msg.from;
  const name = who.name ?? s0?.name ?? sender.name ?? null;
  const workDescription = findWorkDescription(prose) ?? s0?.workDescription ?? null;
  const out: ExtractedNotice = {
    kind: 'notice',
    reason: null,
    infringingUrls,
    originalUrls,
    goodFaith: st.goodFaith,
    accuracy: st.accuracy,
    signature: who.signature,
    name,
    email: sender.address ?? s0?.email ?? null,
    organization: who.organization ?? s0?.organization ?? null,
    phone: who.phone ?? s0?.phone ?? null,
    address: who.address ?? s0?.address ?? null,
    country: who.country ?? s0?.country ?? null,
    role: who.role,
    rightsOwner: who.rightsOwner ?? (who.role === 'owner' ? (who.organization ?? name) : null),
    workDescription,
    body: parts.visible,
    forwardedFrom,
    missing: [],
    complete: false,
    goodFaithStatement: st.goodFaithStatement,
    accuracyStatement: st.accuracyStatement,
    sources: [...(structured.length ? structured.map((s) => s.source) : []), 'text'],
  };
  if (auto) return { ...out, kind: 'auto_reply', reason: auto };
  if (!infringingUrls.length && !originalUrls.length && !st.goodFaith && !st.accuracy) {
    return { ...out, kind: 'not_a_notice', reason: 'no URL and no statement' };
  }
  out.missing = missingElements(out);
  out.complete = out.missing.length === 0;
  return out;
}

function missingElements(n: ExtractedNotice): MissingElement[] {
  const keys: StatementKey[] = [];
  if (!n.signature) keys.push('signature');
  if (!n.workDescription && !n.originalUrls.length) keys.push('workDescription');
  if (!n.infringingUrls.length) keys.push('infringingUrls');
  if (!(n.name ?? n.signature) || !n.email) keys.push('contact');
  if (!n.goodFaith) keys.push('goodFaith');
  if (!n.accuracy) keys.push('accuracy');
  if (n.role === 'agent' && !n.rightsOwner) keys.push('rightsOwner');
  return keys.map((element) => ({ element, ...PARAGRAPHS[element] }));
}

function findWorkDescription(text: string): string | null {
  for (const para of text.split(/\n\s*\n/)) {
    const flat = para.replace(/\s+/g, ' ').trim();
    for (const s of flat.split(/(?<=[.!?])\s+/)) {
      if (/perjury|good[\s-]*faith/i.test(s)) continue;
      if (WORK.test(s) && s.length >= 20) return s.slice(0, 2000);
    }
  }
  return null;
}

/** Every URL of the message, normalised, split into targets (this site, our items' originals) and the rest. */
function classifyUrls(
  msg: InboundMessage,
  text: string,
  structured: StructuredReport[],
  ctx: ParseContext,
): { infringingUrls: string[]; originalUrls: string[] } {
  const base = normaliseUrl(ctx.publicBaseUrl) ?? '';
  if (base) acceptTldOf(base);
  const baseHost = base ? new URL(base).host : '';
  const baseScheme = base ? new URL(base).protocol : 'https:';
  const basePath = base ? trimTrailing(new URL(base).pathname, '/') : '';
  const infringing: string[] = [];
  const original: string[] = [];
  const seenT = new Set<string>();
  const seenO = new Set<string>();
  const isOurs = (n: string) => {
    const u = new URL(n);
    return u.host === baseHost && (basePath === '' || u.pathname === basePath || u.pathname.startsWith(basePath + '/'));
  };
  const target = (n: string) => {
    if (!seenT.has(n)) {
      seenT.add(n);
      infringing.push(n);
    }
  };
  const other = (n: string) => {
    if (!seenO.has(n)) {
      seenO.add(n);
      original.push(n);
    }
  };
  const take = (raw: string[], declaredOriginal: boolean) => {
    for (const u of raw) {
      if (infringing.length + original.length >= MAX_URLS) return;
      let n = normaliseUrl(u);
      if (!n) continue;
      if (baseHost && isOurs(n)) {
        // This site's home page names the site, not a page on it ("your site https://desk.example hosts…").
        if (trimTrailing(new URL(n).pathname, '/') === basePath) continue;
        // A bare "desk.example/items/x" was read as http://: this site's own scheme is meant.
        if (!n.startsWith(baseScheme)) n = baseScheme + n.slice(n.indexOf('//'));
        if (!declaredOriginal) target(n);
      } else if (safeIsOriginal(ctx, n)) {
        target(n);
        other(n);
      } else other(n);
    }
  };
  for (const r of structured) {
    take(r.infringingUrls, false);
    take(r.originalUrls, true);
  }
  take(findTextUrls(text), false);
  if (msg.html && (!msg.text || !msg.text.trim())) take(findHtmlLinks(msg.html), false);
  for (const a of msg.attachments) {
    if ((/^text\/(plain|csv)/.test(a.contentType) || /\.(txt|csv)$/i.test(a.filename ?? '')) && a.content.length <= 2 * 1024 * 1024) {
      take(findTextUrls(a.content.toString('utf8')), false);
    }
  }
  return { infringingUrls: infringing, originalUrls: original.filter((u) => !seenT.has(u) || safeIsOriginal(ctx, u)) };
}

function safeIsOriginal(ctx: ParseContext, n: string): boolean {
  try {
    return ctx.isItemOriginalUrl(n) === true;
  } catch {
    return false;
  }
}
