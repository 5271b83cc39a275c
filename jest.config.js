/**
 * `npm test`: two projects in one run. `unit` (tests/unit) is pure code and needs no database, so
 * `npm run test:unit` runs it alone in seconds; `integration` (tests/integration and tests/security)
 * starts one embedded PostgreSQL in its global setup. Browser and fault tests have their own configs.
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

/** What every test project shares. */
const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['reflect-metadata'],
};

/** Projects whose tests use the run's PostgreSQL (a template database each test file copies). */
const withDatabase = {
  ...common,
  globalSetup: '<rootDir>/tests/support/global-setup.ts',
  globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
};

/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: 2,
  testTimeout: 30000,
  verbose: false,
  projects: [
    { ...common, displayName: 'unit', roots: ['<rootDir>/tests/unit'], testMatch: ['**/*.test.ts'] },
    {
      ...withDatabase,
      displayName: 'integration',
      roots: ['<rootDir>/tests/integration', '<rootDir>/tests/security'],
      testMatch: ['**/*.test.ts'],
    },
  ],
};
module.exports.common = common;
module.exports.withDatabase = withDatabase;
