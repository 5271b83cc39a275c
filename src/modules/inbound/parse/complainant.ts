/**
 * Who sent the notice and for whom: the signature (`/s/ Name`, a "Signature:" line, a name under a
 * closing, a typed name under a form's "type your full name"), name, organisation, phone, postal
 * address, country, and owner vs agent. Labelled lines ("Phone: …") win over guesses from the
 * signature block.
 */

export interface Complainant {
  signature: string | null;
  name: string | null;
  organization: string | null;
  phone: string | null;
  address: string | null;
  country: string | null;
  role: 'owner' | 'agent' | null;
  rightsOwner: string | null;
}

const CLOSING = /^\s*(?:(?:very\s+)?(?:sincerely|respectfully|cordially|faithfully|truly)(?:\s+yours)?|yours\s+(?:sincerely|truly|faithfully|respectfully)|(?:best|kind|warm|warmest)?\s*regards|best(?:\s+wishes)?|thanks?(?:\s+you)?(?:\s+(?:in advance|for your (?:prompt )?(?:attention|assistance|help|cooperation)[^,]*))?|many thanks|with thanks|signed|regards|mit freundlichen gr(?:ü|ue)(?:ß|ss)en|cordialement|atentamente|saludos)\s*[,.!:-]*\s*$/i;
const SIGN_LABEL = /^\s*(?:electronic\s+|digital\s+|e-)?(?:signature|signed(?:\s+by)?|sign)\s*[:\-–]\s*(.+)$/i;
const TYPE_NAME = /type (?:your|the) (?:full )?(?:legal )?name|(?:full )?legal name (?:below|here)|sign (?:this|the) (?:request|notice|notification) (?:by typing|below)|to sign this/i;
const SLASH_S = /\/s\/\s*([^\n/]{2,80})/i;

