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

const CLOSING =
  /^\s*(?:(?:very\s+)?(?:sincerely|respectfully|cordially|faithfully|truly)(?:\s+yours)?|yours\s+(?:sincerely|truly|faithfully|respectfully)|(?:(?:best|kind|warm|warmest)\s*)?regards|best(?:\s+wishes)?|thanks?(?:\s+you)?(?:\s+(?:in advance|for your (?:prompt )?(?:attention|assistance|help|cooperation)[^,]*))?|thank you[^.!?]{0,60}|many thanks|with thanks|signed|regards|truthfully|faithfully yours|cheers|yours|respectfully submitted|mit freundlichen gr(?:ü|ue)(?:ß|ss)en|cordialement|atentamente|saludos)\s*(?:[,.!:-]+\s*)?$/i;
const SIGN_LABEL =
  /^\s*(?:\d+[.)]\s*)?(?:electronic\s+|digital\s+|e-)?(?:signature|signed(?:\s+by)?|sign)\s*(?:[:\-–：]\s*|(?<=\s)(?=[/[\p{Lu}]))(.+)$/iu;
/** "I, Jane Doe, certify/declare/swear…": the name typed into the statement signs it. */
const I_NAME =
  /^\s*I\s*[,，]\s*((?:\[[a-z]+\]|[\p{Lu}][\p{L}.'-]*(?:\s+[\p{Lu}][\p{L}.'-]*){0,4}))\s*[,，]\s*(?:[^,]{0,60},\s*)?(?:the undersigned,?\s*)?(?:hereby\s+)?(?:certify|declare|swear|state|affirm|confirm|am)\b/u;
const SIGN_LINE =
  /^\s*(?:\d+[.)]\s*)?(?:signed|signature|electronic signature|digital signature|my (?:electronic )?signature follows)\b[^:]*(?::\s*)?$/i;
const FROM_LABEL = /^\s*from\s*[:：]\s*(.+)$/i;
const TYPE_NAME =
  /type (?:your|the) (?:full )?(?:legal )?name|(?:full )?legal name (?:below|here)|sign (?:this|the) (?:request|notice|notification) (?:by typing|below)|to sign this/i;
const SLASH_S = /\/s\/\s*([^\n/]{2,80})|^\s*(?:\d+[.)]\s*)?signed\s+\/([^\n/]{2,80})\//i;

