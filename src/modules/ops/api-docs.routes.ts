import path from 'node:path';
import { Router } from 'express';

/**
 * `GET /api/docs`: the OpenAPI document (`/api/v1/openapi.json`) as a page a person can browse, drawn
 * by Swagger UI from the `swagger-ui-dist` package. Its two files are served from node_modules by
 * this router (no CDN); the start-up code is a static file (`public/api-docs.js`), because the CSP
 * allows scripts and styles from this origin only, never inline.
 */
const swaggerDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': path.join(swaggerDir, 'swagger-ui.css'),
  'swagger-ui-bundle.js': path.join(swaggerDir, 'swagger-ui-bundle.js'),
};

export function apiDocsRoutes(): Router {
  const r = Router();
  r.get('/api/docs', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.render('ops/api-docs', { title: 'API reference', stylesheets: ['/api/docs/swagger-ui.css'] });
  });
  for (const [name, file] of Object.entries(ASSETS)) {
    r.get(`/api/docs/${name}`, (_req, res) => res.sendFile(file, { maxAge: '1d' }));
  }
  return r;
}