/** A line that can be a person's (or a redacted) name: a few words, no digits, no address signs. */
export function looksLikeName(line: string): boolean {
  const t = line.trim().replace(/^\/s\/\s*/i, '');
  if (/^\[(?:private|redacted)\]$/i.test(t)) return true;
  if (!t || t.length > 60 || /[@:/\\<>{}=|#$%^*_~]|\d|https?/i.test(t)) return false;
  const words = t.split(/\s+/);
  if (words.length > 6) return false;
  if (CLOSING.test(t)) return false;
  return /^[\p{Lu}\[]/u.test(t) || words.every((w) => /^[\p{L}.'-]+$/u.test(w));
}

function labelled(lines: string[], label: RegExp): string | null {
  for (let i = 0; i < lines.length; i++) {
    const m = label.exec(lines[i]!);
    if (!m) continue;
    const v = (m[1] ?? '').trim();
    if (v) return v.slice(0, 300);
    const next = lines.slice(i + 1, i + 3).find((l) => l.trim());
    if (next && !/^\s*[A-Za-z][A-Za-z /-]{1,30}:/.test(next)) return next.trim().slice(0, 300);
  }
  return null;
}

export function findSignature(lines: string[]): string | null {
  for (const l of lines) {
    const m = SLASH_S.exec(l);
    if (m) return m[1]!.trim().replace(/[,.;]+$/, '');
  }
  for (const l of lines) {
    const m = SIGN_LABEL.exec(l);
    if (m && looksLikeName(m[1]!)) return m[1]!.trim();
  }
  for (let i = 0; i < lines.length; i++) {
    if (TYPE_NAME.test(lines[i]!)) {
      const next = lines.slice(i + 1, i + 4).find((l) => l.trim());
      if (next && looksLikeName(next)) return next.trim();
    }
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!CLOSING.test(lines[i]!)) continue;
    const next = lines.slice(i + 1, i + 4).find((l) => l.trim());
    if (next && looksLikeName(next)) return next.trim();
  }
  return null;
}

const PHONE_LABEL = /^\s*(?:phone|tel(?:ephone)?|mobile|cell|ph|telefon|téléphone)(?:\s+(?:number|no\.?|#))?\s*[:\-–.]\s*(.*)$/i;
const ADDRESS_LABEL = /^\s*(?:(?:postal|mailing|physical|street|business|my|our)\s+)?address(?:\s*\(.*?\))?\s*[:\-–]\s*(.*)$/i;
const ORG_LABEL = /^\s*(?:company(?:\s+name)?|organi[sz]ation|employer|firm|entity|business(?:\s+name)?|corporation)\s*[:\-–]\s*(.+)$/i;
const NAME_LABEL = /^\s*(?:(?:full|legal|your|my|complainant(?:'s)?|contact)\s+)*name\s*[:\-–]\s*(.+)$/i;
const COUNTRY_LABEL = /^\s*country\s*[:\-–]\s*(.+)$/i;
const ORG_WORDS = /\b(?:inc|llc|l\.l\.c|ltd|limited|gmbh|corp|corporation|company|co\.|s\.a|s\.l|sas|bv|b\.v|ag|plc|pty|oy|ab|kk|llp|lp|srl|s\.r\.l|group|studios?|media|entertainment|pictures|records|publishing|games|software|technologies|labs)\b\.?/i;
const PHONE = /(?:\+|\(?\b)\d[\d\s().-]{7,18}\d\b/;
const STREET = /\b\d{1,5}\s+[\p{L}0-9 .'-]{2,40}\b(?:street|st\.?|avenue|ave\.?|road|rd\.?|boulevard|blvd\.?|lane|ln\.?|drive|dr\.?|way|court|ct\.?|place|pl\.?|suite|floor|square|sq\.?|parkway|pkwy|highway|hwy|strasse|straße|rue|via|calle)\b|\b(?:p\.?\s?o\.?\s+box|suite\s+\d+)|\b[a-z]+(?:straße|strasse|weg|gasse|platz)\s+\d/iu;
const POSTCODE = /\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b|\b\d{5}\s+[\p{Lu}][\p{L}]+|\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b/u;

const AGENT = /\bon behalf of\b|\bauthori[sz]ed (?:to act|agent|representative)|\bacting (?:for|on behalf)|\bwe represent\b|\bi represent\b|\brepresent(?:s|ing)? (?:our client|the (?:copyright )?(?:owner|holder))|\bour client|\bagent (?:for|of)\b|\bcounsel (?:for|to)\b|\battorneys? for\b|\bas (?:an? |the )?(?:authori[sz]ed )?(?:agent|representative)\b|\banti-?piracy\b|\bauthorized to act on the copyright owner'?s behalf/i;
const OWNER = /\bi am the (?:copyright )?(?:owner|holder|author|creator|developer)|\bwe are the (?:copyright )?(?:owner|holder|author|creator|developer)s?|\bi(?:'m| am) the copyright holder|\bi own\b|\bwe own\b|\bmy (?:copyrighted|original|own) |\bour (?:copyrighted|original|own) |\bi (?:wrote|created|developed|authored)\b|\bwe (?:wrote|created|developed|authored)\b|\bcopyright (?:owner|holder)[^.]{0,10}\byes\b/i;
const STATUTE_OR = /owner[^.]{0,30}\bor\b[^.]{0,40}(?:authori[sz]|agent|behalf)|(?:authori[sz]|agent)[^.]{0,60}\bor\b[^.]{0,20}owner|penalty of perjury|perjury/i;
const REPRESENT = /\b(?:i|we) represent\s+(?:our client,?\s+|my client,?\s+)?((?:[\p{Lu}0-9][\p{L}0-9&.,'’-]*\s?){1,8})/u;
const ON_BEHALF = /\bon behalf of\s+(?:our client,?\s+|my client,?\s+|the (?:copyright )?owner,?\s+)?((?:[\p{Lu}0-9][\p{L}0-9&.,'’-]*\s?){1,8})/u;

export function findComplainant(text: string, sentences: string[]): Complainant {
  const lines = text.split('\n').map((l) => l.replace(/\s+$/, ''));
  const signature = findSignature(lines);
  const labelledName = labelled(lines, NAME_LABEL);
  const name = labelledName && looksLikeName(labelledName) ? labelledName : signature;
  let phone = labelled(lines, PHONE_LABEL);
  let address = labelled(lines, ADDRESS_LABEL);
  let organization = labelled(lines, ORG_LABEL);
  const country = labelled(lines, COUNTRY_LABEL);

  // The signature block: the last lines after a closing or the signature, when nothing was labelled.
  const tail = lines.slice(Math.max(0, lines.length - 25));
  if (!phone) {
    const p = tail.find((l) => PHONE.test(l) && !/https?:|@/.test(l));
    if (p) phone = PHONE.exec(p)![0].trim();
  }
  if (!address) {
    const idx = tail.findIndex((l) => STREET.test(l));
    if (idx >= 0) {
      const block = [tail[idx]!.trim()];
      for (const l of tail.slice(idx + 1, idx + 4)) {
        if (!l.trim() || PHONE_LABEL.test(l) || /@|https?:/.test(l)) break;
        block.push(l.trim());
      }
      address = block.join(', ');
    } else {
      const pc = tail.find((l) => POSTCODE.test(l) && l.length < 80 && !/https?:|@/.test(l));
      if (pc) address = pc.trim();
    }
  }
  if (!organization) {
    const o = tail.find((l) => ORG_WORDS.test(l) && l.trim().length <= 80 && !/https?:|@/.test(l) && !CLOSING.test(l) && !(/[.!?]$/.test(l.trim()) && l.trim().split(/\s+/).length > 5));
    if (o) organization = o.trim();
  }

  let role: Complainant['role'] = null;
  const plain = sentences.filter((s) => !STATUTE_OR.test(s));
  if (plain.some((s) => AGENT.test(s))) role = 'agent';
  else if (plain.some((s) => OWNER.test(s)) || sentences.some((s) => OWNER.test(s))) role = 'owner';

  let rightsOwner: string | null = null;
  if (role === 'agent') {
    for (const l of text.replace(/\s+/g, ' ').split(/(?<=[.;])\s/)) {
      const m = ON_BEHALF.exec(l) ?? REPRESENT.exec(l);
      if (m) {
        rightsOwner = m[1]!.trim().replace(/[,.]+$/, '');
        break;
      }
    }
    const ownerLabel = labelled(lines, /^\s*(?:copyright |rights |content )?(?:owner|holder)(?:'s name)?\s*[:\-–]\s*(.*)$/i);
    if (ownerLabel) rightsOwner = ownerLabel;
  } else if (role === 'owner') {
    rightsOwner = organization ?? name;
  }
  return { signature, name, organization, phone, address, country, role, rightsOwner };
}
