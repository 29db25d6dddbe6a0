// Brings dist/ up to date for the integration tests that start the service as its own process
// (exit codes, signals, the native uWS check, a real Prometheus scrape). `tsc -b` builds
// incrementally: after `npm run typecheck`, which npm test runs first and which emits dist/ with
// the same configuration, it finds nothing to do and the project is compiled once per run. Type
// errors are typecheck's to report; tsc -b still emits JavaScript for them, which is all we need here.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

module.exports = async () => {
  const root = path.join(__dirname, '..', '..');
  const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
  if (build.error || !existsSync(path.join(root, 'dist', 'src', 'main.js'))) {
    throw new Error(`building dist/ failed:\n${build.stdout}${build.stderr}${build.error ?? ''}`);
  }
};
