import { compareTexts } from '../../src/modules/evidence';
import { MAX_CHARS } from '../../src/modules/evidence/compare-texts';

describe('compareTexts (evidence side by side)', () => {
  it('when the texts are the same, then the similarity is 100% and nothing is marked', () => {
    const c = compareTexts('one two three', 'one two three');
    expect(c.similarity).toBe(100);
    expect(c.differing).toBe(0);
    expect(c.ours).toEqual([{ text: 'one two three', differs: false }]);
  });

  it('when one word of ten differs, then the similarity is 90% and that word is marked on each side', () => {
    const c = compareTexts('a b c d e f g h i ours', 'a b c d e f g h i theirs');
    expect(c.similarity).toBe(90);
    expect(c.ours.filter((s) => s.differs).map((s) => s.text.trim())).toEqual(['ours']);
    expect(c.theirs.filter((s) => s.differs).map((s) => s.text.trim())).toEqual(['theirs']);
    expect(c.differing).toBe(2);
  });

  it('when the original adds a paragraph, then only the added words are marked and the similarity is the shared share of both', () => {
    const c = compareTexts('the harbour at dawn', 'the harbour at dawn\n\nOriginally published by the Gazette');
    // 4 shared words of 4 + 9: 2 × 4 ÷ 13 = 61.5%.
    expect(c.similarity).toBe(61.5);
    expect(c.ours.some((s) => s.differs)).toBe(false);
    expect(c.theirs.filter((s) => s.differs).map((s) => s.text.trim())).toEqual(['Originally published by the Gazette']);
  });

  it('when a text is longer than the limit, then it is compared on its first MAX_CHARS characters and says so', () => {
    const long = 'word '.repeat(MAX_CHARS / 5 + 100);
    const c = compareTexts(long, long);
    expect(c.truncated).toBe(true);
    expect(c.similarity).toBe(100);
    expect(c.ours.map((s) => s.text).join('').length).toBe(MAX_CHARS);
  });
});
