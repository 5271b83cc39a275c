import fc from 'fast-check';
import {
  containment,
  lshBands,
  minhash,
  MIN_SHINGLES,
  normaliseText,
  shingles,
  signatureOf,
  similarityOf,
  SHINGLE_WORDS,
  markDifferences,
  wordHash,
  wordHashesOf,
} from '../../src/modules/staydown/signature';

const VOCAB = [
  'river',
  'council',
  'budget',
  'school',
  'vote',
  'mayor',
  'bridge',
  'rain',
  'harbour',
  'festival',
  'train',
  'museum',
  'library',
  'report',
  'doctor',
  'garden',
  'tower',
  'market',
  'winter',
  'orchestra',
  'election',
  'science',
  'forest',
  'ticket',
  'naïve',
  'café',
  'über',
  'north',
  'seven',
  'million',
  'plan',
  'road',
  'city',
  'old',
  'new',
  'said',
  'would',
  'after',
  'before',
];

const word = fc.constantFrom(...VOCAB);
const paragraph = fc.array(word, { minLength: 8, maxLength: 40 });
const article = fc.record({
  title: fc.array(word, { minLength: 2, maxLength: 8 }),
  paras: fc.array(paragraph, { minLength: 2, maxLength: 6 }),
});

const asHtml = (paras: string[][]) => paras.map((p) => `<p>${p.join(' ')}</p>`).join('\n');

/** The same words with other markup, whitespace and entity spellings. */
const restyled = (paras: string[][], seed: number) =>
  paras
    .map((p, pi) => {
      const words = p.map((w, i) => {
        const k = (seed + pi * 7 + i) % 6;
        if (k === 0) return `<strong>${w}</strong>`;
        if (k === 1) return w.replace(/[a-zé]/, (c) => `&#${c.codePointAt(0)};`);
        if (k === 2) return `<a href="https://example.com/${w}">${w.toUpperCase()}</a>`;
        if (k === 3) return w.replace(/é/g, '&eacute;').replace(/ï/g, '&#xEF;');
        return w;
      });
      return `<div class="x">\n  ${words.join(seed % 2 ? '\n\t ' : '&nbsp; ')}  </div><!-- ad -->`;
    })
    .join('<br/>');

