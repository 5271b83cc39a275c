/**
 * Browser tests (tests/e2e): the real app on a real port, driven through Debian's Chromium
 * (/usr/bin/chromium, or CHROMIUM_PATH). One worker: Chromium is heavy and the machine has 2 cores.
 * `npm test` (jest.config.js) leaves these out, so it stays fast and needs no browser.
 */
/** @type {import('jest').Config} */
const { withDatabase } = require('./jest.shared.js');

module.exports = {
  ...withDatabase,
  roots: ['<rootDir>/tests/e2e'],
  testMatch: ['**/*.e2e.test.ts'],
  maxWorkers: 1,
  testTimeout: 90000,
};
