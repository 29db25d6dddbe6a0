/**
 * CommonJS + ts-jest. inversify 7 ships CommonJS, so the whole project compiles to CommonJS and
 * jest runs it without its experimental ESM mode. `isolatedModules` (tsconfig.json) makes ts-jest transpile file
 * by file (fast); type checking is `npm run typecheck`, which `npm test` runs first.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  globalSetup: '<rootDir>/test/support/global-setup.js',
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
};
