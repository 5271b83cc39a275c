import { createHash } from 'node:crypto';
import { decodeFeed, FeedParseError, parseFeed } from '../../src/modules/feeds';
import { excerptOf, excerptOfSanitised, htmlToText, sanitiseContent } from '../../src/modules/items/sanitise';
import { rss, rssItem } from '../support/feed-server';

describe('feed parsing', () => {
  it('when an RSS 2.0 feed has CDATA content, dc fields and rights, then every entry carries them with its raw XML', () => {
    const entry = rssItem({
      guid: 'post-1',
      link: '/2026/01/first',
      title: 'First &amp; foremost',
      pubDate: 'Tue, 03 Mar 2026 10:00:00 GMT',
      description: '&lt;p&gt;Short&lt;/p&gt;',
      encoded: '<p>Full <b>text</b> with ]] brackets</p>',
      extra: '<dc:creator>Ada Writer</dc:creator><dc:rights>All rights reserved</dc:rights>',
    });
    const xml = rss(
      [entry],
      '<copyright>© Test Publisher</copyright><creativeCommons:license>https://creativecommons.org/licenses/by/4.0/</creativeCommons:license>',
    );
    const feed = parseFeed(xml, 'https://publisher.example/feed.xml');
    expect(feed.format).toBe('rss');
    expect(feed.entries).toHaveLength(1);
    const e = feed.entries[0];
    expect(e).toMatchObject({
      guid: 'post-1',
      link: 'https://publisher.example/2026/01/first',
      title: 'First & foremost',
      author: 'Ada Writer',
      contentHtml: '<p>Full <b>text</b> with ]] brackets</p>',
      rights: {
        copyright: '© Test Publisher',
        dcRights: 'All rights reserved',
        creativeCommons: 'https://creativecommons.org/licenses/by/4.0/',
      },
    });
    expect(e.publishedAt?.toISOString()).toBe('2026-03-03T10:00:00.000Z');
    expect(e.raw).toBe(entry);
    expect(createHash('sha256').update(e.raw).digest('hex')).toHaveLength(64);
  });

  it('when an Atom feed has html, xhtml and text constructs, then content, link, id and rights are read', () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/">
  <title>Atom blog</title><rights>CC BY 4.0</rights>
  <link rel="license" href="https://creativecommons.org/licenses/by/4.0/"/>
  <author><name>Feed Author</name></author>
  <entry>
    <id>tag:blog.example,2026:1</id>
    <title type="html">Tom &amp;amp; &lt;i&gt;Jerry&lt;/i&gt;</title>
    <link rel="alternate" href="posts/one"/>
    <published>2026-02-01T12:00:00Z</published>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <a href="/x">x</a></p></div></content>
  </entry>
  <entry>
    <id>tag:blog.example,2026:2</id><title>Plain</title><link href="https://blog.example/posts/two"/>
    <updated>2026-02-02T12:00:00Z</updated><summary>Line one &lt;not a tag&gt;</summary>
    <rights type="html">&lt;b&gt;Mine&lt;/b&gt;</rights>
  </entry>
</feed>`;
    const feed = parseFeed(xml, 'https://blog.example/atom.xml');
    expect(feed.format).toBe('atom');
    const [a, b] = feed.entries;
    expect(a).toMatchObject({
      guid: 'tag:blog.example,2026:1',
      link: 'https://blog.example/posts/one',
      titleIsHtml: true,
      author: 'Feed Author',
    });
    expect(a.contentHtml).toContain('<p>Hello <a href="/x">x</a></p>');
    expect(a.rights).toEqual({ atomRights: 'CC BY 4.0', creativeCommons: 'https://creativecommons.org/licenses/by/4.0/' });
    expect(b.contentHtml).toBe('Line one &lt;not a tag&gt;');
    expect(b.rights.atomRights).toBe('Mine');
    expect(b.publishedAt?.toISOString()).toBe('2026-02-02T12:00:00.000Z');
  });

  it.each([
    ['not XML at all', '{"json": true}', /not XML/],
    ['an HTML page', '<!doctype html><html><body><p>hi</p></body></html>', /not an RSS or Atom feed/],
    ['a truncated feed', rss([rssItem({ guid: 'a', link: 'https://p.example/a', title: 'A' })]).slice(0, 300), /never closed|truncated/],
    ['an RSS without channel', '<rss version="2.0"></rss>', /without a <channel>/],
  ])('when the document is %s, then parsing fails with a reason', (_name, xml, reason) => {
    expect(() => parseFeed(xml)).toThrow(FeedParseError);
    expect(() => parseFeed(xml)).toThrow(reason);
  });

  it('when a feed declares its own encoding, then it is decoded with it', () => {
    const bytes = Buffer.concat([
      Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><title>'),
      Buffer.from([0xe9]),
      Buffer.from('</title></channel></rss>'),
    ]);
    expect(parseFeed(decodeFeed(bytes)).title).toBe('é');
  });

  it('when a feed declares entities in a DTD, then they are not expanded', () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "AAAAAAAAAA"><!ENTITY b "&a;&a;&a;&a;">]><rss><channel><title>&b;</title></channel></rss>`;
    expect(parseFeed(xml).title.length).toBeLessThan(20);
  });
});

describe('content sanitising', () => {
  it('when content has scripts, event handlers, javascript: URLs and foreign iframes, then none survive', () => {
    const html = `<p onclick="steal()">Hi<script>alert(1)</script><img src="x.png" onerror="alert(2)"><a href="javascript:alert(3)">j</a>
      <iframe src="https://evil.example/x"></iframe><iframe src="https://www.youtube-nocookie.com/embed/abc"></iframe>
      <style>body{}</style><svg onload="alert(4)"></svg><a href="data:text/html,x">d</a><object data="x"></object></p>`;
    const out = sanitiseContent(html, 'https://publisher.example/posts/1');
    expect(out).not.toMatch(/script|onclick|onerror|onload|javascript:|evil\.example|<style|<svg|data:|<object/i);
    expect(out).toContain('<iframe src="https://www.youtube-nocookie.com/embed/abc"');
    expect(out).toContain('<img src="https://publisher.example/posts/x.png"');
  });

  it('when content has relative links, then they resolve against the original URL', () => {
    const out = sanitiseContent('<a href="../about">About</a> <a href="#n">note</a>', 'https://publisher.example/posts/1');
    expect(out).toContain('href="https://publisher.example/about"');
    expect(out).toContain('href="https://publisher.example/posts/1#n"');
    expect(out).toContain('rel="nofollow noopener ugc"');
  });

  it('when HTML becomes plain text, then tags go, entities are decoded and excerpts cut at a word', () => {
    expect(htmlToText('<p>Tom &amp; <i>Jerry</i></p><script>x()</script>')).toBe('Tom & Jerry');
    const ex = excerptOf(`<p>${'word '.repeat(100)}</p>`, 50);
    expect(ex.length).toBeLessThanOrEqual(50);
    expect(ex.endsWith('…')).toBe(true);
    // From sanitised HTML the excerpt is read without a second parse; a quoted ">" is no tag end.
    const clean = sanitiseContent('<p title="a>b">Tom &amp; <a title="x>y" href="/q">Jerry</a> 1 &lt; 2</p>', 'https://e.example/');
    expect(excerptOfSanitised(clean)).toBe('Tom & Jerry 1 < 2');
  });
});