describe('staydown signature: normalisation', () => {
  it('when a text has markup, entities, punctuation, accents and case, then they fold to plain lower-case words', () => {
    expect(
      normaliseText('Café <em>Opens</em>!', '<p>The &quot;NEW&quot; caf&eacute; &amp; bar &#8212; opens.</p><script>var x = 1</script>'),
    ).toEqual(['cafe', 'opens', 'the', 'new', 'cafe', 'bar', 'opens']);
  });

  it('when a short paragraph is boilerplate (subscribe, originally published, copyright), then it is dropped', () => {
    const words = normaliseText(
      'T',
      '<p>Real words here.</p><p>This article originally appeared on Example News.</p><p>Subscribe to our newsletter!</p><p>© 2026 Example. All rights reserved.</p>',
    );
    expect(words).toEqual(['t', 'real', 'words', 'here']);
  });

  it('when any article is restyled (markup, whitespace, entities, case), then it matches itself with similarity 1', () => {
    fc.assert(
      fc.property(article, fc.nat(1000), ({ title, paras }, seed) => {
        const a = { title: title.join(' '), html: asHtml(paras) };
        const b = { title: `  ${title.join('  ').toUpperCase()} `, html: restyled(paras, seed) };
        expect(normaliseText(b.title, b.html)).toEqual(normaliseText(a.title, a.html));
        const sa = signatureOf(a.title, a.html);
        const sb = signatureOf(b.title, b.html);
        expect(sb.bands).toEqual(sa.bands);
        if (sa.shingles.length >= MIN_SHINGLES) expect(containment(sa.shingles, sb.shingles)).toBe(1);
      }),
      { numRuns: 150 },
    );
  });

  it('when the fast path hashes words without building strings, then it agrees with normaliseText word for word', () => {
    const any = fc.array(
      fc.oneof(
        word,
        fc.constantFrom(
          'Read more',
          'Subscribe now!',
          '&amp;',
          '&#233;t&eacute;',
          '<b>x</b>',
          ' ',
          '\n\n',
          '<p>',
          '(c)',
          '©',
          'ÄÖÜ',
          'x-y_z',
        ),
      ),
      { maxLength: 120 },
    );
    fc.assert(
      fc.property(any, any, (t, b) => {
        const title = t.join(' ');
        const html = b.join(' ');
        expect(Array.from(wordHashesOf(title, html))).toEqual(normaliseText(title, html).map(wordHash));
      }),
      { numRuns: 300 },
    );
  });

  it('when k words of a text are replaced, then similarity falls by at most k × shingle size / shingles, and more edits never raise it', () => {
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 60, maxLength: 200 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
        (words, spots) => {
          const base = shingles(words);
          fc.pre(base.length >= MIN_SHINGLES * 2);
          const edited = [...words];
          let previous = 1;
          spots.forEach((s, k) => {
            edited[s % edited.length] = `zz${k}edit`;
            const sim = containment(base, shingles(edited));
            expect(sim).toBeGreaterThanOrEqual(1 - ((k + 1) * SHINGLE_WORDS) / base.length - 1e-9);
            expect(sim).toBeLessThanOrEqual(previous + 1e-9);
            previous = sim;
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('staydown signature: containment and bands', () => {
  const text = Array.from({ length: 300 }, (_, i) => VOCAB[(i * 7 + (i >> 3)) % VOCAB.length] + (i % 13)).join(' ');

  it('when a copy is truncated to 70% or has a paragraph added, then containment stays ≥ 0.95', () => {
    const words = text.split(' ');
    const truncated = words.slice(0, 210).join(' ');
    expect(similarityOf({ title: 'A', html: text }, { title: 'A', html: truncated })).toBeGreaterThanOrEqual(0.95);
    const padded = `${text}</p><p>${Array.from({ length: 120 }, (_, i) => `extra${i}`).join(' ')}`;
    expect(similarityOf({ title: 'A', html: `<p>${text}</p>` }, { title: 'B', html: `<p>${padded}</p>` })).toBeGreaterThanOrEqual(0.95);
  });

  it('when two texts share nothing, then similarity is 0, and when one is too short, then only exact matches could count', () => {
    expect(similarityOf({ title: '', html: text }, { title: '', html: text.replace(/\d+/g, 'q') })).toBeLessThan(0.2);
    expect(containment(shingles(['a', 'b', 'c']), shingles(['a', 'b', 'c']))).toBe(0);
  });

  it('when bands are computed, then there are 20, each tagged with its band index and below 2^53', () => {
    const bands = lshBands(minhash(shingles(text.split(' '))));
    expect(bands).toHaveLength(20);
    bands.forEach((b, i) => {
      expect(Number.isSafeInteger(b)).toBe(true);
      expect(Math.floor(b / 2 ** 48)).toBe(i);
    });
  });

  it('when a copy swaps paragraphs, then the differing view marks only the changed paragraph', () => {
    const p1 = text.split(' ').slice(0, 100).join(' ');
    const p2 = text.split(' ').slice(100, 200).join(' ');
    const other = Array.from({ length: 60 }, (_, i) => `fresh${i}`).join(' ');
    const d = markDifferences(
      { title: 'x', html: `<p>${p1}</p><p>${p2}</p>` },
      { title: 'x', html: `<p>${p2}</p><p>${p1}</p><p>${other}</p>` },
    );
    expect(d.a.map((p) => p.differs)).toEqual([false, false]);
    expect(d.b.map((p) => p.differs)).toEqual([false, false, true]);
  });
});
