import request from 'supertest';
import { createTestContext, TestContext } from '../support/context';

describe('GET /api/docs: the OpenAPI document as a page', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext();
  });
  afterAll(() => t.close());

  it('when opened, then the page loads its renderer and start-up code from this site only, with no inline script or style', async () => {
    const res = await request(t.app).get('/api/docs').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    const html = res.text;
    const srcs = [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(srcs).toEqual(
      expect.arrayContaining(['/static/swagger-ui/swagger-ui.css', '/static/swagger-ui/swagger-ui-bundle.js', '/static/api-docs.js']),
    );
    for (const s of srcs) expect(s).toMatch(/^\//); // nothing from another origin (no CDN)
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file
    expect(html).not.toMatch(/\sstyle="/);
    expect(html).toContain('data-url="/api/v1/openapi.json"');
  });

  it('when the page asks for its assets, then the renderer and the document it draws are served', async () => {
    const css = await request(t.app).get('/static/swagger-ui/swagger-ui.css').expect(200);
    expect(css.headers['content-type']).toMatch(/text\/css/);
    const js = await request(t.app).get('/static/swagger-ui/swagger-ui-bundle.js').expect(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.text).toContain('SwaggerUIBundle');
    const init = await request(t.app).get('/static/api-docs.js').expect(200);
    expect(init.text).toContain('SwaggerUIBundle');
    const doc = await request(t.app).get('/api/v1/openapi.json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
  });

  it('when another file of the renderer package is asked for, then it is not served', async () => {
    await request(t.app).get('/static/swagger-ui/index.html').expect(404);
    await request(t.app).get('/static/swagger-ui/swagger-initializer.js').expect(404);
    await request(t.app).get('/static/swagger-ui/../package.json').expect(404);
  });
});
