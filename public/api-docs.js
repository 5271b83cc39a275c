// Draws /api/docs from the OpenAPI document with Swagger UI (served from node_modules by the app).
// A static file, not an inline script: the CSP allows scripts from this origin only.
(function () {
  var el = document.getElementById('swagger-ui');
  if (!el || typeof window.SwaggerUIBundle !== 'function') return;
  window.SwaggerUIBundle({
    url: el.getAttribute('data-url'),
    domNode: el,
    deepLinking: true,
    // No badge fetched from validator.swagger.io: the page talks to this site only.
    validatorUrl: null,
    defaultModelsExpandDepth: 0,
  });
})();
