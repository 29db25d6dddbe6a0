// Builds dist/ once, for the tests that start the service as its own process (exit codes,
// signals, the native uWS check, a real Prometheus scrape). Type errors are `npm run typecheck`'s
// to report (npm test runs it first); tsc still emits JavaScript for them, which is all we need here.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

module.exports = async () => {
  const root = path.join(__dirname, '..', '..');
  const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (build.error || !existsSync(path.join(root, 'dist', 'container', 'main.js'))) {
    throw new Error(`building dist/ failed:\n${build.stdout}${build.stderr}${build.error ?? ''}`);
  }
};
