/**
 * Fault-injection and scale-out tests (tests/faults): the built app (`dist/src/server.js`, so
 * `npm run test:faults` builds first) runs as child processes that the tests kill, restart and run
 * two at a time, against real PostgreSQL servers and an in-process SMTP sink. One worker: the
 * scenarios start several processes each and the machine has 2 cores.
 * `npm test` (jest.config.js) leaves these out.
 */
/** @type {import('jest').Config} */
const { withDatabase } = require('./jest.shared.js');

module.exports = {
  ...withDatabase,
  roots: ['<rootDir>/tests/faults'],
  testMatch: ['**/*.test.ts'],
  maxWorkers: 1,
  testTimeout: 180000,
};
