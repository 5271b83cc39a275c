import { ConfigError, loadConfig } from '../../src/config';
import { purgeTargets } from '../../src/modules/edge/purge-targets';

describe('edge caching settings (SPEC §16)', () => {
  it('when nothing is set, then pages may be kept 60 s by browsers and a day by shared caches, and no purge target is configured', () => {
    const c = loadConfig({});
    expect(c.edge).toMatchObject({ publicMaxAge: 60, edgeMaxAge: 86_400, purgeUrls: [], purgeMethod: 'PURGE', maxAttempts: 20 });
    expect(c.edge.fastly).toBeUndefined();
    expect(c.edge.cloudflare).toBeUndefined();
    expect(purgeTargets(c)).toEqual([]);
  });

  it('when every target is set, then one target each, named without secrets or credentials', () => {
    const c = loadConfig({
      PURGE_URLS: 'http://varnish-1:6081/, http://user:secret@varnish-2/',
      FASTLY_SERVICE_ID: 'abc123',
      FASTLY_API_TOKEN: 'token-token',
      CLOUDFLARE_ZONE_ID: '0123456789abcdef0123456789abcdef',
      CLOUDFLARE_API_TOKEN: 'cf-token-token',
    });
    expect(purgeTargets(c).map((t) => t.name)).toEqual([
      'varnish:http://varnish-1:6081/',
      'varnish:http://varnish-2/',
      'fastly',
      'cloudflare',
    ]);
    expect(c.edge.fastly?.apiUrl).toBe('https://api.fastly.com');
    expect(c.edge.cloudflare?.apiUrl).toBe('https://api.cloudflare.com/client/v4');
  });

  it('when a key is bad or a pair is half set, then every problem is named and no token is echoed', () => {
    let err: unknown;
    try {
      loadConfig({
        PUBLIC_MAX_AGE: '-1',
        EDGE_MAX_AGE: 'day',
        PURGE_URLS: 'varnish:80',
        PURGE_METHOD: 'DELETE',
        FASTLY_API_TOKEN: 'secret-token-1',
        CLOUDFLARE_ZONE_ID: 'nope',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    for (const key of [
      'PUBLIC_MAX_AGE',
      'EDGE_MAX_AGE',
      'PURGE_URLS',
      'PURGE_METHOD',
      'CLOUDFLARE_ZONE_ID',
      'FASTLY_SERVICE_ID, FASTLY_API_TOKEN',
      'CLOUDFLARE_ZONE_ID, CLOUDFLARE_API_TOKEN',
    ]) {
      expect([key, problems.some((p) => p.startsWith(key))]).toEqual([key, true]);
    }
    expect(problems.join('\n')).not.toContain('secret-token-1');
  });
});
