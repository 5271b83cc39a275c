import { canonicalLinksIn, chooseOriginal, isRedirectProxy } from '../../src/modules/feeds/entry-urls';
import { parseFeed } from '../../src/modules/feeds/parse-feed';

describe('entry URLs: the publisher’s own address', () => {
  it.each([
    ['http://feeds.feedburner.com/~r/Example/~3/abc/', true],
    ['https://feedproxy.google.com/~r/example/~3/AbC/story.html', true],
    ['http://feeds.publisher.example/~r/publisher/news/~3/xyz/', true],
    ['https://feeds.feedblitz.com/~/123456/0/example~Story', true],
    ['https://feeds.publisher.example/~/123/0/news~story', true],
    ['http://da.feedsportal.com/c/1/f/2/s/3/l/0/story.htm', true],
    ['https://www.publisher.example/news/2026/11/story/', false],
    ['https://feeds.publisher.example/news/rss', false], // the feed itself is not a redirect
    ['https://publisher.example/~ruth/notes', false],
    ['not a url', false],
  ])('when the address is %s, then it is a redirect proxy: %s', (url, expected) => {
    expect(isRedirectProxy(url)).toBe(expected);
  });

  it('when every candidate is known, then origLink wins, then a permalink guid, the alternate link, the entry link; proxies never win over a real address', () => {
    const proxy = 'http://feeds.p.example/~r/p/~3/x/';
    expect(
      chooseOriginal([
        { url: '', kind: 'orig_link' },
        { url: 'https://p.example/g', kind: 'guid' },
        { url: proxy, kind: 'link' },
      ]).original,
    ).toBe('https://p.example/g');
    expect(
      chooseOriginal([
        { url: proxy, kind: 'orig_link' },
        { url: 'https://p.example/a', kind: 'link' },
      ]).original,
    ).toBe('https://p.example/a');
    const only = chooseOriginal([
      { url: proxy, kind: 'link' },
      { url: 'https://p.example/c', kind: 'canonical' },
    ]);
    expect(only.original).toBe(proxy); // a canonical link from the content is an alias, not the original
    expect(only.all).toEqual([
      { url: proxy, kind: 'proxy' },
      { url: 'https://p.example/c', kind: 'canonical' },
    ]);
  });

  it('when content carries rel=canonical on a link or an anchor, then those addresses are found, resolved against the entry', () => {
    expect(
      canonicalLinksIn(
        '<link rel="canonical" href="/a/1"><p>x</p><a rel=\'nofollow canonical\' href=\'https://p.example/b?x=1&amp;y=2\'>b</a><a href="/c">c</a>',
        'https://p.example/post',
      ),
    ).toEqual(['https://p.example/a/1', 'https://p.example/b?x=1&y=2']);
    expect(canonicalLinksIn('<link rel="canonical" href="javascript:alert(1)">', null)).toEqual([]);
  });

  it('when an RSS title is CDATA with markup and numeric entities, then it is parsed as HTML to be reduced to text; a plain Atom text title stays literal', () => {
    const rss = parseFeed(
      `<rss version="2.0"><channel><title>c</title><item><title><![CDATA[Flat &#x0024;4300 1930ft<sup>2</sup>]]></title><link>https://c.example/1</link></item></channel></rss>`,
    );
    expect(rss.entries[0]).toMatchObject({ title: 'Flat &#x0024;4300 1930ft<sup>2</sup>', titleIsHtml: true, link: 'https://c.example/1' });
    const atom = parseFeed(
      `<feed xmlns="http://www.w3.org/2005/Atom"><title>f</title><entry><id>1</id><title type="text">a &lt;b&gt; tag</title><link href="https://a.example/1"/></entry></feed>`,
    );
    expect(atom.entries[0]).toMatchObject({ title: 'a <b> tag', titleIsHtml: false });
  });
});
