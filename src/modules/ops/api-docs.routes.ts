import path from 'node:path';
import { RequestHandler, Router } from 'express';

/**
 * `GET /api/docs`: the OpenAPI document (`/api/v1/openapi.json`) as a page a person can browse, drawn
 * by Swagger UI from the `swagger-ui-dist` package. Its two files are static assets served from
 * node_modules at `/static/swagger-ui/` (no CDN); the start-up code is a static file too
 * (`public/api-docs.js`), because the CSP allows scripts and styles from this origin only, never inline.
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
    res.render('ops/api-docs', { title: 'API reference', stylesheets: ['/static/swagger-ui/swagger-ui.css'] });
  });
  return r;
}

/** Static assets like `/static/*` (mounted before it): only the renderer's two files, nothing else of the package. */
export function apiDocsAssets(): RequestHandler {
  return (req, res, next) => {
    const name = req.path.slice(1);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !Object.hasOwn(ASSETS, name)) return next();
    res.sendFile(ASSETS[name], { maxAge: '1d' });
  };
}
