import { findMessageUrls, parseNoticeEmail, readMessage } from '../../src/modules/inbound/parse';
import { forgetLastAnswers } from '../../src/modules/inbound/parse';
import { HTML_SLICE, htmlSlices, htmlToText, stripReplies, withoutQuotes } from '../../src/modules/inbound/parse/text';
import { findTextUrls } from '../../src/modules/inbound/parse/urls';
import { canonicalLinksIn } from '../../src/modules/feeds/entry-urls';
import { normaliseDomain, normaliseUrl, trimTrailing } from '../../src/shared/url';

/**
 * Issue 18: html-to-text builds a tree of the whole document (~20 bytes a character), so HTML over
 * HTML_SLICE characters is converted in slices. What a slice boundary must not change: quoted
 * replies stay quoted, scripts and comments never leak into the text, nothing is lost or doubled.
 */
const para = (i: number) => `<p>Paragraph ${i} of the harbour thread, where the first crossing ran empty.</p>\r\n`;
const paras = (n: number, from = 0) => Array.from({ length: n }, (_, i) => para(from + i)).join('');

const OWN = [
  'Dear DMCA agent,',
  'I am the owner of the photographs at https://ada.example/harbour. The copy at https://desk.example/items/harbour-photos is not mine to share.',
  'I have a good faith belief that the use described above is not authorized by the copyright owner, its agent, or the law.',
  'Under penalty of perjury, I state that the information in this notice is accurate and that I am the owner.',
  '/s/ Ada Lovelace',
].join('<br>\r\n');

function htmlMessage(html: string): Buffer {
  return Buffer.from(
    [
      'From: Ada Lovelace <ada@analytical.example>',
      'To: dmca@desk.example',
      'Subject: DMCA takedown notice',
      'MIME-Version: 1.0',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      html,
    ].join('\r\n'),
  );
}

describe('HTML converted to text in slices', () => {
  afterEach(() => forgetLastAnswers());

  it('when HTML is cut into slices, then each cut is before a tag and the slices hold every character once', () => {
    const html = `<html><body>${paras(2000)}</body></html>`;
    const slices = htmlSlices(html, 4096);
    expect(slices.length).toBeGreaterThan(20);
    // Nothing is carried here (no quote or list is open), so the slices are the HTML, cut.
    expect(slices.join('')).toBe(html);
    for (const s of slices.slice(1)) expect(s.startsWith('<')).toBe(true);
    for (const s of slices.slice(0, -1)) expect(s.length).toBeLessThan(4096 + para(9999).length);
  });

  it('when a quoted reply runs past a cut, then the next slice re-opens the quote and every quoted line still reads as quoted', () => {
    const n = Math.ceil((3 * HTML_SLICE) / para(0).length);
    const html = `<html><body><p>My own words.</p><blockquote type="cite"><ul>${paras(n)}</ul></blockquote><p>After the quote.</p></body></html>`;
    const slices = htmlSlices(html);
    expect(slices.length).toBeGreaterThanOrEqual(3);
    for (const s of slices.slice(1)) expect(s.startsWith('<blockquote><ul>')).toBe(true);

    const lines = htmlToText(html)
      .split('\n')
      .filter((l) => l.includes('harbour thread'));
    expect(lines).toHaveLength(n);
    expect(new Set(lines).size).toBe(n);
    expect(lines.filter((l) => !l.startsWith('>'))).toEqual([]);
    expect(htmlToText(html)).toMatch(/^My own words\.[\s\S]*\nAfter the quote\.$/);
  });

  it('when quotes carried across cuts have long attributes, then each slice re-opens them bare (the heads stay small)', () => {
    const attr = 'x'.repeat(10_000);
    const html = `${`<blockquote data-a="${attr}">`.repeat(50)}${paras(5000)}`;
    const slices = htmlSlices(html);
    expect(slices.length).toBeGreaterThan(5);
    // Past the 500 KB of opening tags, every slice opens with the 50 quotes, bare.
    for (const s of slices.slice(-3)) {
      expect(s.startsWith('<blockquote>'.repeat(50))).toBe(true);
      expect(s.slice(50 * '<blockquote>'.length)).toMatch(/^<\/?p>/);
    }
    expect(slices.reduce((n, s) => n + s.length, 0)).toBeLessThan(html.length + slices.length * 50 * '<blockquote>'.length + 1);
  });

  it('when a script or a comment with tags in it spans a cut, then none of it leaks into the text', () => {
    const hidden = '<p>HIDDEN-FROM-TEXT</p>';
    const html = `<p>Visible start.</p><script>var s = "${hidden.repeat(HTML_SLICE / hidden.length + 10)}";</script><!-- ${hidden.repeat(HTML_SLICE / hidden.length + 10)} --><p>Visible end.</p>`;
    expect(htmlSlices(html).length).toBeGreaterThan(1);
    const text = htmlToText(html);
    expect(text).not.toContain('HIDDEN');
    expect(text).toContain('Visible start.');
    expect(text).toContain('Visible end.');
  });

  it('when a large HTML-only letter quotes a long thread, then it reads as the same notice as its short version', async () => {
    const small = await readMessage(htmlMessage(`<html><body><p>${OWN}</p><blockquote>${paras(10)}</blockquote></body></html>`));
    const large = await readMessage(htmlMessage(`<html><body><p>${OWN}</p><blockquote>${paras(20_000)}</blockquote></body></html>`));
    expect(large.html!.length).toBeGreaterThan(4 * HTML_SLICE);
    const ctx = { publicBaseUrl: 'https://desk.example', isItemOriginalUrl: () => false };
    const a = parseNoticeEmail(small, ctx);
    forgetLastAnswers();
    const b = parseNoticeEmail(large, ctx);
    expect(a.missing).toEqual([]);
    expect({ ...b, body: undefined }).toEqual({ ...a, body: undefined });
    expect(b.body.startsWith(a.body.split('\n')[0]!)).toBe(true);
  });
});

