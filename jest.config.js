/**
 * CommonJS + ts-jest. inversify 7 ships CommonJS, so the whole project compiles to CommonJS and
 * jest runs it without its experimental ESM mode. `isolatedModules` (tsconfig.json) makes ts-jest
 * transpile file by file (fast); type checking is `npm run typecheck`, which `npm test` runs first.
 *
 * Two projects, chosen by folder: `unit` (test/unit: no outside service, no dist/) and
 * `integration` (everything else under test/: real PostgreSQL, Redis, Mosquitto, Prometheus,
 * Chromium, and the built service in dist/, which its global setup brings up to date). A new test
 * file joins a project by the folder it is in. `npm run test:unit` runs the unit project alone.
 *
 * Test files run in parallel, each in its own worker. The integration files mostly wait on
 * services and timers, so one worker more than the cores pays off (jest's default, one less than the
 * cores, is a single worker on a two-core machine). Every file makes its own databases, keys,
 * ports, brokers and client ids, so files never depend on running alone; `--maxWorkers` overrides.
 */
const os = require('node:os');

const shared = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  setupFiles: ['reflect-metadata'],
};

/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: os.availableParallelism() + 1,
  // A global option: jest reads no testTimeout in a project's configuration.
  testTimeout: 60000,
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/test/unit'] },
    {
      ...shared,
      displayName: 'integration',
      roots: ['<rootDir>/test'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/unit/'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
    },
  ],
};
