import request from 'supertest';
import { createTestContext, TestContext } from '../support/context';

describe('operations: health, metrics, errors, headers', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
  });
  afterAll(() => t.close());

  it('when probed, then /healthz and /readyz answer 200 and set no cookie', async () => {
    const h = await request(t.app).get('/healthz').expect(200);
    expect(h.body).toEqual({ status: 'ok' });
    expect(h.headers['set-cookie']).toBeUndefined();
    const r = await request(t.app).get('/readyz').expect(200);
    expect(r.body).toMatchObject({ database: 'ok', migrations: 'applied' });
  });

  it('when the server is still starting its listeners, then /readyz answers 503 until it is done', async () => {
    t.app.locals.starting = true;
    try {
      const r = await request(t.app).get('/readyz').expect(503);
      expect(r.body).toEqual({ status: 'not ready', starting: true });
      expect(r.headers['cache-control']).toBe('no-store');
    } finally {
      t.app.locals.starting = false;
    }
    await request(t.app).get('/readyz').expect(200);
  });

  it('when scraped, then /metrics is Prometheus text with request metrics', async () => {
    await request(t.app).get('/healthz');
    const m = await request(t.app).get('/metrics').expect(200);
    expect(m.headers['content-type']).toMatch(/text\/plain/);
    expect(m.text).toMatch(/takedown_http_request_duration_seconds_bucket\{.*route="\/healthz"/);
    expect(m.text).toContain('takedown_process_resident_memory_bytes');
  });

  it('when a page does not exist, then 404 as a page for browsers and as errors[] for JSON clients', async () => {
    const page = await request(t.app).get('/no/such/page').set('Accept', 'text/html').expect(404);
    expect(page.text).toContain('There is nothing at this address.');
    const api = await request(t.app).get('/api/v1/nothing').expect(404);
    expect(api.body.errors[0]).toHaveProperty('message');
  });

  it('when the body is malformed or too large, then 400 / 413 without a stack trace', async () => {
    const bad = await request(t.app).post('/api/v1/me').set('Content-Type', 'application/json').send('{"oops": ');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).not.toMatch(/at \w+ \(|node_modules|SyntaxError/);
    const big = await request(t.app)
      .post('/login')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ x: 'a'.repeat(1_100_000) }));
    expect(big.status).toBe(413);
    expect(big.text).not.toMatch(/node_modules/);
  });

  it('when any page is served, then the security headers are set', async () => {
    const res = await request(t.app).get('/login').expect(200);
    const csp = res.headers['content-security-policy'];
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-request-id']).toMatch(/^[\w.-]{8,64}$/);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/td\.sid=.*HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/i);
  });
});