describe('long plain-text letters, read line by line without an array of every line', () => {
  const quoted = '> The harbour office says the change follows two winters in which the first crossing ran empty.\n';

  it('when a letter is longer than the reply parser reads, then quoted lines (also indented ones) are dropped and the own words kept', () => {
    const text = `Own line one.\n   > indented quote\nA line with a > inside stays.\n\n${quoted.repeat(4000)}Own last line.`;
    expect(text.length).toBeGreaterThan(256 * 1024);
    const own = withoutQuotes(text);
    expect(own).toBe('Own line one.\nA line with a > inside stays.\n\nOwn last line.');
    expect(stripReplies(text)).toBe(own);
  });

  it('when bare and schemed URLs sit on lines far into a long text, then each is found, in the order written', () => {
    const text = `${quoted.repeat(3000)}see desk.example/items/late-one and https://ada.example/work\n${quoted.repeat(3000)}last: copies.example/page`;
    expect(findTextUrls(text)).toEqual(['http://desk.example/items/late-one', 'https://ada.example/work', 'http://copies.example/page']);
  });
});

describe('hostile markup: every pattern stops at the next "<", so a pass is linear', () => {
  // 1 MB each: the patterns searched to the end of the text from every "<" (100 KB of "<a" took
  // 10 s, 400 KB of "<Infringement>" 2.8 s); at this size that was hours, and the job and the
  // server's event loop with it.
  const MB = 1024 * 1024;
  const html = (body: string) => htmlMessage(`<html><body><p>${OWN}</p>${body}`);
  const ctx = { publicBaseUrl: 'https://desk.example', isItemOriginalUrl: () => false };

  it.each([
    ['"<a" with no ">" after it', '<a'.repeat(MB / 2)],
    ['"</p" with no ">" after it', '</p'.repeat(MB / 3)],
    ['"<a href=" with no ">" after it', '<a href='.repeat(MB / 8)],
    ['unterminated "<script" openings', '<script'.repeat(MB / 7)],
  ])('when an HTML letter ends in 1 MB of %s, then its own words are still read as a complete notice', async (_what, tail) => {
    const msg = await readMessage(html(tail));
    expect(findMessageUrls(msg)).toEqual(
      expect.arrayContaining(['https://ada.example/harbour', 'https://desk.example/items/harbour-photos']),
    );
    const ex = parseNoticeEmail(msg, ctx);
    expect(ex.missing).toEqual([]);
    expect(ex.infringingUrls).toEqual(['https://desk.example/items/harbour-photos']);
  });

  it('when a text holds 1 MB of "<Infringement>" openings and no end, then no ACNS document is read from it', async () => {
    const msg = await readMessage(
      Buffer.from(`From: a@b.example\r\nTo: d@desk.example\r\nSubject: x\r\n\r\n${'<Infringement>'.repeat(MB / 14)}\r\n`),
    );
    const ex = parseNoticeEmail(msg, ctx);
    expect(ex.infringingUrls).toEqual([]);
    expect(ex.kind).toBe('not_a_notice');
  });

  it('when a plain-text letter carries 100,000-character runs after its labels, closings and names, then it still reads as the same complete notice', async () => {
    const run = ' '.repeat(100_000);
    const hostile = [
      `Contact information${run}x`,
      `Regards${run}x`,
      `Signature${run}1`,
      `signed${run}:x`,
      `Are you the copyright holder:${run}x`,
      `Sincerely,\nA${run}b`,
      `${'A'.repeat(100_000)} owns the photographs.`,
    ].join('\n\n');
    const own = OWN.replace(/<br>\r\n/g, '\n');
    const plain = (body: string) =>
      readMessage(Buffer.from(`From: Ada Lovelace <ada@analytical.example>\r\nTo: d@desk.example\r\nSubject: DMCA\r\n\r\n${body}\r\n`));
    const short = parseNoticeEmail(await plain(own), ctx);
    forgetLastAnswers();
    const long = parseNoticeEmail(await plain(`${own}\n\n${hostile}`), ctx);
    expect(short.missing).toEqual([]);
    expect(long.missing).toEqual([]);
    expect(long.signature).toBe(short.signature);
    expect(long.infringingUrls).toEqual(short.infringingUrls);
  });

  it('when an agent names an owner followed by a run of dots, then the name is kept whole (the trailing-connector pattern was exponential in the dots)', async () => {
    const owner = `Acme Pictures${'.'.repeat(40)}Z`;
    const msg = await readMessage(
      Buffer.from(
        `From: Agent <agent@vendor.example>\r\nTo: d@desk.example\r\nSubject: DMCA\r\n\r\nWe act on behalf of ${owner}. Thanks.\r\n${OWN.replace(/<br>\r\n/g, '\r\n').replace('I am the owner of the photographs', 'Our client owns the photographs')}\r\n`,
      ),
    );
    const ex = parseNoticeEmail(msg, ctx);
    expect(ex.role).toBe('agent');
    expect(ex.rightsOwner).toBe(owner);
  });

  it('when an X-ARF report has a field of 100,000 spaces, then its other fields are still read', async () => {
    const msg = await readMessage(
      Buffer.from(
        [
          'From: reports@vendor.example',
          'To: d@desk.example',
          'Subject: abuse report',
          'X-ARF: yes',
          '',
          'Reported-From: reports@vendor.example',
          'Source-Type: uri',
          `Comment: x${' '.repeat(100_000)}y`,
          "Source: 'https://desk.example/items/harbour-photos'",
          '',
        ].join('\r\n'),
      ),
    );
    expect(findMessageUrls(msg)).toContain('https://desk.example/items/harbour-photos');
  });
});

