import { ConfigError, loadConfig } from '../../src/config';

describe('configuration', () => {
  it('when nothing is set, then the defaults describe the embedded setup', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.dataDir).toBe('./data');
    expect(c.databaseUrl).toBeUndefined();
    expect(c.smtpUrl).toBeUndefined();
    expect(c.publicBaseUrl).toBe('http://localhost:3000');
    expect(c.policy).toMatchObject({ slaHours: 48, strikeLimit: 3, needsInfoDays: 14, restoreBusinessDays: 10, feedIntervalMinutes: 30 });
    expect(c.secureCookies).toBe(false);
    expect(Object.isFrozen(c.policy)).toBe(true);
  });

  it('when several keys are bad, then one error names every one of them', () => {
    let err: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        SLA_HOURS: '-3',
        DATABASE_URL: 'mysql://x',
        RESTORE_BUSINESS_DAYS: '20',
        REQUIRE_EMAIL_VERIFICATION: 'maybe',
        SMTP_URL: 'http://mail',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    for (const key of ['PORT', 'SLA_HOURS', 'DATABASE_URL', 'RESTORE_BUSINESS_DAYS', 'REQUIRE_EMAIL_VERIFICATION', 'SMTP_URL']) {
      expect(problems.some((p) => p.startsWith(`${key}=`))).toBe(true);
    }
    expect(problems).toHaveLength(6);
  });

  it('when a secret-bearing key is bad, then its value is not echoed', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db' })).toThrow(/DATABASE_URL=\(hidden\)/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db' })).not.toThrow(/hunter2/);
  });

  it('when production uses an external database without SESSION_SECRET, then the start is refused', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u:p@db/takedown' })).toThrow(/SESSION_SECRET/);
  });

  it('when the public base URL is https, then cookies are marked Secure', () => {
    const c = loadConfig({ PUBLIC_BASE_URL: 'https://desk.example.org/', SESSION_SECRET: 'x'.repeat(40) });
    expect(c.publicBaseUrl).toBe('https://desk.example.org');
    expect(c.secureCookies).toBe(true);
  });

  it('when production has an https address but does not trust its TLS proxy, then the start is refused naming TRUST_PROXY', () => {
    const env = {
      NODE_ENV: 'production',
      PUBLIC_BASE_URL: 'https://desk.example.org',
      SESSION_SECRET: 'x'.repeat(40),
      DATABASE_URL: 'postgres://u:p@db/takedown',
    };
    expect(() => loadConfig(env)).toThrow(/TRUST_PROXY: must be true when PUBLIC_BASE_URL is https/);
    expect(loadConfig({ ...env, TRUST_PROXY: 'true' }).trustProxy).toBe(true);
  });

  it('when values are given, then they are typed', () => {
    const c = loadConfig({ PORT: '8080', ALLOW_PRIVATE_FEEDS: 'true', STRIKE_LIMIT: '5', SMTP_URL: 'smtps://u:p@mail.example.org:465' });
    expect(c.port).toBe(8080);
    expect(c.policy.allowPrivateFeeds).toBe(true);
    expect(c.policy.strikeLimit).toBe(5);
    expect(c.smtpUrl).toBe('smtps://u:p@mail.example.org:465');
  });

  it('when HOST is set, then the server listens there; otherwise on every interface; a URL or list is refused', () => {
    expect(loadConfig({}).host).toBeUndefined();
    expect(loadConfig({ HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '::1' }).host).toBe('::1');
    expect(loadConfig({ HOST: 'app.internal' }).host).toBe('app.internal');
    expect(() => loadConfig({ HOST: 'http://127.0.0.1' })).toThrow(/HOST=/);
    expect(() => loadConfig({ HOST: '127.0.0.1 10.0.0.1' })).toThrow(/HOST=/);
  });

  it('when MAIL_RETRY_BASE_SECONDS is set, then the mail worker retries after that, else after a minute', () => {
    expect(loadConfig({}).policy.mailRetryBaseSeconds).toBe(60);
    expect(loadConfig({ MAIL_RETRY_BASE_SECONDS: '2' }).policy.mailRetryBaseSeconds).toBe(2);
    expect(() => loadConfig({ MAIL_RETRY_BASE_SECONDS: '0' })).toThrow(/MAIL_RETRY_BASE_SECONDS=/);
  });

  it('when the HTTP limits and the claim lease are not set, then the defaults are 10 s / 30 s / 5 s, 256 connections per address, a 30 s lease; bad ones are refused', () => {
    const c = loadConfig({});
    expect(c.http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxConnectionsPerAddress: 256,
    });
    expect(c.claimLeaseSeconds).toBe(30);
    expect(
      loadConfig({ HTTP_HEADERS_TIMEOUT_SECONDS: '5', HTTP_MAX_CONNECTIONS_PER_ADDRESS: '0', CLAIM_LEASE_SECONDS: '12' }),
    ).toMatchObject({
      http: { headersTimeoutMs: 5_000, maxConnectionsPerAddress: 0 },
      claimLeaseSeconds: 12,
    });
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_SECONDS: '40' })).toThrow(
      /HTTP_HEADERS_TIMEOUT_SECONDS: must not be longer than HTTP_REQUEST_TIMEOUT_SECONDS/,
    );
    expect(() => loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '0', CLAIM_LEASE_SECONDS: 'soon' })).toThrow(
      /HTTP_KEEP_ALIVE_TIMEOUT_SECONDS=0[\s\S]*CLAIM_LEASE_SECONDS="soon"/,
    );
  });
});
