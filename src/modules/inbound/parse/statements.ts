/**
 * The sworn statements of 17 U.S.C. § 512(c)(3)(A)(v) and (vi), recognised by meaning: a sentence
 * (or two neighbouring sentences) must carry each concept of the statement, in any wording or order.
 * The concepts are small synonym sets, so the statute's words, GitHub's and Google's forms and the
 * vendors' paraphrases ("we believe in good faith…", "under penalty of perjury, I certify…") all match.
 */

export interface Statements {
  goodFaith: boolean;
  accuracy: boolean;
  goodFaithStatement: string | null;
  accuracyStatement: string | null;
}

const GOOD_FAITH = /\bgood[\s-]*faith|\bbona[\s-]*fide|\bin good conscience|\bsincerely believe/;
const NOT_AUTHORISED =
  /\bnot\b[^.]{0,40}\b(?:authori[sz]|licen[sc]|permit|allow|consent|approv|sanction)|\bunauthori[sz]ed|\bunlicen[sc]ed|\bwithout\b[^.]{0,40}\b(?:authori[sz]|permission|consent|licen[sc]|approval|right)|\bno\b[^.]{0,30}\b(?:authori[sz]|permission|consent|licen[sc]|right)|\binfring|\bunlawful|\billegal|\bneither\b[^.]{0,40}\bauthori[sz]/;
const BELIEF = /\bbelie(?:f|ve|ving)|\bgood[\s-]*faith|\bbona[\s-]*fide|\bstate\b|\bdeclare|\bconfirm|\bcertify/;
const PERJURY = /\bperjur|\bunder penalty|\bunder the penalty|\bsubject to (?:the )?penalt|\bsworn\b|\bswear\b|\bunder oath\b/;
const ACCURATE = /\baccura|\btrue\b|\bcorrect\b|\btruthful|\bexact\b/;
const AUTHORITY = /\bauthori[sz]|\bon behalf\b|\bowner\b|\bproprietor|\bright[s]? holder|\bholder of|\bown the\b|\bagent\b|\bentitled to act/;
const NEGATED = /\b(?:do|does|did) not (?:have|hold|make|swear|believe)\b|\bno good[\s-]*faith\b|\bcannot (?:swear|state|confirm)\b/;

/** Text made comparable: lower case, one space for any run of whitespace, hyphenated line breaks joined. */
export function flatten(text: string): string {
  return text
    .replace(/-\n\s*/g, '-')
    .replace(/[’‘`´]/g, "'")
    .replace(/[“”]/g, '"')
    .replace(/\s+/g, ' ')
    .toLowerCase();
}

/** Sentences (and form lines: a Q&A form's answer is its own unit), each at most 1,500 characters. */
export function sentences(text: string): string[] {
  const out: string[] = [];
  for (const block of text.split(/\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)]|\[x\]|\(x\)|☒|✓|✔)\s)/i)) {
    for (const s of flatten(block).split(/(?<=[.;!?])\s+(?=[a-z0-9("\[])|(?<=[.!?])\s+/)) {
      const t = s.trim();
      if (t) out.push(t.length > 1500 ? t.slice(0, 1500) : t);
    }
  }
  return out;
}

export function findStatements(text: string): Statements {
  const ss = sentences(text);
  const isGoodFaith = (w: string) => GOOD_FAITH.test(w) && NOT_AUTHORISED.test(w) && BELIEF.test(w) && !NEGATED.test(w);
  const isAccuracy = (w: string) => PERJURY.test(w) && (ACCURATE.test(w) || AUTHORITY.test(w)) && !NEGATED.test(w);
  // One sentence first; a statement split over two neighbouring sentences only when no single one has it.
  let goodFaith = ss.find(isGoodFaith) ?? null;
  let accuracy = ss.find(isAccuracy) ?? null;
  for (let i = 0; i + 1 < ss.length && (!goodFaith || !accuracy); i++) {
    const two = `${ss[i]} ${ss[i + 1]}`;
    if (!goodFaith && isGoodFaith(two)) goodFaith = two;
    if (!accuracy && isAccuracy(two)) accuracy = two;
  }
  return { goodFaith: goodFaith !== null, accuracy: accuracy !== null, goodFaithStatement: goodFaith, accuracyStatement: accuracy };
}