describe('hostile feed markup and URLs', () => {
  it('when an entry ends in "canonical" and 900 KB of "<a" with no ">", then the real canonical link before it is still found', () => {
    const html = `<p>Story.</p><link rel="canonical" href="https://p.example/c"> canonical ${'<a '.repeat(300_000)}`;
    expect(canonicalLinksIn(html, null)).toEqual(['https://p.example/c']);
    expect(canonicalLinksIn(`<a rel="nofollow canonical" href="/d">x</a>`, 'https://p.example/')).toEqual(['https://p.example/d']);
    expect(canonicalLinksIn(`<a rel="nofollow" data-x="canonical" href="/d">x</a>`, 'https://p.example/')).toEqual([]);
  });

  it('when a URL or domain ends in a run of slashes or dots, then only that run goes', () => {
    expect(trimTrailing('/a//b///', '/')).toBe('/a//b');
    expect(trimTrailing('////', '/')).toBe('');
    expect(trimTrailing('a.example..', '.')).toBe('a.example');
    expect(trimTrailing('abc', '/')).toBe('abc');
    expect(normaliseUrl(`http://a.example/${'/'.repeat(8000)}x`)).toBe(`http://a.example/${'/'.repeat(8000)}x`);
    expect(normaliseUrl(`http://a.example/x${'/'.repeat(8000)}`)).toBe('http://a.example/x');
    expect(normaliseDomain('Example.org///')).toBe('example.org');
  });
});
