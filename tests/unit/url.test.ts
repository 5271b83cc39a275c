import fc from 'fast-check';
import { hostOf, isTrackingParam, normaliseDomain, normaliseUrl } from '../../src/shared/url';

describe('normaliseUrl', () => {
  it.each([
    ['HTTP://WWW.Example.COM:80/a/b/?b=2&a=1#frag', 'http://example.com/a/b?a=1&b=2'],
    ['https://example.com:443/', 'https://example.com'],
    ['https://example.com', 'https://example.com'],
    ['https://example.com:8443/x', 'https://example.com:8443/x'],
    ['https://example.com/a?utm_source=x&utm_MEDIUM=y&fbclid=1&gclid=2&mc_cid=3&mc_eid=4&id=7', 'https://example.com/a?id=7'],
    ['https://example.com/%7euser/%41b%2fc', 'https://example.com/~user/Ab%2Fc'],
    ['https://example.com/caf%c3%a9', 'https://example.com/caf%C3%A9'],
    ['https://example.com/café', 'https://example.com/caf%C3%A9'],
    ['https://bücher.example/x', 'https://xn--bcher-kva.example/x'],
    ['https://user:pass@example.com./a/../b//', 'https://example.com/b'],
    ['  https://example.com/a?  ', 'https://example.com/a'],
  ])('when %s is normalised, then it is %s', (input, expected) => {
    expect(normaliseUrl(input)).toBe(expected);
  });

  it.each(['javascript:alert(1)', 'ftp://example.com/x', 'mailto:a@b.c', 'not a url', '', '/relative/only', 'data:text/html,hi'])(
    'when %p is not an absolute http(s) URL, then null',
    (input) => {
      expect(normaliseUrl(input)).toBeNull();
    },
  );

  it('when a base is given, then a relative URL resolves against it', () => {
    expect(normaliseUrl('../c?x=1#y', 'https://www.example.com/a/b/')).toBe('https://example.com/a/c?x=1');
  });

  it('when tracking parameter names are checked, then utm_* and the click ids are tracking, ordinary names are not', () => {
    expect(['utm_campaign', 'UTM_source', 'fbclid', 'gclid', 'mc_eid'].every(isTrackingParam)).toBe(true);
    expect(['id', 'page', 'q', 'utmost'].some(isTrackingParam)).toBe(false);
  });

  it('when a bare domain is typed, then it takes the normal host form', () => {
    expect(normaliseDomain('WWW.Example.org/')).toBe('example.org');
    expect(normaliseDomain('news.example.org')).toBe('news.example.org');
    expect(normaliseDomain('not a domain')).toBeNull();
    expect(hostOf('https://www.Example.org/x')).toBe('example.org');
  });

  it('when any web URL is normalised twice, then the second time changes nothing (idempotent)', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true, validSchemes: ['http', 'https'] }), (url) => {
        const once = normaliseUrl(url);
        expect(once).not.toBeNull();
        expect(normaliseUrl(once!)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });

  it('when arbitrary strings are normalised, then the result is null or a fixed point', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.constantFrom('http://', 'https://', ''), (s, scheme) => {
        const once = normaliseUrl(scheme + s);
        if (once !== null) expect(normaliseUrl(once)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });

  const segment = fc.stringMatching(/^[a-z0-9][a-z0-9._~-]{0,8}$/);
  const param = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), fc.stringMatching(/^[a-z0-9]{0,6}$/));

  it('when a URL is spelled in equivalent ways, then every spelling maps to one form', () => {
    fc.assert(
      fc.property(
        fc.record({
          https: fc.boolean(),
          host: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}\.(com|org|example)$/),
          path: fc.array(segment, { maxLength: 4 }),
          params: fc.uniqueArray(param, { maxLength: 4, selector: (p) => p[0] }),
        }),
        fc.record({
          upperScheme: fc.boolean(),
          upperHost: fc.boolean(),
          www: fc.boolean(),
          defaultPort: fc.boolean(),
          trailingSlash: fc.boolean(),
          fragment: fc.option(fc.stringMatching(/^[a-z0-9]{1,8}$/)),
          tracking: fc.subarray(['utm_source=feed', 'utm_medium=rss', 'fbclid=abc', 'gclid=1', 'mc_cid=x', 'mc_eid=y']),
          shuffle: fc.integer({ min: 0, max: 1000 }),
          escapeChar: fc.boolean(),
          lowerHex: fc.boolean(),
        }),
        (u, v) => {
          const scheme = u.https ? 'https' : 'http';
          const query = u.params.map(([k, val]) => `${k}=${val}`);
          const canonical = `${scheme}://${u.host}/${u.path.join('/')}${query.length ? '?' + query.join('&') : ''}`;
          // A variant: same page, spelled differently.
          let path = u.path.join('/');
          if (v.escapeChar && path.length) {
            const hex = path.charCodeAt(0).toString(16);
            path = `%${v.lowerHex ? hex.toLowerCase() : hex.toUpperCase()}${path.slice(1)}`;
          }
          const params = [...query, ...v.tracking];
          for (let i = params.length - 1; i > 0; i--) {
            const j = (v.shuffle * (i + 7)) % (i + 1);
            [params[i], params[j]] = [params[j], params[i]];
          }
          const host = (v.www ? 'www.' : '') + (v.upperHost ? u.host.toUpperCase() : u.host);
          const port = v.defaultPort ? (u.https ? ':443' : ':80') : '';
          const variant =
            `${v.upperScheme ? scheme.toUpperCase() : scheme}://${host}${port}/${path}${v.trailingSlash ? '/' : ''}` +
            `${params.length ? '?' + params.join('&') : ''}${v.fragment ? '#' + v.fragment : ''}`;
          expect(normaliseUrl(variant)).toBe(normaliseUrl(canonical));
        },
      ),
      { numRuns: 500 },
    );
  });
});