/** A line that can be a person's (or a redacted) name: a few words, no digits, no address signs. */
export function looksLikeName(line: string): boolean {
  const t = line.trim().replace(/^\/s\/\s*/i, '');
  if (/^\[(?:private|redacted)\]$/i.test(t)) return true;
  if (!t || t.length > 60 || /[@:/\\<>{}=|#$%^*_~]|\d|https?/i.test(t)) return false;
  const words = t.split(/\s+/);
  if (words.length > 6) return false;
  if (CLOSING.test(t)) return false;
  return /^[\p{Lu}[]/u.test(t) || words.every((w) => /^[\p{L}.'-]+$/u.test(w));
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
    if (m) return (m[1] ?? m[2])!.trim().replace(/[,.;]+$/, '');
  }
  for (const l of lines) {
    const m = I_NAME.exec(l);
    if (m) return m[1]!.trim();
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
    if (!CLOSING.test(lines[i]!) && !SIGN_LINE.test(lines[i]!) && !/^\s*signed on\b/i.test(lines[i]!)) continue;
    // The name may sit under the organisation or a rule line ("____", "Legal Department").
    const next = lines
      .slice(i + 1, i + 8)
      .map((l) => l.trim())
      .filter((l) => l && !/^[-_=*]{3,}$/.test(l))
      .slice(0, 3);
    const name = next.find((l) => looksLikeName(l.split(/[|,]/)[0]!.trim()));
    if (name) return name.split('|')[0]!.trim().replace(/,$/, '').trim();
  }
  const tail = lines
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-8);
  for (const l of tail) {
    const m = FROM_LABEL.exec(l);
    if (m && looksLikeName(m[1]!)) return m[1]!.trim();
  }
  // A letter that ends with a typed name (no closing word).
  const last = tail[tail.length - 1];
  if (last && looksLikeName(last) && (/^\[(?:private|redacted)\]$/i.test(last) || last.split(/\s+/).length >= 2)) return last;
  return null;
}

const PHONE_LABEL = /^\s*(?:phone|tel(?:ephone)?|mobile|cell|ph|telefon|téléphone)(?:\s+(?:number|no\.?|#))?\s*[:\-–.]\s*(.*)$/i;
const ADDRESS_LABEL = /^\s*(?:(?:postal|mailing|physical|street|business|my|our)\s+)?address(?:\s*\(.*?\))?\s*[:\-–]\s*(.*)$/i;
const ORG_LABEL = /^\s*(?:company(?:\s+name)?|organi[sz]ation|employer|firm|entity|business(?:\s+name)?|corporation)\s*[:\-–]\s*(.+)$/i;
const NAME_LABEL = /^\s*(?:(?:full|legal|your|my|complainant(?:'s)?|contact)\s+)*name\s*[:\-–]\s*(.+)$/i;
const COUNTRY_LABEL = /^\s*country\s*[:\-–]\s*(.+)$/i;
const ORG_WORDS =
  /\b(?:inc|llc|l\.l\.c|ltd|limited|gmbh|corp|corporation|company|co\.|s\.a|s\.l|sas|bv|b\.v|ag|plc|pty|oy|ab|kk|llp|lp|srl|s\.r\.l|group|studios?|media|entertainment|pictures|records|publishing|games|software|technologies|labs)\b\.?/i;
const PHONE = /(?:\+|\(?\b)\d[\d\s().-]{7,18}\d\b/;
const STREET =
  /\b\d{1,5}\s+[\p{L}0-9 .'-]{2,40}\b(?:street|st\.?|avenue|ave\.?|road|rd\.?|boulevard|blvd\.?|lane|ln\.?|drive|dr\.?|way|court|ct\.?|place|pl\.?|suite|floor|square|sq\.?|parkway|pkwy|highway|hwy|strasse|straße|rue|via|calle)\b|\b(?:p\.?\s?o\.?\s+box|suite\s+\d+)|\b[a-z]+(?:straße|strasse|weg|gasse|platz)\s+\d/iu;
const POSTCODE = /\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b|\b\d{5}\s+[\p{Lu}][\p{L}]+|\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b/u;

const AGENT =
  /\bon behalf of\b|\bauthori[sz]ed (?:to act|agent|representative)|\bacting (?:for|on behalf)|\bwe represent\b|\bi represent\b|\brepresent(?:s|ing)? (?:our client|the (?:copyright )?(?:owner|holder))|\bour client|\bagent (?:for|of)\b|\bcounsel (?:for|to)\b|\battorneys? for\b|\bas (?:an? |the )?(?:authori[sz]ed )?(?:agent|representative)\b|\banti-?piracy\b|\bauthorized to act on the copyright owner'?s behalf/i;
const OWNER =
  /\bi am the (?:copyright )?(?:owner|holder|author|creator|developer)|\bwe are the (?:copyright )?(?:owner|holder|author|creator|developer)s?|\bi(?:'m| am) the copyright holder|\bi own\b|\bwe own\b|\bmy (?:copyrighted|original|own) |\bour (?:copyrighted|original|own) |\bi (?:wrote|created|developed|authored)\b|\bwe (?:wrote|created|developed|authored)\b|\bcopyright (?:owner|holder)[^.]{0,10}\byes\b/i;
const STATUTE_OR =
  /owner[^.]{0,30}\bor\b[^.]{0,40}(?:authori[sz]|agent|behalf)|(?:authori[sz]|agent)[^.]{0,60}\bor\b[^.]{0,20}owner|penalty of perjury|perjury|per\s?jury/i;
const OWNER_LABEL =
  /^\s*(?:\[\d\]\s*)?(?:name of (?:the )?(?:injured party|copyright (?:owner|holder)|rights? (?:owner|holder))|(?:copyright|rights?|content) (?:owner|holder)(?:'s name)?|on behalf of)\s*[:\-–]\s*(.*)$/i;
/**
 * A proper name: up to eight words of at most 61 characters, the first capitalised (one space or
 * ", " between words, so no backtracking blow-up; the length cap keeps a pattern that starts with
 * it linear on a long capitalised word, which it was searched from every letter of).
 */
const NAME_RUN =
  "([\\p{Lu}0-9\\[][\\p{L}0-9&.'’\\]-]{0,60}(?:,? (?:[\\p{Lu}0-9&(][\\p{L}0-9&.'’()\\]-]{0,60}|and|of|&|de|du|der|la|le)){0,7})";
/** Sentences that name the owner an agent acts for. */
const OWNER_PATTERNS = [
  new RegExp(`\\bon behalf of\\s+(?:(?:our|my) client,?\\s+|the (?:copyright )?owner,?\\s+)?${NAME_RUN}`, 'u'),
  new RegExp(`\\b(?:i|we) represent\\s+(?:(?:our|my) client,?\\s+)?${NAME_RUN}`, 'u'),
  new RegExp(`\\b(?:acting|act|attorneys?|counsel|solicitors?|agents?) for\\s+${NAME_RUN}`, 'u'),
  new RegExp(
    `\\b(?:(?:copy)?rights? of|owned(?:[\\p{L}, ]{0,40})? by|property of|owner being named|rights holder \\(|copyright owner \\()\\s*${NAME_RUN}`,
    'u',
  ),
  new RegExp(`${NAME_RUN}\\s+(?:is|are) the (?:rightful |sole |exclusive )?(?:copyright )?(?:owner|holder)`, 'u'),
  new RegExp(`${NAME_RUN}\\s+owns (?:the|all|its)\\b`, 'u'),
];
const NOT_AN_OWNER = /^(?:the|a|an|this|that|our|my|its|their|your|i|we|it|he|she|they|yes|no|github)\b|^[^\p{L}]+$/iu;

/** A sentence is read for an owner's name up to this length (as `sentences()` cuts them). */
const MAX_SENTENCE = 1500;
const CONNECTORS = ['and', 'of', '&', 'der', 'de', 'du', 'la', 'le'];
const TRAILING_PUNCTUATION = /[,.\s]/;

/**
 * A name without its trailing punctuation and dangling connectors ("Acme and", "Foo de la."): what
 * `/(?:[,.\s]+|\s+(?:and|of|…))+$/` removed, without its nested quantifier (exponential: 24 dots
 * after a name took 0.5 s, each two more four times that).
 */
function withoutTrailingConnectors(name: string): string {
  let s = name;
  for (;;) {
    let end = s.length;
    while (end > 0 && TRAILING_PUNCTUATION.test(s[end - 1]!)) end--;
    s = s.slice(0, end);
    const word = CONNECTORS.find((c) => s.length > c.length && s.endsWith(c) && /\s/.test(s[s.length - c.length - 1]!));
    if (!word) return s;
    s = s.slice(0, s.length - word.length);
  }
}

function namedOwner(text: string): string | null {
  for (const sentence of text.replace(/\s+/g, ' ').split(/(?<=[.;!?])\s+(?=[\p{Lu}[(“"])/u)) {
    for (const re of OWNER_PATTERNS) {
      const m = re.exec(sentence.length > MAX_SENTENCE ? sentence.slice(0, MAX_SENTENCE) : sentence);
      const name = m?.[1] ? withoutTrailingConnectors(m[1].trim()) : null;
      if (name && name.length >= 2 && !NOT_AN_OWNER.test(name) && !/^\[(?:private|redacted)\]$/i.test(name)) return name.slice(0, 200);
    }
  }
  return null;
}

/** GitHub-style forms ask "Are you the copyright holder or authorized to act…?"; the answer decides. */
function formRole(lines: string[]): Complainant['role'] {
  for (let i = 0; i < lines.length; i++) {
    if (
      !/are you the copyright (?:holder|owner)|copyright (?:holder|owner) or (?:an? )?(?:authori[sz]ed|agent)/i.test(lines[i]!) ||
      !/\?|:\s*(?:\*+\s*)?$/.test(lines[i]!)
    )
      continue;
    const answer = lines.slice(i + 1, i + 4).find((l) => l.trim()) ?? '';
    if (/authori[sz]ed|allowed|agent|behalf|represent/i.test(answer)) return 'agent';
    if (/owner|holder|\byes\b|\bi am\b/i.test(answer)) return 'owner';
  }
  return null;
}

export function findComplainant(text: string, sentences: string[]): Complainant {
  const lines = text.split('\n').map((l) => l.trimEnd());
  const signature = findSignature(lines);
  const labelledName = labelled(lines, NAME_LABEL);
  const name = labelledName && looksLikeName(labelledName) ? labelledName : signature;
  let phone = labelled(lines, PHONE_LABEL);
  let address = labelled(lines, ADDRESS_LABEL);
  const contactAnswer = labelled(
    lines,
    /^\s*(?:\*+\s*)?(?:so that we can get back to you[^\n]*|(?:my |our )?contact (?:information|details|info)(?: for me)?(?: is| are)?(?: as follows?)?|provide your contact information[^\n]*|i may be contacted (?:at|using)[^\n]*)\s*(?:[:,.]\s*)?(?:\*+\s*)?$()/i,
  );
  if (contactAnswer) {
    if (!phone && /\bphone|\btel\b|\+\s*\[|\+?\d[\d\s().-]{7,}/i.test(contactAnswer)) phone = contactAnswer;
    else if (!address) address = contactAnswer;
  }
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
    const o = tail.find(
      (l) =>
        ORG_WORDS.test(l) &&
        l.trim().length <= 80 &&
        !/https?:|@/.test(l) &&
        !CLOSING.test(l) &&
        !(/[.!?]$/.test(l.trim()) && l.trim().split(/\s+/).length > 5),
    );
    if (o) organization = o.trim();
  }

  let role: Complainant['role'] = formRole(lines);
  const plain = sentences.filter((s) => !STATUTE_OR.test(s));
  if (!role && plain.some((s) => AGENT.test(s))) role = 'agent';
  else if (!role && (plain.some((s) => OWNER.test(s)) || sentences.some((s) => OWNER.test(s)))) role = 'owner';

  let rightsOwner: string | null = null;
  if (role === 'agent') {
    rightsOwner = labelled(lines, OWNER_LABEL) ?? namedOwner(text);
  } else if (role === 'owner') {
    rightsOwner = organization ?? name;
  }
  return { signature, name, organization, phone, address, country, role, rightsOwner };
}
