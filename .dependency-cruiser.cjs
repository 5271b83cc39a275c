/**
 * The module rules of src/ (see CONTRIBUTING.md), checked by `npm run lint:deps` in CI.
 * A module is a folder of src/modules; other code enters it only through its index.ts.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle anywhere in src/, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'module-through-index',
      severity: 'error',
      comment: 'A module uses another only through its index.ts.',
      from: { path: '^src/modules/([^/]+)/', pathNot: '\\.entity\\.ts$' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'entity-relations-only',
      severity: 'error',
      comment:
        "An entity may name another module's entity class for a TypeORM relation (notice_targets → items, counter_notices → notices); nothing else.",
      from: { path: '^src/modules/([^/]+)/.+\\.entity\\.ts$' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$', '\\.entity\\.ts$'] },
    },
    {
      name: 'outside-through-index',
      severity: 'error',
      comment:
        'Code outside the modules uses them through index.ts; app.ts mounts their routers (*.routes.ts, *.api.ts) and db/entities.ts lists their entities.',
      from: { path: '^src/(?!modules/)', pathNot: ['^src/app\\.ts$', '^src/db/entities\\.ts$'] },
      to: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/[^/]+/index\\.ts$' },
    },
    {
      name: 'app-mounts-routers-only',
      severity: 'error',
      from: { path: '^src/app\\.ts$' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/[^/]+/index\\.ts$', '\\.(routes|api)\\.ts$'] },
    },
    {
      name: 'entities-list-entities-only',
      severity: 'error',
      from: { path: '^src/db/entities\\.ts$' },
      to: { path: '^src/modules/', pathNot: '\\.entity\\.ts$' },
    },
    {
      name: 'shared-imports-no-module',
      severity: 'error',
      comment: 'src/shared is below every module: it imports none of them, nor the HTTP layer or the composition root.',
      from: { path: '^src/shared/' },
      to: { path: '^src/(modules|http|demo)/|^src/(app|container|server|cli)\\.ts$' },
    },
    {
      name: 'db-imports-no-module',
      severity: 'error',
      from: { path: '^src/db/', pathNot: '^src/db/entities\\.ts$' },
      to: { path: '^src/(modules|http|demo)/' },
    },
    {
      name: 'domain-not-http',
      severity: 'error',
      comment: 'Only routers use the HTTP layer (guards, actorFrom); use cases never see a request.',
      from: { path: '^src/modules/', pathNot: '\\.(routes|api)\\.ts$' },
      to: { path: '^src/http/' },
    },
    {
      name: 'no-composition-root-in-modules',
      severity: 'error',
      comment: 'Modules take their collaborators as AppDeps (src/deps.ts); they never import the container, app or server.',
      from: { path: '^src/(modules|http|shared|db)/' },
      to: { path: '^src/(app|container|server|cli)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
