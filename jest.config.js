/**
 * `npm test`: two projects in one run. `unit` (tests/unit) is pure code and needs no database, so
 * `npm run test:unit` runs it alone in seconds; `integration` (tests/integration and tests/security)
 * starts one embedded PostgreSQL in its global setup. Browser and fault tests have their own configs.
 */
const { common, withDatabase } = require('./jest.shared.js');

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
