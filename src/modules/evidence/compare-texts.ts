import { diffWords } from 'diff';

/**
 * Our copy beside the claimed original (SPEC §15): a word diff (the `diff` package, Myers'
 * algorithm) gives the similarity — the share of words the two texts have in common, 2·common ÷
 * (ours + theirs), as a percentage — and the passages to mark: words only in our copy, words only
 * in the original. The diff is bounded (texts cut at MAX_CHARS, a time limit): two long, unrelated
 * pages cannot hold the request; past the limit the page says the texts are too different to align.
 */

export const MAX_CHARS = 60_000;
const TIME_LIMIT_MS = 1_500;

export interface Segment {
  text: string;
  differs: boolean;
}

export interface Comparison {
  /** 0–100, one decimal; null when the texts could not be aligned in time. */
  similarity: number | null;
  ours: Segment[];
  theirs: Segment[];
  /** Passages marked on either side. */
  differing: number;
  truncated: boolean;
}

const words = (s: string) => s.match(/\S+/g)?.length ?? 0;

function push(list: Segment[], text: string, differs: boolean) {
  const last = list[list.length - 1];
  if (last && last.differs === differs) last.text += text;
  else list.push({ text, differs });
}

export function compareTexts(oursRaw: string, theirsRaw: string): Comparison {
  const truncated = oursRaw.length > MAX_CHARS || theirsRaw.length > MAX_CHARS;
  const ours = oursRaw.slice(0, MAX_CHARS);
  const theirs = theirsRaw.slice(0, MAX_CHARS);
  const parts = diffWords(ours, theirs, { timeout: TIME_LIMIT_MS });
  if (!parts) {
    return {
      similarity: null,
      ours: [{ text: ours, differs: false }],
      theirs: [{ text: theirs, differs: false }],
      differing: 0,
      truncated,
    };
  }
  const a: Segment[] = [];
  const b: Segment[] = [];
  let common = 0;
  let differing = 0;
  for (const p of parts) {
    if (p.added) {
      push(b, p.value, true);
      differing++;
    } else if (p.removed) {
      push(a, p.value, true);
      differing++;
    } else {
      common += words(p.value);
      push(a, p.value, false);
      push(b, p.value, false);
    }
  }
  const total = words(ours) + words(theirs);
  const similarity = total ? Math.round(((2 * common) / total) * 1000) / 10 : 100;
  return { similarity: Math.min(100, similarity), ours: a, theirs: b, differing, truncated };
}
